//! `Application`: builds the router with its layers on a listener it is given, exposes the
//! port, and serves until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth_limit::{AuthLimitConfig, AuthLimiter, limit_failed_auth};
use crate::cors::{InvalidOrigin, parse_origin};
use crate::error::{envelope_bare_errors, fill_request_id};
use crate::routes;

/// Whether the application can serve (the database answers).
#[async_trait::async_trait]
pub trait ReadyCheck: Send + Sync {
    /// `Ok(())` when ready, or a short reason.
    async fn ready(&self) -> Result<(), String>;
}

/// Always ready (for tests and for surfaces without a database).
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysReady;

#[async_trait::async_trait]
impl ReadyCheck for AlwaysReady {
    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Limits and switches of the HTTP layer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Largest accepted request body (default 2 MiB; Notion itself takes 500 KB).
    pub body_limit: usize,
    /// Longest a request may take, Notion retries included (default 120 s).
    pub request_timeout: Duration,
    /// The failed-authentication limit per client address (see [`crate::auth_limit`]).
    pub auth_limit: AuthLimitConfig,
    /// Origins allowed by CORS; empty (the default) sends no CORS header at all.
    pub cors_origins: Vec<HeaderValue>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(120),
            auth_limit: AuthLimitConfig::default(),
            cors_origins: Vec::new(),
        }
    }
}

impl ServerOptions {
    /// Sets the body limit.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets the longest a request may take.
    pub fn request_timeout(mut self, limit: Duration) -> Self {
        self.request_timeout = limit;
        self
    }

    /// Failed authentications allowed per client address and minute (`0`: no limit).
    pub fn failed_auth_per_minute(mut self, n: u32) -> Self {
        self.auth_limit.failed_auth_per_minute = n;
        self
    }

    /// Takes the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub fn trust_forwarded_for(mut self, yes: bool) -> Self {
        self.auth_limit.trust_forwarded_for = yes;
        self
    }

    /// The CORS allow-list (exact origins, `scheme://host[:port]`; never `*`).
    pub fn cors_origins<I, S>(mut self, origins: I) -> Result<Self, InvalidOrigin>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.cors_origins = origins
            .into_iter()
            .map(|o| parse_origin(o.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }
}

/// A built application, bound to its listener.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish()
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the API routes with the common routes and every layer.
pub fn router(api: Router, ready: Arc<dyn ReadyCheck>, options: &ServerOptions) -> Router {
    let mut app = Router::new()
        .merge(routes::common(ready))
        .merge(api)
        .layer(DefaultBodyLimit::max(options.body_limit));
    if let Some(limiter) = AuthLimiter::new(options.auth_limit) {
        app = app.layer(middleware::from_fn_with_state(limiter, limit_failed_auth));
    }
    // The time limit sits inside the metrics and the envelope, so that a request cut off is
    // counted (status 504) and answered `{"error": {"code": "timeout", …}}` like any other.
    let app = app
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            options.request_timeout,
        ))
        .layer(middleware::from_fn(routes::metrics::track))
        .layer(middleware::from_fn(envelope_bare_errors))
        .layer(middleware::from_fn(fill_request_id))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span));
    let app = match crate::cors::layer(&options.cors_origins) {
        Some(cors) => app.layer(cors),
        None => app,
    };
    app.layer(SetSensitiveRequestHeadersLayer::new([
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
    ]))
    .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
    .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}

/// The span of a request: method and path only. The query string is left out on purpose:
/// the OAuth callback carries a code and a state, and no secret goes into a log.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )
}

impl Application {
    /// Builds the application on a bound listener (port 0 in tests).
    pub fn build(listener: TcpListener, router: Router) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            router,
            port,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` completes, then waits for in-flight requests to finish.
    ///
    /// Accepted connections get `TCP_NODELAY`: an answer written in more than one piece (a
    /// compressed or streamed body) must not wait for the client's delayed ACK.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

#[cfg(test)]
mod tests;
