//! `/mcp`: MCP over streamable HTTP. Every request must carry `Authorization: Bearer <key>`;
//! the key is authenticated per request (through the gate's cache) before rmcp sees the
//! request, and the caller rides in the request's extensions to [`GateMcp`]. A missing or
//! unknown key is a 401 in the gateway's envelope with `WWW-Authenticate: Bearer
//! resource_metadata="…"` (RFC 9728), which points OAuth clients at `routes/mcp_oauth.rs`.
//!
//! The service is stateless (no MCP session is kept, so any instance of the gateway can answer
//! any request) and answers with JSON rather than an event stream. rmcp's `Host` check allows
//! the loopback names and the host of the gateway's public URL.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use gate_core::GateError;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::server::GateMcp;
use crate::auth::bearer;
use crate::error::ApiError;
use crate::state::AppState;

/// The `/mcp` route (any router state: it carries its own).
pub fn router<S>(state: AppState) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Some(host) = url::Url::parse(&state.settings.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        hosts.push(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        );
    }
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts);
    let for_service = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(GateMcp::for_http(for_service.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(state, authenticate))
}

/// Authenticates the bearer key and hands the caller on in the request's extensions.
async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let answer = match bearer(&parts) {
        Some(key) => state.gate.authenticate(key).await,
        None => Err(GateError::Unauthenticated),
    };
    match answer {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => {
            let mut resp = ApiError::from(e).into_response();
            if resp.status() == axum::http::StatusCode::UNAUTHORIZED {
                // Points OAuth-capable clients at the protected-resource metadata (RFC 9728).
                let challenge =
                    crate::routes::mcp_oauth::www_authenticate(&state.settings.public_url);
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_str(&challenge)
                        .unwrap_or_else(|_| HeaderValue::from_static("Bearer")),
                );
            }
            resp
        }
    }
}
