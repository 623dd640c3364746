//! Approval notifications through the whole server: a call held over REST is announced to a
//! local listener (signed), the agent's answer never waits for a hook that is down, and the
//! console's overview lists the failing deliveries with the hook's host only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use gate_core::{WebhookConfig, WebhookRetry, WebhookTarget};
use secrecy::SecretString;
use serde_json::Value;

use crate::test_support::{Browser, held_create};
use crate::test_support::{GatewayOpts, spawn_gateway_with};

const SECRET: &str = "server-test-webhook-secret-0123";

fn hooks(urls: &[String]) -> WebhookConfig {
    WebhookConfig::new(
        urls.iter()
            .map(|u| WebhookTarget::parse(u).unwrap())
            .collect(),
        "https://gate.example.test",
    )
    .secret(SecretString::from(SECRET.to_owned()))
    .retry(WebhookRetry {
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        give_up_after: Duration::from_secs(120),
    })
    .poll_interval(Duration::from_millis(20))
}

/// Polls `cond` every 20 ms for at most 30 s.
async fn until<F: FnMut() -> bool>(what: &str, mut cond: F) {
    for _ in 0..1500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_calls_are_announced_and_failures_show_on_the_overview() {
    // A listener that records, and a port where nobody listens.
    let got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let sink = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}/secret-path-xyz", closed.local_addr().unwrap());
    drop(closed);

    let gw = spawn_gateway_with(GatewayOpts {
        webhooks: Some(hooks(&[up, down])),
        ..GatewayOpts::default()
    })
    .await;
    let id = held_create(&gw, "Held", "content").await;
    until("the event", || !got.lock().unwrap().is_empty()).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "approval.created");
    assert_eq!(event["approval_id"], id);
    assert_eq!(event["agent"]["name"], "supervised-bot");
    assert_eq!(
        event["url"],
        format!("https://gate.example.test/console/approvals/{id}")
    );
    assert_eq!(
        headers[gate_core::SIGNATURE_HEADER].to_str().unwrap(),
        gate_core::sign(&SecretString::from(SECRET.to_owned()), &body)
    );

    // The hook that is down shows on the admin's overview: host only, never the path.
    let mut b = Browser::new(&gw);
    b.sign_in(&gw.admin_key).await;
    let gate = gw.gate.clone();
    let admin = gate.authenticate(&gw.admin_key).await.unwrap();
    for _ in 0..1500 {
        if !gate
            .recent_webhook_failures(&admin, 5)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _, page) = b.get("/console/overview").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(page.contains("Notification failures"), "{page}");
    assert!(page.contains("cannot connect to the hook"), "{page}");
    assert!(
        !page.contains("secret-path-xyz"),
        "the hook's path is not shown"
    );
}
