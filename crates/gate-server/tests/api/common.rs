//! Health, readiness, metrics, docs and the error envelope of the routes every deployment has.

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use gate_server::{ApiJson, ReadyCheck, ServerOptions};
use serde::Deserialize;
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
        Arc::new(gate_server::app::AlwaysReady),
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
async fn openapi_document_and_swagger_ui() {
    let app = spawn_default().await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    insta::assert_json_snapshot!("openapi_common", doc, {".info.version" => "[version]"});
    // Every Notion `{id}` carries the pattern the gateway checks.
    let mut patterned = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/notion/") || !path.contains("{id}") {
            continue;
        }
        for op in item.as_object().unwrap().values() {
            let id = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "id" && p["in"] == "path")
                .unwrap_or_else(|| panic!("{path}: no id parameter"));
            assert_eq!(
                id["schema"]["pattern"],
                notion_client::ids::ID_PATTERN,
                "{path}"
            );
            patterned += 1;
        }
    }
    assert_eq!(patterned, 10, "the ten Notion operations on an id");
    let page = app
        .http
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js"));
    let js = app
        .http
        .get(format!("{}/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 100_000);
    // `/docs/` is the same page, by a permanent redirect.
    let slash = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(slash.status(), 308);
    assert_eq!(slash.headers()["location"], "/docs");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_default().await;
    app.http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains("route=\"/healthz\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
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
