//! `/healthz` and `/readyz` on the running server, ready and not.

use std::sync::Arc;

use crate::{ReadyCheck, ServerOptions};
use axum::Router;
use serde_json::Value;

use crate::test_support::{spawn_app, spawn_default};

struct NotReady;

#[async_trait::async_trait]
impl ReadyCheck for NotReady {
    async fn ready(&self) -> Result<(), String> {
        Err("database unreachable".into())
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_default().await;
    let r = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let r = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let sick = spawn_app(Router::new(), Arc::new(NotReady), ServerOptions::default()).await;
    let r = sick
        .http
        .get(format!("{}/readyz", sick.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "database unreachable");
}
