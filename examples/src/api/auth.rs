//! Who may call the API, and the audit log of every call that changes something.
//!
//! With a token configured, every `/api/` call must carry `Authorization: Bearer TOKEN`
//! (compared in constant time); the console's static pages need none (they hold no data, and
//! ask for the token when the API answers 401). `dts serve` refuses to listen on an address
//! other than loopback without a token.
//!
//! Every call that is not a GET is logged at INFO under the target `dts::audit` once answered:
//! who (peer address, and whether a token was presented), what (method and path) and the
//! status. Bodies are never logged (a posted task may hold a password); the handlers log what
//! they did in their own audit lines.

use super::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dts_core::config::Secret;
use std::net::SocketAddr;
use std::sync::Arc;

/// The API's access rule: an optional bearer token.
#[derive(Clone, Default)]
pub struct ApiAuth {
    token: Option<Arc<Secret>>,
}

impl std::fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAuth")
            .field(
                "token",
                &self.token.as_ref().map(|_| dts_core::config::REDACTED),
            )
            .finish()
    }
}

impl ApiAuth {
    /// No token: every caller that can reach the address may call (loopback only).
    pub fn open() -> Self {
        Self { token: None }
    }

    /// Callers must present `token` as a bearer token.
    pub fn bearer(token: Secret) -> Self {
        Self {
            token: Some(Arc::new(token)),
        }
    }

    /// Whether a token is required.
    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    fn admits(&self, header: Option<&str>) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        constant_time_eq(given.trim().as_bytes(), expected.expose().as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: the bearer check on `/api/` paths, and the audit line of mutating calls.
pub async fn guard(State(auth): State<ApiAuth>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "host".into());
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let token = if auth.requires_token() {
        "bearer"
    } else {
        "none"
    };
    if path.starts_with("/api/") && !auth.admits(header.as_deref()) {
        if mutating {
            tracing::warn!(target: "dts::audit", who = %peer, %method, %path, "refused: no valid bearer token");
        }
        return ApiError::unauthorized().into_response();
    }
    let response = next.run(request).await;
    if mutating {
        tracing::info!(
            target: "dts::audit",
            who = %peer,
            auth = token,
            %method,
            %path,
            status = response.status().as_u16(),
            "api call"
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let open = ApiAuth::open();
        assert!(open.admits(None));
        let auth = ApiAuth::bearer(Secret::new("s3cret"));
        assert!(!auth.admits(None));
        assert!(!auth.admits(Some("Bearer wrong!")));
        assert!(!auth.admits(Some("s3cret")));
        assert!(auth.admits(Some("Bearer s3cret")));
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
