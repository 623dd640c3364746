//! Intent before effect: before a write (any class but `read`) is sent to Notion, its
//! *intent* is made durable through the same path and group commit as audit records
//! ([`CallAudit::intend`](crate::audit::CallAudit::intend)); the call's audit record names it
//! and completes it. A process that stops between the two (a crash, SIGKILL, power loss with
//! `--audit-durability fsync`) leaves an intent without a record. [`Gate::settle_intents`]
//! (run when the server starts, and now and then while it runs) settles every such intent of
//! a process known to be dead (same host, pid gone) or older than [`INTENT_LEASE`]:
//!
//! - decided from Notion where the intent's markers allow it: a page create by a child page
//!   of the parent with the same title (compared by SHA-256) created by the connection's bot
//!   since the intent; an append by a run of blocks of the appended types created by the bot
//!   since the intent; an update of one object by its `last_edited_time` and
//!   `last_edited_by` (edited by the bot since the intent: applied; not edited since well
//!   before it: not applied);
//! - otherwise recorded with outcome `unknown` and the reason.
//!
//! Notion's times are whole minutes and clocks differ, so "since the intent" means from the
//! minute [`CLOCK_SKEW`] before it; an edit in between is `unknown`, never `ok`. A settling is
//! claimed in the store first, so two instances never settle one intent twice. Settlement
//! records carry `args_summary.recovered = true`, the intent's time and the evidence.

use std::time::Duration;

use gate_store::{AuditIntent, AuditRecord, ConnectionId, Outcome, intent_owner, owner_is_dead};
use notion_client::{Idempotency, RawRequest};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::GateError;
use crate::gate::Gate;
use crate::request::Canonical;

/// An intent without a record that is older than this is settled even when its owner is not
/// known to be dead (another host's process): no call runs that long (the server's time limit
/// is 120 s).
pub const INTENT_LEASE: Duration = Duration::from_secs(600);

/// How long one instance's claim on settling an intent holds.
const SETTLE_CLAIM: Duration = Duration::from_secs(120);

/// How far the gateway's clock and Notion's may differ.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// Most intents settled per run.
const SETTLE_BATCH: u32 = 1000;

/// Most children pages read when looking for a create or an append.
const CHILDREN_PAGES: usize = 20;

/// What one run of [`Gate::settle_intents`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettleReport {
    /// Intents without a record found.
    pub open: usize,
    /// Settled as applied (`ok`).
    pub applied: usize,
    /// Settled as not applied (`error`, reason `recovered_not_applied`).
    pub not_applied: usize,
    /// Settled with outcome `unknown`.
    pub unknown: usize,
    /// Left alone: their process may still be running them, or another instance settles them.
    pub left: usize,
}

/// The SHA-256 of the canonical request, as an approval's `request_hash`.
fn request_hash(c: &Canonical) -> String {
    gate_store::sha256_hex(c.to_json().to_string().as_bytes())
}

/// The plain text of a page's title (its `title` property), as Notion returns the page; `None`
/// when it has no title property.
pub fn page_title(page: &Value) -> Option<String> {
    page.get("properties")
        .and_then(Value::as_object)
        .and_then(|props| props.values().find_map(|v| v.get("title")?.as_array()))
        .map(|rich| title_text(rich))
}

/// The plain text of a title property value (`[{"text": {"content": …}}]` or
/// `plain_text`).
fn title_text(rich: &[Value]) -> String {
    rich.iter()
        .filter_map(|t| {
            t.get("plain_text")
                .and_then(Value::as_str)
                .or_else(|| t.get("text")?.get("content")?.as_str())
        })
        .collect()
}

