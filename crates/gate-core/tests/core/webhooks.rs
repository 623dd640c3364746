//! Approval notifications against a local listener (an axum server on port 0): the events
//! and their signature, retries after a 500, a listener down for a while and a gateway
//! restart in between (nothing lost), Slack's format, no secret in a body, a hanging hook
//! never holding up the agent's call, and who may see the failures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use gate_core::{
    Gate, GateError, NotionRequest, Surface, WebhookConfig, WebhookRetry, WebhookTarget,
};
use gate_store::{ApprovalId, WebhookDeliveryFilter};
use hmac::{Hmac, Mac as _};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::{Opts, TestDb, World, config, secret, seen, world_with};

crate::both!(
    events_are_signed_complete_and_hold_no_secret,
    a_500_is_retried_until_delivered_and_a_404_is_final,
    a_listener_down_across_a_restart_loses_nothing,
    slack_hooks_get_a_sentence_and_the_url_stays_secret,
    a_hanging_hook_never_holds_up_the_call,
);

const SECRET: &str = "whsec-test-0123456789abcdef";
const PUBLIC: &str = "https://gate.example.test";

/// What the listener answers.
#[derive(Clone, Copy)]
enum Mode {
    /// This status to every request.
    Status(u16),
    /// `n` times the first status, then the second.
    FailThen(u32, u16, u16),
    /// Never answers.
    Hang,
}

#[derive(Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Hook {
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Hook {
    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn events(&self) -> Vec<Value> {
        self.received()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
            .collect()
    }
}

