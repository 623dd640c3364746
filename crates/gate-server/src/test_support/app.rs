//! `spawn_app`: the application on port 0, with optional extra routes.

use std::sync::Arc;

use axum::Router;
use gate_server::app::{AlwaysReady, ReadyCheck, router};
use gate_server::{Application, ServerOptions};

/// A running server and its base URL.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn spawn_app(api: Router, ready: Arc<dyn ReadyCheck>, options: ServerOptions) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build(listener, router(api, ready, &options)).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        base,
        http: reqwest::Client::new(),
    }
}

pub async fn spawn_default() -> TestApp {
    spawn_app(
        Router::new(),
        Arc::new(AlwaysReady),
        ServerOptions::default(),
    )
    .await
}
