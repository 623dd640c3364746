//! Notion's integration webhooks, sent by the emulator to one configured target
//! ([`WebhookTarget`]: `EmulatorBuilder::webhook`, `EmulatorHandle::set_webhook`, or the
//! binary's `--webhook-url` / `--webhook-token`).
//!
//! As Notion does (`shared/reference/notion-api.md` §10): the target first gets the
//! verification handshake, `{"verification_token": "…"}`, unsigned; then every event is a
//! `POST` of JSON signed `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed by
//! the verification token>`, with Notion's payload shape (`id`, `timestamp`, `workspace_id`,
//! `workspace_name`, `subscription_id`, `integration_id`, `type`, `authors`,
//! `attempt_number`, `api_version`, `entity {id, type}`, `data {parent, …}`).
//!
//! Events come from successful API calls (the pipeline calls [`events_for`] after the
//! handler): page create, update (properties, trash → `page.deleted`, restore →
//! `page.undeleted`), move, Markdown update; block append, update and delete
//! (`page.content_updated` on the page that holds the block); data source rows (a row's
//! page event plus `data_source.content_updated`); data source create and schema update;
//! database create; comments. They are sent from a task of their own, so the API's answer
//! never waits; a delivery that fails (non-2xx, no answer in 10 s) is retried with
//! exponential backoff up to 8 attempts (`attempt_number`), as Notion does over a day,
//! compressed here to 1 s, 2 s, 4 s, … (on `tokio::time`). Deliveries are not ordered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::state::{EmulatorHandle, lock};
use crate::store::Store;
use crate::util::{new_id, now_millis, parse_id};

/// Attempts per delivery (Notion: up to 8).
pub const MAX_ATTEMPTS: u32 = 8;

/// Where the emulator sends webhooks, and the token it signs them with.
#[derive(Clone)]
#[non_exhaustive]
pub struct WebhookTarget {
    /// The endpoint (`http://…/webhooks/notion`).
    pub url: String,
    /// The verification token: sent in the handshake, the key of every signature.
    pub verification_token: String,
    /// The subscription's API version, echoed in `api_version`.
    pub api_version: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// A target on API version 2025-09-03.
    pub fn new(url: impl Into<String>, verification_token: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            verification_token: verification_token.into(),
            api_version: "2025-09-03".into(),
        }
    }
}

/// What the webhook sender has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookStats {
    /// Verification handshakes delivered.
    pub verifications: u64,
    /// Events queued.
    pub events: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Attempts that failed (each retried until [`MAX_ATTEMPTS`]).
    pub failed_attempts: u64,
    /// Deliveries given up after [`MAX_ATTEMPTS`].
    pub gave_up: u64,
}

/// A running sender: events go through the channel to its task.
#[derive(Debug)]
pub(crate) struct Sender {
    tx: mpsc::UnboundedSender<Value>,
    subscription_id: String,
    api_version: String,
    task: tokio::task::AbortHandle,
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sender {
    /// Starts the task: the handshake first, then every event (needs a Tokio runtime).
    pub(crate) fn start(target: WebhookTarget, stats: Arc<Mutex<WebhookStats>>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let api_version = target.api_version.clone();
        let task = tokio::spawn(run(target, rx, stats)).abort_handle();
        Self {
            tx,
            subscription_id: new_id(),
            api_version,
            task,
        }
    }
}

/// The signature header value of `body` under `token`.
pub fn sign(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn run(
    target: WebhookTarget,
    mut rx: mpsc::UnboundedReceiver<Value>,
    stats: Arc<Mutex<WebhookStats>>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client");
            return;
        }
    };
    let target = Arc::new(target);
    let handshake = json!({"verification_token": target.verification_token});
    if deliver(&client, &target, handshake, false, &stats).await {
        lock(&stats).verifications += 1;
    }
    while let Some(event) = rx.recv().await {
        let (client, target, stats) = (client.clone(), target.clone(), stats.clone());
        tokio::spawn(async move {
            deliver(&client, &target, event, true, &stats).await;
        });
    }
}

