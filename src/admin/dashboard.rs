//! The dashboard at `/`: one static HTML page, a stylesheet and a script (no build chain).
//! The page holds no data; its script calls `/api` with the token the operator enters once,
//! kept in the tab's `sessionStorage`. A strict Content-Security-Policy allows only this
//! origin's script and the API, and the script writes API values with `textContent` only.

use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};

const HTML: &str = include_str!("assets/dashboard.html");
const JS: &str = include_str!("assets/dashboard.js");
const CSS: &str = include_str!("assets/dashboard.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub(crate) async fn page() -> Response {
    asset("text/html; charset=utf-8", HTML)
}

pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

pub(crate) async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", CSS)
}
