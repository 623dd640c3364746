//! Inbound Notion webhooks end to end: the emulator sends its webhooks to the running
//! gateway (handshake, then signed events), the gateway stores the verification token and
//! refreshes just the touched pages, so an edit made in the emulator is found by the
//! mirror's search moments later, with no polling; a trashed page leaves the mirror. Bad and
//! missing signatures are refused (401), unknown event types accepted and ignored, and a
//! burst of events for one page is one refetch.

use std::time::{Duration, Instant};

use gate_store::ConnectionId;
use notion_emulator::WebhookTarget;
use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::test_support::{Gateway, GatewayOpts};

const TOKEN: &str = "secret_webhook_verification_0123456789";

async fn connection(gw: &Gateway) -> ConnectionId {
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    alice.connection_id.unwrap()
}

/// Polls `check` every 50 ms for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 10 s: {what}");
}

/// `POST /webhooks/notion` with a body and an optional signature header.
async fn post(gw: &Gateway, body: &Value, signature: Option<String>) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut req = gw
        .http
        .post(format!("{}/webhooks/notion", gw.base))
        .header("content-type", "application/json")
        .body(bytes);
    if let Some(s) = signature {
        req = req.header("x-notion-signature", s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Signed with the token, as Notion signs.
async fn post_signed(gw: &Gateway, body: &Value) -> (u16, Value) {
    let sig = notion_emulator::webhooks::sign(TOKEN, &serde_json::to_vec(body).unwrap());
    post(gw, body, Some(sig)).await
}

fn event(ty: &str, entity: &str, kind: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "timestamp": "2026-12-07T21:00:00.000Z",
        "workspace_id": "w", "subscription_id": "s", "integration_id": "i", "type": ty,
        "authors": [{"id": "u", "type": "person"}], "attempt_number": 1,
        "entity": {"id": entity, "type": kind}, "data": {}
    })
}