/// Sends one body, retrying; `signed` events get `attempt_number` and the signature.
async fn deliver(
    client: &reqwest::Client,
    target: &WebhookTarget,
    mut body: Value,
    signed: bool,
    stats: &Mutex<WebhookStats>,
) -> bool {
    for attempt in 1..=MAX_ATTEMPTS {
        if signed {
            body["attempt_number"] = json!(attempt);
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut req = client
            .post(&target.url)
            .header("content-type", "application/json")
            .body(bytes.clone());
        if signed {
            req = req.header(
                "x-notion-signature",
                sign(&target.verification_token, &bytes),
            );
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                if signed {
                    lock(stats).delivered += 1;
                }
                return true;
            }
            Ok(r) => tracing::debug!(status = r.status().as_u16(), attempt, "webhook refused"),
            Err(e) => tracing::debug!(error = %e, attempt, "webhook not delivered"),
        }
        lock(stats).failed_attempts += 1;
        if attempt < MAX_ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
    }
    lock(stats).gave_up += 1;
    false
}

/// What the pipeline records before a request runs, for the events that need the state
/// before the change.
#[derive(Debug, Default)]
pub(crate) struct Before {
    /// The page was in the trash (a page update).
    was_trashed: bool,
    /// The page that holds the block (block routes; a block deleted later still names it).
    page: Option<String>,
}

/// The page that holds `id` (itself when it is a page), walking block parents.
fn page_of(store: &Store, id: &str) -> Option<String> {
    let mut cur = id.to_owned();
    for _ in 0..256 {
        if store.pages.contains_key(&cur) {
            return Some(cur);
        }
        let parent = &store.blocks.get(&cur)?["parent"];
        cur = parent
            .get("page_id")
            .or_else(|| parent.get("block_id"))
            .and_then(Value::as_str)?
            .to_owned();
    }
    None
}

/// The `{id}` segment of a path (`/v1/<kind>/{id}/…`), dashed.
fn path_id(path: &str) -> Option<String> {
    path.split('/').nth(3).and_then(parse_id)
}

/// Records [`Before`] for a request, when webhooks are on.
pub(crate) fn before(h: &EmulatorHandle, template: Option<&str>, path: &str) -> Option<Before> {
    lock(&h.0.webhooks).as_ref()?;
    let id = path_id(path);
    let store = lock(&h.0.store);
    let mut b = Before::default();
    match (template, id) {
        (Some("/v1/pages/{id}"), Some(id)) => b.was_trashed = store.is_trashed(&id),
        (Some(t), Some(id)) if t.starts_with("/v1/blocks/") => b.page = page_of(&store, &id),
        _ => {}
    }
    Some(b)
}

/// A request the emulator applied, as the pipeline saw it.
#[derive(Debug)]
pub(crate) struct Applied<'a> {
    /// What was recorded before it ran.
    pub before: Before,
    pub method: &'a Method,
    pub template: Option<&'a str>,
    pub path: &'a str,
    /// The bot user acting for the token (the event's author).
    pub bot_id: &'a str,
}