async fn answer(State(h): State<Hook>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mode = {
        let mut m = h.mode.lock().expect("lock");
        let now = *m;
        if let Mode::FailThen(n, a, b) = now {
            *m = if n <= 1 {
                Mode::Status(b)
            } else {
                Mode::FailThen(n - 1, a, b)
            };
            Mode::Status(a)
        } else {
            now
        }
    };
    h.received.lock().expect("lock").push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    match mode {
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }
        Mode::Status(s) | Mode::FailThen(_, s, _) => {
            StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Serves the hook on `listener` until the test ends.
fn serve(listener: TcpListener, mode: Mode) -> Hook {
    let hook = Hook {
        mode: Arc::new(Mutex::new(mode)),
        received: Arc::new(Mutex::new(Vec::new())),
    };
    let app = axum::Router::new()
        .fallback(axum::routing::post(answer))
        .with_state(hook.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    hook
}

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    (l, format!("http://{addr}"))
}

fn fast(hook_url: &str) -> WebhookConfig {
    secret(SECRET);
    WebhookConfig::new(vec![WebhookTarget::parse(hook_url).expect("hook")], PUBLIC)
        .secret(SecretString::from(SECRET.to_owned()))
        .retry(WebhookRetry {
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            give_up_after: Duration::from_secs(120),
        })
        .poll_interval(Duration::from_millis(20))
        .request_timeout(Duration::from_secs(5))
}

async fn world_hooked(db: TestDb, webhooks: WebhookConfig) -> World {
    world_with(
        db,
        Opts {
            webhooks: Some(webhooks),
            ..Opts::default()
        },
    )
    .await
}

/// A supervised agent's create, held for approval.
async fn held(w: &World, key: &str, title: &str) -> ApprovalId {
    let root = w.emu.demo_ids().root_page.clone();
    let caller = w.caller(key).await;
    let req = NotionRequest::post(
        "/v1/pages",
        json!({"properties": {"title": {"title": [{"text": {"content": title}}]}}, "parent": {"page_id": root}}),
    );
    match w.gate.call(&caller, Surface::Tool, req).await {
        Err(GateError::ApprovalRequired { id, .. }) => id,
        other => panic!("expected an approval, got {other:?}"),
    }
}

/// Polls `cond` every 20 ms, for at most 30 s.
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1500 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn verify(r: &Received) {
    let sig = r
        .headers
        .get(gate_core::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("signature header");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("mac");
    mac.update(&r.body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sig, format!("sha256={want}"), "the signature verifies");
}

async fn events_are_signed_complete_and_hold_no_secret(db: TestDb) {
    let (l, base) = listener().await;
    let hook = serve(l, Mode::Status(200));
    let w = world_hooked(db, fast(&format!("{base}/hook"))).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;

    let id = held(&w, &bot.key, "Quarterly secret plan").await;
    until("approval.created", || async { hook.received().len() == 1 }).await;
    let r = &hook.received()[0];
    verify(r);
    assert_eq!(r.path, "/hook");
    assert_eq!(r.headers[gate_core::EVENT_HEADER], "approval.created");
    assert!(r.headers.contains_key(gate_core::DELIVERY_HEADER));
    assert_eq!(r.headers["content-type"], "application/json");
    let e = &hook.events()[0];
    assert_eq!(e["type"], "approval.created");
    assert_eq!(e["approval_id"], id.to_string());
    assert_eq!(e["status"], "pending");
    assert_eq!(e["agent"]["id"], bot.id.to_string());
    assert_eq!(e["agent"]["name"], "careful");
    assert_eq!(e["operation"], "pages.create");
    assert_eq!(e["class"], "create");
    assert!(e["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(e["expires_at"].is_string());
    assert_eq!(e["url"], format!("{PUBLIC}/console/approvals/{id}"));
    // Nothing secret: no key, no token, no signing secret, not the page's content.
    let text = String::from_utf8_lossy(&r.body).into_owned();
    for s in [
        bot.key.as_str(),
        w.alice.key.as_str(),
        w.alice.notion_token.as_str(),
        SECRET,
        "Quarterly secret plan",
    ] {
        assert!(!text.contains(s), "the event holds a secret or content");
    }

    // Approved: one `approval.decided` with the run's result.
    w.gate
        .approve(&w.alice.caller, id, None)
        .await
        .expect("approve");
    until("approval.decided", || async { hook.received().len() == 2 }).await;
    let e = &hook.events()[1];
    assert_eq!(e["type"], "approval.decided");
    assert_eq!(e["decision"], "approved");
    assert_eq!(e["status"], "executed");
    assert_eq!(e["result_status"], 200);
    assert_eq!(e["decided_by"]["name"], "alice");
    verify(&hook.received()[1]);

    // Denied.
    let other = held(&w, &bot.key, "another").await;
    until("created", || async { hook.received().len() == 3 }).await;
    w.gate
        .deny(&w.alice.caller, other, None)
        .await
        .expect("deny");
    until("denied", || async { hook.received().len() == 4 }).await;
    let e = &hook.events()[3];
    assert_eq!(
        (e["type"].as_str(), e["decision"].as_str()),
        (Some("approval.decided"), Some("denied"))
    );
    assert_eq!(e["approval_id"], other.to_string());

    // Expired (a world whose approvals last 1 ms would be simpler; expire one by hand).
    let third = held(&w, &bot.key, "third").await;
    until("created", || async { hook.received().len() == 5 }).await;
    w.db.exec_sql(&format!(
        "UPDATE approvals SET expires_at = 0 WHERE id = '{third}'"
    ))
    .await;
    assert_eq!(w.gate.expire_approvals().await.expect("expire"), 1);
    assert_eq!(w.gate.expire_approvals().await.expect("again"), 0);
    until("expired", || async { hook.received().len() == 6 }).await;
    let e = &hook.events()[5];
    assert_eq!(e["type"], "approval.expired");
    assert_eq!(e["status"], "expired");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(hook.received().len(), 6, "each event once");
    let rows = w
        .gate
        .store()
        .list_webhook_deliveries(WebhookDeliveryFilter::new())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|d| d.is_delivered() && d.attempts == 1));
    w.finish().await;
}

async fn a_500_is_retried_until_delivered_and_a_404_is_final(db: TestDb) {
    let (l, base) = listener().await;
    let hook = serve(l, Mode::FailThen(2, 500, 204));
    let w = world_hooked(db, fast(&format!("{base}/hook"))).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "x").await;
    let store = w.gate.store().clone();
    until("delivered after two 500s", || {
        let store = store.clone();
        async move {
            let rows = store
                .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(id))
                .await
                .expect("rows");
            rows.first().is_some_and(|d| d.is_delivered())
        }
    })
    .await;
    let d = &store
        .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(id))
        .await
        .expect("rows")[0];
    assert_eq!(d.attempts, 3);
    assert_eq!(d.last_status, Some(204));
    let got = hook.received();
    assert_eq!(got.len(), 3);
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.headers[gate_core::DELIVERY_HEADER].clone())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "a retry repeats the delivery id"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "and the same body"
    );
    got.iter().for_each(verify);

    // A 404 is final: one attempt, listed as a failure.
    *hook.mode.lock().expect("lock") = Mode::Status(404);
    let gone = held(&w, &bot.key, "y").await;
    until("given up", || {
        let store = store.clone();
        async move {
            store
                .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(gone))
                .await
                .expect("rows")
                .first()
                .is_some_and(|d| d.gave_up())
        }
    })
    .await;
    let failures = w
        .gate
        .recent_webhook_failures(&w.admin, 10)
        .await
        .expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].approval_id, gone);
    assert_eq!(failures[0].attempts, 1);
    assert_eq!(failures[0].last_status, Some(404));
    // Bob sees nothing of Alice's; an agent may not look.
    assert!(
        w.gate
            .recent_webhook_failures(&w.bob.caller, 10)
            .await
            .expect("bob")
            .is_empty()
    );
    assert_eq!(
        w.gate
            .recent_webhook_failures(&w.alice.caller, 10)
            .await
            .expect("alice")
            .len(),
        1
    );
    let agent = w.caller(&bot.key).await;
    let e = seen(
        w.gate
            .recent_webhook_failures(&agent, 10)
            .await
            .expect_err("agent"),
    );
    assert_eq!(e.code(), "not_permitted");
    w.finish().await;
}

