//! Bearer-token authentication for `/api` (tower-http's bearer layer is deprecated, and this
//! is a dozen lines). The token is kept only as its SHA-256 digest, and a presented token is
//! compared digest to digest in constant time, so neither its bytes nor its length leak
//! through timing.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AdminState;
use super::error::ApiError;

/// The digest a configured token is stored as.
pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `a == b` without an early exit.
pub(crate) fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Lets a request through when no token is configured (loopback only, see
/// [`super::check_listen`]) or when it carries `Authorization: Bearer <token>`.
pub(crate) async fn require_token(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.token_digest.as_deref() else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match presented {
        Some(token) if !token.is_empty() && constant_time_eq(&digest(token), expected) => next.run(request).await,
        _ => ApiError::unauthorized().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_digests() {
        assert!(constant_time_eq(&digest("secret"), &digest("secret")));
        assert!(!constant_time_eq(&digest("secret"), &digest("secreT")));
        assert!(!constant_time_eq(&digest("secret"), &digest("")));
    }
}
