//! Audit trail models: what is recorded per call, how it is queried (filters and cursor
//! pagination) and its JSON-lines form.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Result, StoreError};
use crate::ids::{AgentId, AuditEventId, ConnectionId, IntentId, UserId};
use crate::models::str_enum;

str_enum!(
    /// Who made the call.
    CallerKind, "caller kind" {
        /// An agent, with its own key.
        Agent => "agent",
        /// A user, with their own key.
        User => "user",
        /// The gateway itself (CLI maintenance, approvals executing).
        System => "system",
        /// A caller that failed to authenticate.
        Anonymous => "anonymous",
    }
);

str_enum!(
    /// Which surface the call came through.
    Surface, "surface" {
        /// REST API.
        Rest => "rest",
        /// Generic tool endpoint.
        Tool => "tool",
        /// MCP server.
        Mcp => "mcp",
        /// Notion-compatible proxy.
        Proxy => "proxy",
        /// Command line.
        Cli => "cli",
        /// The web console (a person reading Notion to decide an approval).
        Console => "console",
    }
);

str_enum!(
    /// The policy decision.
    AuditDecision, "decision" {
        /// Allowed.
        Allow => "allow",
        /// Denied.
        Deny => "deny",
        /// Held for human approval.
        NeedsApproval => "needs_approval",
    }
);

str_enum!(
    /// How the call ended.
    Outcome, "outcome" {
        /// Ran and succeeded.
        Ok => "ok",
        /// Ran (or tried to) and failed.
        Error => "error",
        /// Denied before running.
        Denied => "denied",
        /// Waiting for approval.
        Pending => "pending",
        /// A write whose intent was recorded but whose result nobody saw (the process stopped
        /// between the intent and the answer), and that Notion could not decide at recovery:
        /// it may or may not have happened; the reason says what is known.
        Unknown => "unknown",
    }
);

/// What a call's record and a write's intent both say about the call: when, who, through
/// which surface and connection, and what it does to which targets. Never put secrets or page
/// content here: ids only.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditCall {
    /// When the call was made, or the intent (just before the write was sent) (UTC).
    #[serde(rename = "timestamp", with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The request id (also sent back to the caller).
    pub request_id: String,
    /// Agent, user, system or anonymous.
    pub caller_kind: CallerKind,
    /// The user (an agent's owner for agent calls).
    pub user_id: Option<UserId>,
    /// The agent.
    pub agent_id: Option<AgentId>,
    /// The Notion connection used.
    pub connection_id: Option<ConnectionId>,
    /// REST, tool, MCP, proxy or CLI.
    pub surface: Surface,
    /// Action class as `gate-policy` spells it, when classified.
    pub action_class: Option<String>,
    /// Operation name.
    pub operation: String,
    /// Notion object ids the call targets.
    pub target_ids: Vec<String>,
}

impl AuditCall {
    /// A call stamped now, with the required fields; the rest are set with the setters.
    pub fn new(
        request_id: impl Into<String>,
        caller_kind: CallerKind,
        surface: Surface,
        operation: impl Into<String>,
    ) -> Self {
        Self {
            at: crate::ids::now(),
            request_id: request_id.into(),
            caller_kind,
            user_id: None,
            agent_id: None,
            connection_id: None,
            surface,
            action_class: None,
            operation: operation.into(),
            target_ids: Vec::new(),
        }
    }

    /// The same call stamped now (an intent made from a call's record, a settlement).
    pub fn stamped_now(&self) -> Self {
        self.clone().at(crate::ids::now())
    }

    /// Sets the time (stored with millisecond precision).
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = at;
        self
    }

    /// Sets the user.
    pub fn user(mut self, id: UserId) -> Self {
        self.user_id = Some(id);
        self
    }

    /// Sets the agent.
    pub fn agent(mut self, id: AgentId) -> Self {
        self.agent_id = Some(id);
        self
    }

    /// Sets the connection.
    pub fn connection(mut self, id: ConnectionId) -> Self {
        self.connection_id = Some(id);
        self
    }

    /// Sets the action class.
    pub fn action_class(mut self, class: impl Into<String>) -> Self {
        self.action_class = Some(class.into());
        self
    }

    /// Sets the target ids.
    pub fn targets(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.target_ids = ids.into_iter().map(Into::into).collect();
        self
    }
}

/// One audit record as written by the request path. Never put secrets or page content in
/// `args_summary`: ids, counts and sizes only.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// The call (its fields are the record's in JSON).
    #[serde(flatten)]
    pub call: AuditCall,
    /// Allow, deny or needs approval.
    pub decision: AuditDecision,
    /// Why (a reason code).
    pub reason: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Notion's HTTP status.
    pub upstream_status: Option<u16>,
    /// Wall time of the call.
    pub duration_ms: Option<u64>,
    /// A summary of the arguments (never secrets or content).
    pub args_summary: Option<serde_json::Value>,
    /// The intent this record completes (a write's "about to send" record, see
    /// [`AuditIntent`]).
    pub intent_id: Option<IntentId>,
}

impl AuditRecord {
    /// The record of `call`; the optional fields are set with the setters.
    pub fn new(call: AuditCall, decision: AuditDecision, outcome: Outcome) -> Self {
        Self {
            call,
            decision,
            reason: None,
            outcome,
            upstream_status: None,
            duration_ms: None,
            args_summary: None,
            intent_id: None,
        }
    }