/// What recovery needs to find the write in Notion: method, path, the parent, a hash of the
/// title, the types of the blocks written. Never content.
pub(crate) fn markers(c: &Canonical) -> Value {
    let mut m = json!({"method": c.method.as_str(), "path": c.path});
    let Some(body) = &c.body else { return m };
    if let Some(p) = body.get("parent") {
        for key in ["page_id", "block_id", "database_id", "data_source_id"] {
            if let Some(id) = p.get(key).and_then(Value::as_str) {
                m["parent"] = json!({"type": key, "id": id});
                break;
            }
        }
    }
    let title = body
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|props| {
            props.values().find_map(|v| {
                v.get("title")
                    .and_then(Value::as_array)
                    .or_else(|| v.as_array())
            })
        })
        .map(|t| title_text(t));
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        m["title_sha256"] = Value::String(gate_store::sha256_hex(t.as_bytes()));
    }
    // Moving to or out of the trash (`archived` is its older name).
    if let Some(t) = ["in_trash", "archived"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_bool))
    {
        m["in_trash"] = Value::Bool(t);
    }
    if let Some(children) = body.get("children").and_then(Value::as_array) {
        let types: Vec<&str> = children
            .iter()
            .map(|b| b.get("type").and_then(Value::as_str).unwrap_or("?"))
            .collect();
        m["children"] = json!(types);
    }
    m
}

/// The intent of the write `r` is the record of.
pub(crate) fn intent_for(r: &AuditRecord, c: &Canonical) -> AuditIntent {
    AuditIntent::new(r.call.stamped_now(), request_hash(c), intent_owner()).markers(markers(c))
}

/// How an intent is settled.
struct Verdict {
    outcome: Outcome,
    reason: &'static str,
    evidence: Value,
}

impl Verdict {
    fn unknown(reason: &'static str, evidence: Value) -> Self {
        Self {
            outcome: Outcome::Unknown,
            reason,
            evidence,
        }
    }
}

fn time_of(v: &Value, key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.get(key)?.as_str()?, &Rfc3339).ok()
}

fn by(v: &Value, key: &str) -> Option<String> {
    Some(v.get(key)?.get("id")?.as_str()?.replace('-', ""))
}

/// The start of the minute of `t`.
fn minute(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t)
}

fn path_id(path: &str, prefix: &str, suffix: &str) -> Option<String> {
    let rest = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
}

impl Gate {
    /// Settles every intent without a record whose process is known to be dead, or that is
    /// older than [`INTENT_LEASE`] (see the [module docs](crate::intents)). Each settled
    /// intent gets one audit record: decided from Notion, or `unknown` with the reason. Safe
    /// to run on several instances at once.
    pub async fn settle_intents(&self) -> Result<SettleReport, GateError> {
        let store = &self.inner.store;
        let me = intent_owner();
        let open = store.open_intents(SETTLE_BATCH).await?;
        let mut report = SettleReport {
            open: open.len(),
            ..SettleReport::default()
        };
        let now = OffsetDateTime::now_utc();
        for intent in open {
            let stale = now - intent.call.at > INTENT_LEASE;
            if intent.owner == me || !(stale || owner_is_dead(&intent.owner)) {
                report.left += 1;
                continue;
            }
            if !store.claim_intent(intent.id, me, SETTLE_CLAIM).await? {
                report.left += 1;
                continue;
            }
            let verdict = self.decide_intent(&intent).await;
            match verdict.outcome {
                Outcome::Ok => report.applied += 1,
                Outcome::Unknown => report.unknown += 1,
                _ => report.not_applied += 1,
            }
            tracing::warn!(
                request_id = %intent.call.request_id,
                operation = %intent.call.operation,
                outcome = %verdict.outcome,
                reason = verdict.reason,
                "settled a write whose process stopped between its intent and its audit record"
            );
            let mut record = intent.settlement(verdict.outcome, verdict.reason);
            record.args_summary = Some(json!({
                "recovered": true,
                "intent_at": intent.call.at.format(&Rfc3339).unwrap_or_default(),
                "request_hash": intent.request_hash,
                "evidence": verdict.evidence,
            }));
            self.inner.audit.record_durable(record).await.map_err(|_| {
                GateError::Store(gate_store::StoreError::Conflict {
                    what: "the audit writer has shut down".to_owned(),
                })
            })?;
        }
        if report.open > report.left {
            tracing::info!(?report, "intents without an audit record settled");
        }
        Ok(report)
    }

