//! The admin HTTP server: what Horizon gives Redis queues, for the database driver.
//!
//! An axum router started inside `cv-worker work --admin-listen ADDR` (off when not set):
//!
//! * `/api/…` — JSON: batches (`Batch::toArray()` shape), failed jobs, queue depths. Every
//!   handler calls the same library functions as the CLI ([`crate::batches`],
//!   [`crate::failed`], the [`Store`]), so no rule has a second implementation.
//! * `/healthz`, `/readyz`, `/metrics` (Prometheus text), `/api/openapi.json`.
//! * `/` — the dashboard ([`dashboard`]): batches with live progress bars, a batch's failed
//!   jobs with a Retry button, queue depths.
//!
//! **Security.** With a token (`CV_WORKER_ADMIN_TOKEN` or `--admin-token`), every `/api`
//! route needs `Authorization: Bearer <token>`, compared in constant time ([`auth`]). Without
//! one, the server refuses to listen anywhere but on a loopback address ([`check_listen`]).
//! Errors are `{"error": "..."}` with a 4xx status (5xx only for database failures, whose
//! details go to the log, never to the client); request bodies are capped at
//! [`BODY_LIMIT`] bytes and unknown JSON fields or query parameters are rejected.

mod auth;
mod dashboard;
mod error;
pub mod metrics;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

pub use error::ApiError;

use crate::store::Store;

/// The largest request body accepted (the only bodies are small JSON objects).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The OpenAPI document, kept in the repository as `docs/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

/// A configuration the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(
        "refusing to serve the admin API on {0} without a token: set CV_WORKER_ADMIN_TOKEN \
         (or --admin-token), or listen on a loopback address such as 127.0.0.1:9090"
    )]
    NoToken(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// What the handlers share.
#[derive(Clone)]
pub struct AdminState {
    pub(crate) store: Arc<dyn Store>,
    /// SHA-256 of the token; `None`: no authentication (loopback only).
    pub(crate) token_digest: Option<Arc<[u8; 32]>>,
    /// The queues the worker works, listed first by `/api/queues` even when empty.
    pub(crate) queues: Arc<[String]>,
    pub(crate) metrics: Option<::metrics_exporter_prometheus::PrometheusHandle>,
}

impl AdminState {
    /// `token`: the bearer token (empty counts as none). `queues`: the worker's queues.
    pub fn new(store: Arc<dyn Store>, token: Option<&str>, queues: &[String]) -> AdminState {
        AdminState {
            store,
            token_digest: token.filter(|t| !t.is_empty()).map(|t| Arc::new(auth::digest(t))),
            queues: queues.iter().cloned().collect(),
            metrics: None,
        }
    }

    /// Serves `/metrics` from this Prometheus recorder (see [`metrics::install`]).
    pub fn with_metrics(mut self, handle: ::metrics_exporter_prometheus::PrometheusHandle) -> AdminState {
        self.metrics = Some(handle);
        self
    }
}

/// Refuses a non-loopback address without a token.
pub fn check_listen(addr: SocketAddr, token: Option<&str>) -> Result<(), AdminError> {
    if addr.ip().is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(AdminError::NoToken(addr))
    }
}

/// The whole application: `/api` behind the token, health and metrics outside it.
pub fn router(state: AdminState) -> Router {
    let api = Router::new()
        .route("/batches", get(routes::list_batches))
        .route("/batches/{id}", get(routes::show_batch))
        .route("/batches/{id}/cancel", post(routes::cancel_batch))
        .route("/batches/{id}/retry", post(routes::retry_batch))
        .route("/failed-jobs", get(routes::list_failed))
        .route("/failed-jobs/retry", post(routes::retry_many))
        .route("/failed-jobs/{uuid}", get(routes::show_failed).delete(routes::forget_failed))
        .route("/failed-jobs/{uuid}/retry", post(routes::retry_failed))
        .route("/queues", get(routes::list_queues))
        .route("/openapi.json", get(openapi))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .route("/", get(dashboard::page))
        .route("/dashboard.js", get(dashboard::script))
        .route("/dashboard.css", get(dashboard::stylesheet))
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(metrics::render))
        .nest("/api", api)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

/// Binds `addr` after [`check_listen`].
pub async fn bind(addr: SocketAddr, token: Option<&str>) -> Result<tokio::net::TcpListener, AdminError> {
    check_listen(addr, token)?;
    tokio::net::TcpListener::bind(addr).await.map_err(|source| AdminError::Bind { addr, source })
}

/// The server running inside `cv-worker work`.
pub struct Running {
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish.
    pub async fn stop(self) {
        self.stop.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "admin API server failed"),
            Err(e) => tracing::error!(error = %e, "admin API task ended abnormally"),
        }
    }
}

/// Checks, binds and starts the server with the Prometheus recorder installed (the worker's
/// metrics are recorded from then on).
pub async fn start(
    addr: SocketAddr,
    token: Option<&str>,
    store: Arc<dyn Store>,
    queues: &[String],
) -> Result<Running, AdminError> {
    let listener = bind(addr, token).await?;
    let addr = listener.local_addr().unwrap_or(addr);
    let mut state = AdminState::new(store, token, queues);
    if let Some(handle) = metrics::install() {
        state = state.with_metrics(handle);
    }
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(listener, state, stop.clone()));
    Ok(Running { addr, stop, task })
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AdminState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        if state.token_digest.is_none() {
            tracing::warn!(%addr, "admin API listening without a token (loopback only)");
        } else {
            tracing::info!(%addr, "admin API listening");
        }
    }
    if let Some(handle) = state.metrics.clone() {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => handle.run_upkeep(),
                    _ = stop.cancelled() => break,
                }
            }
        });
    }
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown.cancelled_owned()).await
}
