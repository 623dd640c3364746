//! Routes that every deployment has: health, readiness, metrics, the OpenAPI document and
//! the Swagger UI.

pub mod agents;
pub mod approvals;
pub mod audit;
pub mod connections;
pub mod docs;
pub mod health;
pub mod mcp_oauth;
pub mod metrics;
pub mod mirror;
pub mod notion;
pub mod notion_webhooks;
pub mod oauth;
pub mod proxy;
pub mod proxy_mirror;
pub mod tools;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::app::ReadyCheck;

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`.
pub fn common(ready: Arc<dyn ReadyCheck>) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz).with_state(ready))
        .route("/metrics", get(metrics::render))
        .merge(docs::routes())
}