    /// Decides an intent from Notion where its markers allow it.
    async fn decide_intent(&self, intent: &AuditIntent) -> Verdict {
        let Some(conn) = intent.call.connection_id else {
            return Verdict::unknown("recovery_no_connection", Value::Null);
        };
        let markers = intent.markers.clone().unwrap_or(Value::Null);
        let method = markers.get("method").and_then(Value::as_str).unwrap_or("");
        let path = markers.get("path").and_then(Value::as_str).unwrap_or("");
        let bot = match self.inner.store.get_connection(conn).await {
            Ok(c) => c.bot.bot_id.replace('-', ""),
            Err(_) => return Verdict::unknown("recovery_no_connection", Value::Null),
        };
        let since = minute(intent.call.at);
        let result = match (method, path) {
            ("POST", "/v1/pages") => self.find_create(conn, &markers, &bot, since).await,
            ("PATCH", p) if p.starts_with("/v1/blocks/") && p.ends_with("/children") => {
                match path_id(p, "/v1/blocks/", "/children") {
                    Some(id) => self.find_append(conn, &id, &markers, &bot, since).await,
                    None => Ok(Verdict::unknown("recovery_unsupported", Value::Null)),
                }
            }
            ("PATCH" | "DELETE", p) => {
                let object = [
                    "/v1/pages/",
                    "/v1/blocks/",
                    "/v1/databases/",
                    "/v1/data_sources/",
                ]
                .iter()
                .find_map(|prefix| path_id(p, prefix, "").map(|id| format!("{prefix}{id}")));
                match object {
                    Some(get) => self.find_update(conn, &get, &bot, intent).await,
                    None => Ok(Verdict::unknown("recovery_unsupported", Value::Null)),
                }
            }
            _ => Ok(Verdict::unknown("recovery_unsupported", Value::Null)),
        };
        result.unwrap_or_else(|e| {
            Verdict::unknown("recovery_lookup_failed", json!({"error": e.code()}))
        })
    }

    async fn get_json(
        &self,
        conn: ConnectionId,
        path: &str,
        query: Vec<(String, String)>,
    ) -> Result<Value, GateError> {
        let mut req = RawRequest::new(reqwest::Method::GET, path, Idempotency::Safe);
        req.query = query;
        let resp = self.inner.execute_raw(conn, req, None).await?;
        if !(200..300).contains(&resp.status) {
            return Err(GateError::Upstream {
                status: Some(resp.status),
                code: None,
                message: "lookup refused".to_owned(),
                request_id: resp.request_id(),
                write_state: notion_client::WriteState::NotApplied,
            });
        }
        serde_json::from_slice(&resp.body).map_err(|_| GateError::Upstream {
            status: Some(resp.status),
            code: None,
            message: "not JSON".to_owned(),
            request_id: None,
            write_state: notion_client::WriteState::NotApplied,
        })
    }