/// After a successful request: reads the answer when an event needs it (a create's id, a
/// comment), queues the events, and gives the answer back unchanged.
pub(crate) async fn observe(
    h: &EmulatorHandle,
    applied: Applied<'_>,
    resp: axum::response::Response,
) -> axum::response::Response {
    let needs_body = *applied.method == Method::POST
        || applied
            .template
            .is_some_and(|t| t.starts_with("/v1/comments"));
    if !needs_body {
        events_for(h, applied, None);
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let json = serde_json::from_slice::<Value>(&bytes).ok();
    events_for(h, applied, json.as_ref());
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The `{id, type}` parent of an event from a stored object's `parent`.
fn parent_of(obj: &Value) -> Value {
    let p = &obj["parent"];
    let ty = p["type"].as_str().unwrap_or("workspace");
    match ty {
        "page_id" => json!({"id": p["page_id"], "type": "page"}),
        "block_id" => json!({"id": p["block_id"], "type": "block"}),
        "database_id" => json!({"id": p["database_id"], "type": "database"}),
        "data_source_id" => json!({"id": p["data_source_id"], "type": "data_source",
                                   "data_source_id": p["data_source_id"]}),
        _ => json!({"id": obj["workspace_id"].as_str().unwrap_or_default(), "type": "space"}),
    }
}

/// The events a successful request caused, queued for sending (`response` is the answer's
/// JSON, for the ids a create made).
fn events_for(h: &EmulatorHandle, applied: Applied<'_>, response: Option<&Value>) {
    let Applied {
        before,
        method,
        template,
        path,
        bot_id,
    } = applied;
    let Some(template) = template else { return };
    let id = path_id(path);
    let mut out: Vec<(&'static str, String, &'static str, Value)> = Vec::new();
    {
        let store = lock(&h.0.store);
        let page_events = |out: &mut Vec<_>, ty: &'static str, page_id: &str| {
            let Some(page) = store.pages.get(page_id) else {
                return;
            };
            let parent = parent_of(page);
            if parent["type"] == "data_source"
                && let Some(ds) = parent["id"].as_str()
            {
                let ds_parent = store.data_sources.get(ds).map(parent_of);
                out.push((
                    "data_source.content_updated",
                    ds.to_owned(),
                    "data_source",
                    json!({"parent": ds_parent.unwrap_or(Value::Null),
                           "updated_blocks": [{"id": page_id, "type": "page"}]}),
                ));
            }
            out.push((ty, page_id.to_owned(), "page", json!({"parent": parent})));
        };
        let content_updated = |out: &mut Vec<_>, page_id: &str, block: &str| {
            if let Some(page) = store.pages.get(page_id) {
                out.push((
                    "page.content_updated",
                    page_id.to_owned(),
                    "page",
                    json!({"parent": parent_of(page),
                           "updated_blocks": [{"id": block, "type": "block"}]}),
                ));
            }
        };
        // A data source's or database's own event: `data.parent` from the stored object.
        let container = |out: &mut Vec<_>, ty: &'static str, id: String, kind: &'static str| {
            let stored = match kind {
                "database" => store.databases.get(&id),
                _ => store.data_sources.get(&id),
            };
            let parent = stored.map_or(Value::Null, parent_of);
            out.push((ty, id, kind, json!({ "parent": parent })));
        };
        let created = response.and_then(|r| r["id"].as_str()).and_then(parse_id);
        match (method.as_str(), template, id) {
            ("POST", "/v1/pages", _) => {
                if let Some(c) = &created {
                    page_events(&mut out, "page.created", c);
                }
            }
            ("PATCH", "/v1/pages/{id}", Some(id)) => {
                let now = store.is_trashed(&id);
                let ty = match (before.was_trashed, now) {
                    (false, true) => "page.deleted",
                    (true, false) => "page.undeleted",
                    _ => "page.properties_updated",
                };
                page_events(&mut out, ty, &id);
            }
            ("POST", "/v1/pages/{id}/move", Some(id)) => page_events(&mut out, "page.moved", &id),
            ("PATCH", "/v1/pages/{id}/markdown", Some(id)) => content_updated(&mut out, &id, &id),
            ("PATCH" | "DELETE", t, Some(id)) if t.starts_with("/v1/blocks/") => {
                if let Some(page) = before.page.or_else(|| page_of(&store, &id)) {
                    content_updated(&mut out, &page, &id);
                }
            }
            ("POST", "/v1/data_sources", _) => {
                if let Some(c) = created {
                    container(&mut out, "data_source.created", c, "data_source");
                }
            }
            ("PATCH", "/v1/data_sources/{id}", Some(id)) => {
                container(&mut out, "data_source.schema_updated", id, "data_source");
            }
            ("POST", "/v1/databases", _) => {
                if let Some(c) = created {
                    container(&mut out, "database.created", c, "database");
                }
            }
            ("POST" | "PATCH" | "DELETE", t, _) if t.starts_with("/v1/comments") => {
                let ty = match method.as_str() {
                    "POST" => "comment.created",
                    "PATCH" => "comment.updated",
                    _ => "comment.deleted",
                };
                let comment = response.cloned().unwrap_or(Value::Null);
                if let Some(cid) = comment["id"].as_str().and_then(parse_id) {
                    let page_id = comment["parent"]["page_id"].clone();
                    out.push((
                        ty,
                        cid,
                        "comment",
                        json!({"page_id": page_id, "parent": parent_of(&comment)}),
                    ));
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return;
    }
    let (workspace_id, workspace_name) = {
        let s = lock(&h.0.store);
        (s.workspace_id.clone(), s.workspace_name.clone())
    };
    let guard = lock(&h.0.webhooks);
    let Some(sender) = guard.as_ref() else { return };
    for (ty, entity, kind, data) in out {
        let event = json!({
            "id": new_id(),
            "timestamp": now_millis(),
            "workspace_id": workspace_id,
            "workspace_name": workspace_name,
            "subscription_id": sender.subscription_id,
            "integration_id": bot_id,
            "type": ty,
            "authors": [{"id": bot_id, "type": "bot"}],
            "attempt_number": 1,
            "api_version": sender.api_version,
            "entity": {"id": entity, "type": kind},
            "data": data,
        });
        if sender.tx.send(event).is_ok() {
            lock(&h.0.webhook_stats).events += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let s = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