/// Notion API request to the emulator as alice's integration.
async fn notion(gw: &Gateway, method: Method, path: &str, body: Value) -> Value {
    let resp = gw
        .http
        .request(method, format!("{}{path}", gw.emu.base_url()))
        .bearer_auth(&gw.notion_token)
        .header("notion-version", "2025-09-03")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn local_hits(gw: &Gateway, query: &str) -> Vec<Value> {
    let (status, found) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("supervised")),
            Some(json!({"query": query})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    found["results"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_edit_in_the_emulator_is_searchable_in_the_mirror_moments_later() {
    let gw = crate::test_support::synced(GatewayOpts::default()).await;
    let conn = connection(&gw).await;
    gw.emu.set_webhook(Some(WebhookTarget::new(
        format!("{}/webhooks/notion", gw.base),
        TOKEN,
    )));
    // The handshake arrives first and is stored (encrypted), unverified.
    eventually("the handshake is stored", || async {
        gw.gate.notion_webhook_tokens(conn).await.unwrap().is_some()
    })
    .await;
    let tokens = gw.gate.notion_webhook_tokens(conn).await.unwrap().unwrap();
    assert_eq!(tokens.current.expose_secret(), TOKEN);
    assert!(tokens.verified_at.is_none());

    // Content appended to a mirrored page through the emulator's API.
    let page = gw.emu.demo_ids().blocks_page.clone();
    let word = format!(
        "zebrafish{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    assert!(local_hits(&gw, &word).await.is_empty());
    notion(
        &gw,
        Method::PATCH,
        &format!("/v1/blocks/{page}/children"),
        json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": format!("a new word: {word}")}}]}}]}),
    )
    .await;
    let took = eventually("the new word is found in the mirror", || async {
        local_hits(&gw, &word)
            .await
            .iter()
            .any(|h| h["id"].as_str().map(|s| s.replace('-', "")) == Some(page.replace('-', "")))
    })
    .await;
    eprintln!("edit → searchable in the mirror: {took:?}");
    let tokens = gw.gate.notion_webhook_tokens(conn).await.unwrap().unwrap();
    assert!(
        tokens.verified_at.is_some(),
        "a signed delivery verified the token"
    );

    // A page moved to the trash leaves the mirror.
    let child = gw.emu.demo_ids().child_page.clone();
    let in_mirror = |gw: &Gateway| {
        let store = gw.gate.mirror_store(conn).unwrap().unwrap();
        store.page(&child).unwrap().is_some()
    };
    assert!(in_mirror(&gw));
    notion(
        &gw,
        Method::PATCH,
        &format!("/v1/pages/{child}"),
        json!({"in_trash": true}),
    )
    .await;
    eventually("the trashed page leaves the mirror", || async {
        !in_mirror(&gw)
    })
    .await;
    let stats = gw.emu.webhook_stats();
    assert_eq!(stats.verifications, 1, "{stats:?}");
    assert!(stats.delivered >= 2, "{stats:?}");
    assert_eq!(stats.gave_up, 0, "{stats:?}");
}

#[tokio::test]
async fn signatures_are_checked_and_unknown_events_ignored() {
    let gw = crate::test_support::synced(GatewayOpts::default()).await;
    let conn = connection(&gw).await;
    let page = gw.emu.demo_ids().blocks_page.clone();
    let ev = event("page.content_updated", &page, "page");

    // Before any handshake: nothing to verify with.
    let (status, body) = post_signed(&gw, &ev).await;
    assert_eq!(status, 401, "{body}");

    // The handshake (unsigned) is stored; its answer does not echo the token.
    let (status, body) = post(&gw, &json!({"verification_token": TOKEN}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "verification_stored");
    assert!(!body.to_string().contains(TOKEN));
    assert!(gw.gate.notion_webhook_tokens(conn).await.unwrap().is_some());

    // Missing, malformed, wrong-key and tampered signatures: 401 with the reason.
    let (status, body) = post(&gw, &ev, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Notion-Signature"),
        "{body}"
    );
    let (status, _) = post(&gw, &ev, Some("sha256=abc".into())).await;
    assert_eq!(status, 401);
    let wrong = notion_emulator::webhooks::sign("secret_other", &serde_json::to_vec(&ev).unwrap());
    let (status, _) = post(&gw, &ev, Some(wrong)).await;
    assert_eq!(status, 401);
    let mut tampered = ev.clone();
    tampered["entity"]["id"] = json!(gw.emu.demo_ids().child_page.clone());
    let sig = notion_emulator::webhooks::sign(TOKEN, &serde_json::to_vec(&ev).unwrap());
    let (status, _) = post(&gw, &tampered, Some(sig)).await;
    assert_eq!(status, 401);

    // Signed: accepted. An unknown type is accepted and ignored (Notion retries non-2xx).
    let (status, body) = post_signed(&gw, &ev).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "refresh_scheduled");
    let (status, body) = post_signed(&gw, &event("page.teleported", &page, "page")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "ignored");
    let (status, body) = post_signed(&gw, &event("comment.created", &page, "comment")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "ignored");

    // A connection that does not exist.
    let resp = gw
        .http
        .post(format!(
            "{}/webhooks/notion/{}",
            gw.base,
            uuid::Uuid::new_v4()
        ))
        .json(&ev)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("notion_webhook_events_total{outcome=\"rejected\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_burst_of_events_for_one_page_is_one_refetch() {
    let gw = crate::test_support::synced(GatewayOpts::default()).await;
    let conn = connection(&gw).await;
    let (status, _) = post(&gw, &json!({"verification_token": TOKEN}), None).await;
    assert_eq!(status, 200);
    let page = gw.emu.demo_ids().blocks_page.clone();
    let retrieves = || gw.emu.counters().route("GET /v1/pages/{id}");
    let before = retrieves();
    for _ in 0..10 {
        let (status, body) = post_signed(&gw, &event("page.content_updated", &page, "page")).await;
        assert_eq!(status, 200, "{body}");
    }
    let queue = gw.gate.refresh_queue(conn).unwrap();
    eventually("the page is refetched", || async {
        queue.stats().pages_refreshed >= 1
    })
    .await;
    // Well past another debounce: still one refetch.
    tokio::time::sleep(gate_mirror::RefreshQueue::DEBOUNCE * 3).await;
    let stats = queue.stats();
    assert_eq!(stats.touched, 10, "{stats:?}");
    assert_eq!(stats.pages_refreshed, 1, "{stats:?}");
    assert_eq!(stats.batches, 1, "{stats:?}");
    assert_eq!(retrieves() - before, 1);
}