    /// The children of a block, in order (the first [`CHILDREN_PAGES`] pages).
    async fn children(&self, conn: ConnectionId, id: &str) -> Result<Vec<Value>, GateError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..CHILDREN_PAGES {
            let mut query = vec![("page_size".to_owned(), "100".to_owned())];
            if let Some(c) = &cursor {
                query.push(("start_cursor".to_owned(), c.clone()));
            }
            let page = self
                .get_json(conn, &format!("/v1/blocks/{id}/children"), query)
                .await?;
            if let Some(r) = page.get("results").and_then(Value::as_array) {
                all.extend(r.iter().cloned());
            }
            cursor = page
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// A page create under a page: a child page with the intent's title hash, created by
    /// the bot since the intent.
    async fn find_create(
        &self,
        conn: ConnectionId,
        markers: &Value,
        bot: &str,
        since: OffsetDateTime,
    ) -> Result<Verdict, GateError> {
        let parent = markers.get("parent");
        let parent_id = parent
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("page_id"))
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str);
        let (Some(parent_id), Some(title)) = (
            parent_id,
            markers.get("title_sha256").and_then(Value::as_str),
        ) else {
            return Ok(Verdict::unknown("recovery_no_marker", Value::Null));
        };
        let from = minute(since - CLOCK_SKEW);
        let found = self.children(conn, parent_id).await?.into_iter().find(|b| {
            b.get("type").and_then(Value::as_str) == Some("child_page")
                && b.get("child_page")
                    .and_then(|c| c.get("title"))
                    .and_then(Value::as_str)
                    .is_some_and(|t| gate_store::sha256_hex(t.as_bytes()) == title)
                && by(b, "created_by").as_deref() == Some(bot)
                && time_of(b, "created_time").is_some_and(|t| t >= from)
        });
        Ok(match found {
            Some(b) => Verdict {
                outcome: Outcome::Ok,
                reason: "recovered_found",
                evidence: json!({"page_id": b.get("id"), "created_time": b.get("created_time")}),
            },
            None => Verdict::unknown("recovered_not_found", json!({"parent_id": parent_id})),
        })
    }

    /// An append: a run of children of the appended types, created by the bot since the
    /// intent.
    async fn find_append(
        &self,
        conn: ConnectionId,
        id: &str,
        markers: &Value,
        bot: &str,
        since: OffsetDateTime,
    ) -> Result<Verdict, GateError> {
        let Some(types) = markers.get("children").and_then(Value::as_array) else {
            return Ok(Verdict::unknown("recovery_no_marker", Value::Null));
        };
        let types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        if types.is_empty() {
            return Ok(Verdict::unknown("recovery_no_marker", Value::Null));
        }
        let from = minute(since - CLOCK_SKEW);
        let children = self.children(conn, id).await?;
        let fits = |b: &Value, ty: &str| {
            b.get("type").and_then(Value::as_str) == Some(ty)
                && by(b, "created_by").as_deref() == Some(bot)
                && time_of(b, "created_time").is_some_and(|t| t >= from)
        };
        let run = children
            .windows(types.len())
            .find(|w| w.iter().zip(&types).all(|(b, ty)| fits(b, ty)));
        Ok(match run {
            Some(w) => Verdict {
                outcome: Outcome::Ok,
                reason: "recovered_found",
                evidence: json!({"block_ids": w.iter().map(|b| b.get("id").cloned().unwrap_or(Value::Null)).collect::<Vec<_>>()}),
            },
            None => Verdict::unknown("recovered_not_found", json!({"block_id": id})),
        })
    }

    /// An update of one object. Not edited since well before the intent: not applied.
    /// Edited by the bot since the intent: applied only when that edit is this write's, that
    /// is when the object now holds what the write set (its title, its place in or out of
    /// the trash), or, for a write without such a marker, when no other write of this
    /// gateway to the object since then (an `ok` record or another open intent) could have
    /// made the edit. Anything else is unknown: an edit by the same bot (another agent on
    /// the connection, or the writer's own next write) proves nothing about this one.
    async fn find_update(
        &self,
        conn: ConnectionId,
        path: &str,
        bot: &str,
        intent: &AuditIntent,
    ) -> Result<Verdict, GateError> {
        let since = minute(intent.call.at);
        let markers = intent.markers.clone().unwrap_or(Value::Null);
        let object = self.get_json(conn, path, Vec::new()).await?;
        let Some(edited) = time_of(&object, "last_edited_time") else {
            return Ok(Verdict::unknown("recovery_no_marker", Value::Null));
        };
        let by_bot = by(&object, "last_edited_by").as_deref() == Some(bot);
        let content = content_matches(&markers, &object);
        let mut evidence = json!({
            "last_edited_time": object.get("last_edited_time"),
            "last_edited_by_bot": by_bot,
        });
        if let Some(c) = content {
            evidence["content_matches"] = Value::Bool(c);
        }
        if edited < minute(since - CLOCK_SKEW) {
            return Ok(Verdict {
                outcome: Outcome::Error,
                reason: "recovered_not_applied",
                evidence,
            });
        }
        if !(edited >= since && by_bot) {
            return Ok(Verdict::unknown("recovered_edited_by_other", evidence));
        }
        Ok(match content {
            Some(true) => Verdict {
                outcome: Outcome::Ok,
                reason: "recovered_content_matches",
                evidence,
            },
            Some(false) => Verdict::unknown("recovered_content_differs", evidence),
            None => {
                let object_id = path.rsplit('/').next().unwrap_or_default();
                if self.other_write_to(conn, intent, object_id).await? {
                    Verdict::unknown("recovered_edited_by_other_write", evidence)
                } else {
                    Verdict {
                        outcome: Outcome::Ok,
                        reason: "recovered_edited_since",
                        evidence,
                    }
                }
            }
        })
    }

    /// Whether another write of this gateway to `object_id` on the connection, since a minute
    /// before the intent's, could explain an edit: an `ok` record or another open intent
    /// naming it. True when there are too many records to tell.
    async fn other_write_to(
        &self,
        conn: ConnectionId,
        intent: &AuditIntent,
        object_id: &str,
    ) -> Result<bool, GateError> {
        let norm = |id: &str| id.replace('-', "").to_ascii_lowercase();
        let object_id = norm(object_id);
        let names = |targets: &[String]| targets.iter().any(|t| norm(t) == object_id);
        let store = &self.inner.store;
        let open = store.open_intents(SETTLE_BATCH).await?;
        if open.iter().any(|i| {
            i.id != intent.id && i.call.connection_id == Some(conn) && names(&i.call.target_ids)
        }) {
            return Ok(true);
        }
        // Records of answered calls may still be on their way to the table (SQLite's spool).
        self.inner.audit.settle().await;
        let from = minute(minute(intent.call.at) - CLOCK_SKEW);
        let mut cursor = None;
        for _ in 0..OTHER_WRITE_PAGES {
            let page = store
                .query_audit(
                    &gate_store::AuditQuery::new()
                        .connection(conn)
                        .outcome(Outcome::Ok)
                        .since(from)
                        .limit(1000)
                        .cursor(cursor),
                )
                .await?;
            if page.events.iter().any(|e| {
                e.record.call.request_id != intent.call.request_id
                    && e.record.call.action_class.as_deref() != Some("read")
                    && names(&e.record.call.target_ids)
            }) {
                return Ok(true);
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Pages of 1,000 audit records looked through for another write to an object.
const OTHER_WRITE_PAGES: usize = 10;

/// Whether the object holds what the write set, by the intent's markers: the title (by its
/// hash) and the place in or out of the trash. `None` when the markers name neither.
fn content_matches(markers: &Value, object: &Value) -> Option<bool> {
    let mut checked = None;
    if let Some(want) = markers.get("title_sha256").and_then(Value::as_str) {
        let title = page_title(object);
        checked = Some(title.is_some_and(|t| gate_store::sha256_hex(t.as_bytes()) == want));
    }
    if let Some(want) = markers.get("in_trash").and_then(Value::as_bool) {
        let now = ["in_trash", "archived"]
            .iter()
            .find_map(|k| object.get(*k).and_then(Value::as_bool));
        checked = Some(checked.unwrap_or(true) && now == Some(want));
    }
    checked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::NotionRequest;

    #[test]
    fn markers_hold_ids_types_and_hashes_never_content() {
        let c = Canonical::from_request(NotionRequest::post(
            "/v1/pages",
            json!({
                "parent": {"page_id": "1a2b3c4d5e6f8000a000000000000101"},
                "properties": {"title": {"title": [{"text": {"content": "Secret plans"}}]}},
                "children": [{"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "more secrets"}}]}}]
            }),
        ))
        .expect("canonical");
        let m = markers(&c);
        let text = m.to_string();
        assert!(
            !text.contains("Secret") && !text.contains("secrets"),
            "{text}"
        );
        assert_eq!(m["parent"]["type"], "page_id");
        assert_eq!(m["children"], json!(["paragraph"]));
        assert_eq!(
            m["title_sha256"],
            gate_store::sha256_hex("Secret plans".as_bytes())
        );
        assert_eq!(m["method"], "POST");
    }

    #[test]
    fn path_ids() {
        assert_eq!(
            path_id("/v1/blocks/abc/children", "/v1/blocks/", "/children").as_deref(),
            Some("abc")
        );
        assert_eq!(
            path_id("/v1/pages/abc", "/v1/pages/", "").as_deref(),
            Some("abc")
        );
        assert_eq!(path_id("/v1/pages/abc/x", "/v1/pages/", ""), None);
    }
}