async fn a_listener_down_across_a_restart_loses_nothing(db: TestDb) {
    // A port with nobody listening: connections are refused.
    let (l, base) = listener().await;
    let addr = l.local_addr().expect("addr");
    drop(l);
    let hook_url = format!("{base}/hook");
    let w = world_hooked(db, fast(&hook_url)).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "x").await;
    let store = w.gate.store().clone();
    until("two failed attempts", || {
        let store = store.clone();
        async move {
            store
                .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(id))
                .await
                .expect("rows")
                .first()
                .is_some_and(|d| d.attempts >= 2)
        }
    })
    .await;
    let failures = w
        .gate
        .recent_webhook_failures(&w.admin, 10)
        .await
        .expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].hook_label, base);
    assert_eq!(
        failures[0].last_error.as_deref(),
        Some("cannot connect to the hook")
    );
    assert!(failures[0].next_attempt_at.is_some() && !failures[0].gave_up());

    // The gateway stops while the listener is still down, and a new one starts on the same
    // database once the listener is back.
    w.gate.shutdown().await;
    let l = TcpListener::bind(addr).await.expect("rebind the port");
    let hook = serve(l, Mode::Status(200));
    let again = Gate::new(config(
        w.db.store().await,
        Arc::clone(&w.vault),
        &w.emu,
        &Opts {
            webhooks: Some(fast(&hook_url)),
            ..Opts::default()
        },
    ))
    .expect("gate");
    until("delivered after the restart", || async {
        hook.received().len() == 1
    })
    .await;
    let e = &hook.events()[0];
    assert_eq!(e["type"], "approval.created");
    assert_eq!(e["approval_id"], id.to_string());
    verify(&hook.received()[0]);
    until("recorded as delivered", || {
        let store = store.clone();
        async move {
            store
                .list_webhook_deliveries(WebhookDeliveryFilter::new().approval(id))
                .await
                .expect("rows")
                .first()
                .is_some_and(|d| d.is_delivered())
        }
    })
    .await;
    again.shutdown().await;
    w.finish().await;
}

async fn slack_hooks_get_a_sentence_and_the_url_stays_secret(db: TestDb) {
    let (l, base) = listener().await;
    let hook = serve(l, Mode::Status(200));
    let path_secret = format!("B0SLACKSECRET{}", uuid::Uuid::new_v4().simple());
    secret(&path_secret);
    let w = world_hooked(db, fast(&format!("slack+{base}/services/T0/{path_secret}"))).await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    let id = held(&w, &bot.key, "x").await;
    until("slack message", || async { hook.received().len() == 1 }).await;
    let r = &hook.received()[0];
    assert_eq!(
        r.path,
        format!("/services/T0/{path_secret}"),
        "slack+ is stripped"
    );
    verify(r);
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    let text = body["text"].as_str().expect("text");
    assert!(
        text.starts_with("Agent *careful* wants to run `pages.create` (create)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("<{PUBLIC}/console/approvals/{id}|approval {id}>")),
        "{text}"
    );
    // The URL's secret path is nowhere in the store (label and digest only) nor in the log
    // (checked by finish()).
    let rows = w
        .gate
        .store()
        .list_webhook_deliveries(WebhookDeliveryFilter::new())
        .await
        .expect("rows");
    assert_eq!(rows[0].hook_label, format!("slack+{base}"));
    for d in &rows {
        let stored = format!(
            "{} {} {} {:?}",
            d.hook_id, d.hook_label, d.body, d.last_error
        );
        assert!(!stored.contains(&path_secret), "{stored}");
    }
    w.finish().await;
}

async fn a_hanging_hook_never_holds_up_the_call(db: TestDb) {
    let (l, base) = listener().await;
    let hook = serve(l, Mode::Hang);
    let w = world_hooked(
        db,
        fast(&format!("{base}/hook"))
            .request_timeout(Duration::from_secs(3600))
            .queue_capacity(1),
    )
    .await;
    let bot = w.agent(&w.alice, "careful", "supervised").await;
    for i in 0..5 {
        // Far more than any call takes; the hook never answers.
        tokio::time::timeout(
            Duration::from_secs(30),
            held(&w, &bot.key, &format!("p{i}")),
        )
        .await
        .expect("the call is answered while the hook hangs");
    }
    until("the first attempt reached the hook", || async {
        !hook.received().is_empty()
    })
    .await;
    w.finish().await;
}
