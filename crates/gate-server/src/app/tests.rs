//! The application's own layers on the running server: the envelope (with the request id)
//! for unknown routes, bad bodies answered 4xx with the field named, the body limit, and
//! gzip compression when the client asks.

use std::sync::Arc;

use crate::{ApiJson, ServerOptions};
use axum::Router;
use axum::routing::post;
use serde::Deserialize;
use serde_json::Value;

use crate::test_support::{spawn_app, spawn_default};

#[tokio::test]
async fn unknown_routes_get_the_envelope_with_the_request_id() {
    let app = spawn_default().await;
    let r = app
        .http
        .get(format!("{}/api/v1/nothing-here", app.base))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "req-123");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(body["error"]["request_id"], "req-123");
    assert!(body["error"]["details"].is_object());
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Echo {
    text: String,
}

async fn echo(ApiJson(e): ApiJson<Echo>) -> String {
    e.text
}

#[tokio::test]
async fn bad_bodies_are_4xx_with_the_field_named() {
    let api = Router::new().route("/echo", post(echo));
    let app = spawn_app(
        api,
        Arc::new(crate::app::AlwaysReady),
        ServerOptions::default().body_limit(1024),
    )
    .await;
    let url = format!("{}/echo", app.base);
    let send = |body: String, ct: &'static str| {
        let http = app.http.clone();
        let url = url.clone();
        async move {
            let r = http
                .post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, b) = send(r#"{"text": 5}"#.into(), "application/json").await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["details"]["field"], "text");
    let (s, b) = send(r#"{"text": "a", "more": 1}"#.into(), "application/json").await;
    assert_eq!(s, 400);
    assert!(b["error"]["message"].as_str().unwrap().contains("more"));
    let (s, _) = send("{".into(), "application/json").await;
    assert_eq!(s, 400);
    let (s, b) = send(r#"{"text": "a"}"#.into(), "text/plain").await;
    assert_eq!(s, 415);
    assert_eq!(b["error"]["code"], "unsupported_media_type");
    let (s, b) = send(
        format!(r#"{{"text": "{}"}}"#, "x".repeat(5000)),
        "application/json",
    )
    .await;
    assert_eq!(s, 413);
    assert_eq!(b["error"]["code"], "payload_too_large");
    assert!(b["error"]["request_id"].is_string());
    let (s, body) = send(r#"{"text": "fine"}"#.into(), "application/json").await;
    assert_eq!((s, body), (200, Value::Null));
}

#[tokio::test]
async fn answers_are_gzip_compressed_when_the_client_asks() {
    let app = spawn_default().await;
    let url = format!("{}/openapi.json", app.base);
    let plain = app.http.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    let gz = app
        .http
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let packed = gz.bytes().await.unwrap();
    assert_eq!(&packed[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        packed.len() * 4 < plain_len,
        "{} of {plain_len}",
        packed.len()
    );
}
