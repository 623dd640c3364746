//! `gate-bench passthrough`: the floor of the overhead bench. A bare HTTP pass-through on the
//! gateway's own stack (axum on a multi-threaded Tokio runtime, a pooled reqwest client) with
//! no governance: no key lookup, policy, limiter, audit or body decoding. `gate-bench
//! overhead` runs it as a child process beside `notion-gate serve`, so that what the gateway
//! adds splits into the cost of one more loopback HTTP hop on this machine and the cost of
//! governance on top of it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::any;

/// The largest request body forwarded (as the gateway's proxy).
const MAX_BODY: usize = 1024 * 1024;

/// Headers copied to the upstream request.
const FORWARDED: [HeaderName; 3] = [
    AUTHORIZATION,
    CONTENT_TYPE,
    HeaderName::from_static("notion-version"),
];

struct Upstream {
    base: String,
    client: reqwest::Client,
}

/// Serves the pass-through on `listen`, forwarding every `/v1/...` request to `upstream`,
/// until the process is killed.
pub async fn run(listen: SocketAddr, upstream: String) -> Result<()> {
    let state = Arc::new(Upstream {
        base: upstream.trim_end_matches('/').to_owned(),
        client: reqwest::Client::builder()
            .build()
            .context("the HTTP client")?,
    });
    let app = Router::new()
        .route("/v1/{*rest}", any(forward))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("bind {listen}"))?;
    // As the gateway does (`gate_server::Application`).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await.context("serve")
}

async fn forward(State(up): State<Arc<Upstream>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = up
        .client
        .request(parts.method, format!("{}{path}", up.base))
        .body(bytes);
    for name in FORWARDED {
        if let Some(v) = parts.headers.get(&name) {
            out = out.header(name, v);
        }
    }
    let Ok(resp) = out.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let code = resp.status();
    let content_type = resp.headers().get(CONTENT_TYPE).cloned();
    let Ok(body) = resp.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut answer = Response::new(Body::from(body));
    *answer.status_mut() = code;
    if let Some(ct) = content_type {
        answer.headers_mut().insert(CONTENT_TYPE, ct);
    }
    answer
}
