//! Integration webhooks: a local receiver gets the verification handshake first (unsigned),
//! then one signed event per change, in Notion's payload shape, without the API's answer
//! waiting; a receiver that fails gets the delivery again with the next `attempt_number`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use notion_emulator::{Emulator, Seed, WebhookTarget};
use serde_json::{Value, json};

use crate::common::Api;

const TOKEN: &str = "secret_emulator_webhook_test";

type Received = Arc<Mutex<Vec<(Option<String>, Bytes)>>>;

/// A receiver on port 0 that records each body and signature; it answers 500 to the first
/// `fail_first` signed requests (events).
async fn receiver(fail_first: usize) -> (String, Received) {
    let got: Received = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let sig = headers
                    .get("x-notion-signature")
                    .map(|v| v.to_str().unwrap().to_owned());
                let mut seen = seen.lock().unwrap();
                seen.push((sig, body));
                if seen.iter().filter(|(s, _)| s.is_some()).count() <= fail_first
                    && seen.last().is_some_and(|(s, _)| s.is_some())
                {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn wait_for(got: &Received, n: usize) -> Vec<(Option<String>, Value)> {
    for _ in 0..200 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    got.lock()
        .unwrap()
        .iter()
        .map(|(s, b)| (s.clone(), serde_json::from_slice(b).unwrap()))
        .collect()
}

/// The sender's counters once `n` events were delivered (they count after the answer).
async fn delivered(emu: &Emulator, n: u64) -> notion_emulator::WebhookStats {
    for _ in 0..200 {
        if emu.webhook_stats().delivered >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = emu.webhook_stats();
    assert_eq!(stats.delivered, n, "{stats:?}");
    stats
}

#[tokio::test]
async fn changes_are_sent_as_signed_notion_events_after_the_handshake() {
    let (url, got) = receiver(0).await;
    let api = Api::start(
        Emulator::builder()
            .seed(Seed::Demo)
            .webhook(WebhookTarget::new(url, TOKEN)),
    )
    .await;
    let handshake = wait_for(&got, 1).await;
    assert_eq!(handshake[0].0, None, "the handshake is not signed");
    assert_eq!(handshake[0].1, json!({"verification_token": TOKEN}));

    let ids = api.ids().clone();
    let created = api
        .post(
            "/v1/pages",
            json!({"parent": {"page_id": ids.root_page},
                   "properties": {"title": {"title": [{"text": {"content": "Hooked"}}]}}}),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let page = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/pages/{page}");
    api.patch(
        &path,
        json!({"properties": {"title": {"title": [{"text": {"content": "Renamed"}}]}}}),
    )
    .await;
    api.patch(
        &format!("/v1/blocks/{page}/children"),
        json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "x"}}]}}]}),
    )
    .await;
    api.patch(&path, json!({"in_trash": true})).await;
    api.patch(&path, json!({"in_trash": false})).await;
    let row = api
        .post(
            "/v1/pages",
            json!({"parent": {"data_source_id": ids.data_source},
                   "properties": {"Name": {"title": [{"text": {"content": "Row"}}]}}}),
        )
        .await;
    assert_eq!(row.status, 200, "{:?}", row.body);

    let all = wait_for(&got, 8).await;
    let events: Vec<&Value> = all[1..].iter().map(|(_, e)| e).collect();
    for (sig, raw) in got.lock().unwrap().iter().skip(1) {
        assert_eq!(
            sig.as_deref(),
            Some(notion_emulator::webhooks::sign(TOKEN, raw).as_str()),
            "signed over the raw body"
        );
    }
    let types: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["entity"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    // Deliveries are not ordered (each is its own task): compare as sets.
    let row_id = row.body["id"].as_str().unwrap();
    for want in [
        ("page.created", page.as_str()),
        ("page.properties_updated", page.as_str()),
        ("page.content_updated", page.as_str()),
        ("page.deleted", page.as_str()),
        ("page.undeleted", page.as_str()),
        ("page.created", row_id),
        ("data_source.content_updated", ids.data_source.as_str()),
    ] {
        assert!(types.contains(&want), "{want:?} not in {types:?}");
    }
    let e = events.iter().find(|e| e["type"] == "page.created").unwrap();
    for key in [
        "id",
        "timestamp",
        "workspace_id",
        "workspace_name",
        "subscription_id",
        "integration_id",
        "authors",
        "attempt_number",
        "api_version",
    ] {
        assert!(e.get(key).is_some(), "{key} missing: {e}");
    }
    assert_eq!(e["entity"]["type"], "page");
    assert_eq!(e["attempt_number"], 1);
    assert_eq!(e["data"]["parent"]["type"], "page");
    let stats = delivered(&api.emu, 7).await;
    assert_eq!((stats.failed_attempts, stats.gave_up), (0, 0), "{stats:?}");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_next_attempt_number() {
    let (url, got) = receiver(1).await;
    let api = Api::demo().await;
    api.emu.set_webhook(Some(WebhookTarget::new(url, TOKEN)));
    let page = api.ids().child_page.clone();
    wait_for(&got, 1).await;
    api.patch(&format!("/v1/pages/{page}"), json!({"in_trash": true}))
        .await;
    // The event's first attempt is answered 500; the next, a second later, carries
    // attempt_number 2 (and a signature over its own body).
    let all = wait_for(&got, 3).await;
    assert_eq!(all[0].1, json!({"verification_token": TOKEN}));
    assert_eq!(all[1].1["attempt_number"], 1);
    assert_eq!(all[2].1["attempt_number"], 2);
    assert_eq!(all[2].1["type"], "page.deleted");
    assert_eq!(all[1].1["id"], all[2].1["id"], "the same event");
    let stats = api.emu.webhook_stats();
    assert_eq!(
        (stats.failed_attempts, stats.delivered),
        (1, 1),
        "{stats:?}"
    );
}