    /// Sets the intent this record completes.
    pub fn intent(mut self, id: IntentId) -> Self {
        self.intent_id = Some(id);
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the upstream status.
    pub fn upstream_status(mut self, status: u16) -> Self {
        self.upstream_status = Some(status);
        self
    }

    /// Sets the duration.
    pub fn duration_ms(mut self, ms: u64) -> Self {
        self.duration_ms = Some(ms);
        self
    }

    /// Sets the argument summary.
    pub fn args_summary(mut self, summary: serde_json::Value) -> Self {
        self.args_summary = Some(summary);
        self
    }
}

/// The durable "about to send" record of a write: made durable (through the same path as
/// audit records) before the write is sent to Notion, and completed by the call's
/// [`AuditRecord`], which names it (`intent_id`). An intent left without a record is settled
/// at the next start (decided from Notion, or recorded with [`Outcome::Unknown`]).
/// The call's `target_ids` and `markers` hold ids, counts, types and hashes only, never
/// content.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditIntent {
    /// The intent's id (named by the record that completes it).
    pub id: IntentId,
    /// The write (its `at`: when the intent was made, just before the write was sent; its
    /// fields are the intent's in JSON).
    #[serde(flatten)]
    pub call: AuditCall,
    /// SHA-256 of the canonical request (as an approval's `request_hash`).
    pub request_hash: String,
    /// What recovery needs to find the write in Notion (method, path, parent, a hash of the
    /// title, the types of appended blocks): never content.
    pub markers: Option<serde_json::Value>,
    /// The process that made it (`host:pid:uuid`), for telling a live owner from a dead one.
    pub owner: String,
}

impl AuditIntent {
    /// An intent of the write `call`, with a new id.
    pub fn new(call: AuditCall, request_hash: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            id: IntentId::new(),
            call,
            request_hash: request_hash.into(),
            markers: None,
            owner: owner.into(),
        }
    }

    /// Sets the markers.
    pub fn markers(mut self, markers: serde_json::Value) -> Self {
        self.markers = Some(markers);
        self
    }

    /// The audit record that settles this intent: the same call stamped now, decision
    /// `allow`, naming the intent, with `outcome` and `reason`.
    pub fn settlement(&self, outcome: Outcome, reason: impl Into<String>) -> AuditRecord {
        AuditRecord::new(self.call.stamped_now(), AuditDecision::Allow, outcome)
            .reason(reason)
            .intent(self.id)
    }
}

/// What the audit writer makes durable: a record, or a write's intent.
// Nearly every entry is a record, so boxing it would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum AuditEntry {
    /// A call's record.
    Record(AuditRecord),
    /// A write's intent (boxed: rare beside records).
    Intent(Box<AuditIntent>),
}

/// A stored audit record with its id.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditEvent {
    /// Monotonic id.
    pub id: AuditEventId,
    /// What was recorded.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// The order in which a query walks events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuditOrder {
    /// Newest first (the default; what a reviewer wants).
    #[default]
    NewestFirst,
    /// Oldest first (what an export wants).
    OldestFirst,
}

/// An opaque position in an audit query: the last id returned. Its string form is URL-safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditCursor(pub(crate) i64);

impl AuditCursor {
    /// The cursor just past `id`.
    pub fn after(id: AuditEventId) -> Self {
        Self(id.0)
    }
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(format!("a1:{}", self.0)))
    }
}

impl FromStr for AuditCursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || StoreError::invalid("audit cursor");
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let id = raw.strip_prefix("a1:").ok_or_else(bad)?;
        id.parse::<i64>().map(AuditCursor).map_err(|_| bad())
    }
}

/// Filters, order and page for [`Store::query_audit`](crate::Store::query_audit).
///
/// Pages are keyed by event id, so a walk sees every event that existed when it started
/// exactly once. On PostgreSQL, ids come from a sequence and concurrent transactions may
/// commit out of id order, so an event committed *during* a walk with an id below the cursor
/// can be missed by that walk (never duplicated); a later query sees it.
#[derive(Clone, Debug, Default, derive_setters::Setters)]
#[setters(strip_option, into)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Only this agent's calls.
    #[setters(rename = "agent")]
    pub agent_id: Option<AgentId>,
    /// Only this user's calls.
    #[setters(rename = "user")]
    pub user_id: Option<UserId>,
    /// Only this action class.
    pub action_class: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this surface.
    pub surface: Option<Surface>,
    /// Only this decision.
    pub decision: Option<AuditDecision>,
    /// Only calls through this connection.
    #[setters(rename = "connection")]
    pub connection_id: Option<ConnectionId>,
    /// At or after this time.
    pub since: Option<OffsetDateTime>,
    /// Strictly before this time.
    pub until: Option<OffsetDateTime>,
    /// Walk order.
    pub order: AuditOrder,
    /// Continue after this cursor (from the previous page).
    #[setters(strip_option = false)]
    pub cursor: Option<AuditCursor>,
    /// Page size (default 100, at most 1000).
    #[setters(into = false)]
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// Every event, newest first.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page size actually used.
    pub(crate) fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// One page of audit events.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditPage {
    /// The events, in the query's order.
    pub events: Vec<AuditEvent>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<AuditCursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let c = AuditCursor(12345);
        let s = c.to_string();
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(s.parse::<AuditCursor>().ok(), Some(c));
        assert!("12345".parse::<AuditCursor>().is_err());
        assert!("!!".parse::<AuditCursor>().is_err());
    }
}
