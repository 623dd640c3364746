//! Governed sessions: one governed operation made of several Notion requests (a page and its
//! block tree, a query following cursors, a Markdown append split into many appends).
//!
//! [`Gate::session`] runs exactly the guard steps of [`Gate::call`] (canonicalise, classify,
//! local-only guard, policy with root ancestry, approvals; every refusal audited and answered
//! with the same [`GateError`]) on a *representative* request that classifies the whole
//! operation, e.g. `GET /v1/blocks/{id}/children` for a page read or
//! `PATCH /v1/blocks/{id}/children` for an append. When the call is allowed it hands out the
//! connection's [`notion_client::Connection`] (the registry's shared limiter, the token
//! validated and refreshed by the same single-flight logic `call` uses), so the handler can
//! run several requests, each through `Connection::execute` (limiter and retry). The
//! handler ends with [`GovernedSession::finish`], which writes the operation's one audit
//! record; a session dropped without `finish` is recorded as `cancelled`.
//!
//! # Approvals
//!
//! An approval stores one canonical Notion request and runs exactly that request once, so
//! only a write made of one Notion request can be held:
//!
//! - [`Gate::session`] holds the representative request at once when the policy asks for
//!   approval: use it for reads and when the representative **is** the whole operation;
//! - [`Gate::session_deferred`] holds nothing yet: the session opens with
//!   [`GovernedSession::awaiting_approval`] set, the handler may *read* what it needs to build
//!   the final request (a data source's schema to convert property values;
//!   [`GovernedSession::execute`] refuses anything but `GET` in that state), and then either
//!   holds the exact final request with [`GovernedSession::hold`] (it must classify to the
//!   same class and targets as the representative) or, when the write needs several
//!   requests (more than 100 blocks, deeper nesting), refuses with
//!   [`GovernedSession::refuse_multi`] (`approval_requires_single_request`, audited as
//!   `needs_approval`/`denied`). Either way the operation has one audit record.

use std::sync::Arc;

use gate_policy::{ActionClass, Operation, classify};
use gate_store::{AuditDecision, ConnectionId, Outcome, Surface};
use notion_client::{Connection, RawRequest, RawResponse};
use serde_json::{Value, json};

use crate::audit::CallAudit;
use crate::caller::Caller;
use crate::error::GateError;
use crate::error::Refusal;
use crate::gate::{Admitted, Gate, Hold};
use crate::request::{Canonical, NotionRequest};

/// How a governed session ended, for its audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionOutcome {
    /// Every request succeeded.
    Ok,
    /// The operation failed (or stopped part-way); `reason` is a stable code such as
    /// `notion_not_found`, `rate_limited` or `partial_write`.
    Failed {
        /// The error code recorded as the audit reason.
        reason: &'static str,
    },
}

impl SessionOutcome {
    /// The outcome of an operation that ended with this error.
    pub fn from_error(e: &GateError) -> Self {
        SessionOutcome::Failed { reason: e.code() }
    }
}

/// An allowed, governed operation in progress: the connection to run its requests on and
/// its still-open audit record. See the [module docs](self).
pub struct GovernedSession {
    gate: Gate,
    caller: Caller,
    awaiting_approval: bool,
    conn_id: ConnectionId,
    conn: Connection,
    op: Operation,
    request_id: String,
    audit: CallAudit,
}

impl std::fmt::Debug for GovernedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GovernedSession")
            .field("connection_id", &self.conn_id)
            .field("operation", &self.op.name)
            .field("class", &self.op.class)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// Governs a multi-request operation classified by `representative` (see the
    /// [module docs](crate::session)). Refusals are audited and returned exactly as
    /// [`Gate::call`] returns them; when approval is needed, `representative` is held.
    pub async fn session(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
    ) -> Result<GovernedSession, GateError> {
        self.open_session(caller, surface, representative, Hold::Request)
            .await
    }

    /// Like [`Gate::session`], but when the policy asks for approval nothing is held yet:
    /// the session opens awaiting approval and the handler ends it with
    /// [`GovernedSession::hold`] or [`GovernedSession::refuse_multi`] (see the
    /// [module docs](crate::session)).
    pub async fn session_deferred(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
    ) -> Result<GovernedSession, GateError> {
        self.open_session(caller, surface, representative, Hold::Defer)
            .await
    }

    async fn open_session(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
        hold: Hold,
    ) -> Result<GovernedSession, GateError> {
        let Admitted {
            request_id,
            mut audit,
            canonical,
            op,
            conn_id,
            awaiting_approval,
        } = self.admit(caller, surface, representative, hold).await?;
        audit.note("session", Value::Bool(true));
        let Some(conn_id) = conn_id.or(caller.connection_id) else {
            let e = GateError::NotFound { what: "connection" };
            return Err(audit
                .refuse(AuditDecision::Allow, "no_connection", Outcome::Error, e)
                .await);
        };
        // The connection as `call` would use it: the registry's limiter, the token
        // re-validated against its row and refreshed (single-flight) when expiring.
        let inner = &self.inner;
        let current = match inner.outbound_allowed() {
            Ok(()) => inner.current(&inner.entry(conn_id), None).await,
            Err(e) => Err(e),
        };
        let owned = current.and_then(|c| {
            if c.owner_id == caller.user_id {
                Ok(c)
            } else {
                Err(GateError::NotFound { what: "connection" })
            }
        });
        let current = match owned {
            Ok(c) => c,
            Err(e) => {
                audit
                    .finish(AuditDecision::Allow, Some(e.code()), Outcome::Error, None)
                    .await;
                return Err(e);
            }
        };
        // A write makes its intent durable before any of its requests is sent (fail closed).
        if !awaiting_approval && op.class != ActionClass::Read {
            if let Err(e) = audit.intend(&canonical).await {
                audit
                    .finish(AuditDecision::Allow, Some(e.code()), Outcome::Error, None)
                    .await;
                return Err(e);
            }
            inner.abort_if(crate::config::AbortPoint::AfterIntent);
        }
        let conn = match &canonical.notion_version {
            Some(v) => current.conn.with_version(v.clone()),
            None => current.conn.clone(),
        }
        .with_reauthorize(Arc::new(crate::connections::SessionReauth {
            gate: self.clone(),
            conn_id,
        }));
        Ok(GovernedSession {
            gate: self.clone(),
            caller: caller.clone(),
            awaiting_approval,
            conn_id,
            conn,
            op,
            request_id,
            audit,
        })
    }
}

impl GovernedSession {
    /// The connection to run the operation's requests on (shared limiter, retry loop).
    /// Every request goes through `Connection::execute`, directly or through an endpoint or
    /// the tree fetcher.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection's id.
    pub fn connection_id(&self) -> ConnectionId {
        self.conn_id
    }

    /// The action class the operation was governed as.
    pub fn class(&self) -> ActionClass {
        self.op.class
    }

    /// The gateway's id of this operation (also in its audit record).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Whether the policy asked for approval (only with [`Gate::session_deferred`]): the
    /// session may read, then must end with [`GovernedSession::hold`] or
    /// [`GovernedSession::refuse_multi`].
    pub fn awaiting_approval(&self) -> bool {
        self.awaiting_approval
    }

    /// Sends one request on the session's connection through the gate's checked path: the
    /// local-only guard again, and on a 401 one token refresh and one retry. While the
    /// session awaits approval only `GET` requests are sent.
    pub async fn execute(&self, req: RawRequest) -> Result<RawResponse, GateError> {
        if self.awaiting_approval && req.method != reqwest::Method::GET {
            return Err(GateError::Forbidden {
                code: Refusal::ApprovalRequiredFirst,
                reason: "this operation waits for a human's approval; nothing is written before"
                    .to_owned(),
                needed: None,
            });
        }
        self.gate
            .inner
            .execute_checked(self.conn_id, None, req, Some(self.conn.version().clone()))
            .await
    }

    /// Maps a client error of a request made on [`GovernedSession::connection`] to the
    /// gate's error (`RateLimited` for 429, `Upstream` with Notion's status and code).
    pub fn map_error(e: &notion_client::Error) -> GateError {
        GateError::from_client(e)
    }

    /// The error to answer for an operation that failed with `e`. Notion's 401 that stood
    /// after the connection's one re-authorisation is `ReconnectRequired` when that
    /// re-authorisation flagged the connection (the token was refused and cannot be
    /// refreshed, or the row is revoked), as on [`Gate::call`](crate::Gate::call); the dead
    /// token is then not sent again. A 401 after a refresh that failed for a passing reason
    /// (Notion's token endpoint down) stays an upstream error, which may be retried.
    pub async fn settle_error(&self, e: GateError) -> GateError {
        if matches!(
            e,
            GateError::Upstream {
                status: Some(401),
                ..
            }
        ) {
            let entry = self.gate.inner.entry(self.conn_id);
            if entry.is_unusable().await {
                return GateError::ReconnectRequired {
                    connection_id: Some(self.conn_id),
                };
            }
        }
        e
    }

    /// Adds a field to the audit record's argument summary (ids, counts and sizes only:
    /// never content).
    pub fn note(&mut self, key: &str, value: Value) {
        self.audit.note(key, value);
    }

    /// Holds `request`, the exact and complete write, for a human's approval and ends the
    /// session (audit `needs_approval`/`pending`); answers the error to return
    /// ([`GateError::ApprovalRequired`] with the approval's id). The request must classify to
    /// the representative's class and targets, else nothing is held and the call is refused.
    /// On a session that does not await approval this refuses too (a handler bug).
    pub async fn hold(mut self, request: NotionRequest) -> GateError {
        let refuse = |code: Refusal, reason: &str| GateError::Forbidden {
            code,
            reason: reason.to_owned(),
            needed: None,
        };
        if !self.awaiting_approval {
            let e = refuse(
                Refusal::NotAwaitingApproval,
                "the call was not held for approval",
            );
            self.audit_end(AuditDecision::Deny, e.code(), Outcome::Error)
                .await;
            return e;
        }
        let canonical = match Canonical::from_request(request) {
            Ok(c) => c,
            Err(e) => {
                self.audit_end(AuditDecision::NeedsApproval, e.code(), Outcome::Denied)
                    .await;
                return e;
            }
        };
        let op = classify(
            canonical.method.as_str(),
            &canonical.path_and_query(),
            canonical.body.as_ref(),
        );
        if op.class != self.op.class || op.targets != self.op.targets {
            let e = refuse(
                Refusal::ApprovalRequestMismatch,
                "the request to hold does not match the governed operation",
            );
            self.audit_end(AuditDecision::NeedsApproval, e.code(), Outcome::Denied)
                .await;
            return e;
        }
        match self
            .gate
            .hold_for_approval(&self.caller, &op, &canonical)
            .await
        {
            Ok(approval) => {
                self.audit
                    .note("approval_id", Value::String(approval.id.to_string()));
                self.audit
                    .note("request_hash", Value::String(approval.request_hash.clone()));
                self.audit_end(
                    AuditDecision::NeedsApproval,
                    "needs_approval",
                    Outcome::Pending,
                )
                .await;
                tracing::info!(approval_id = %approval.id, "session held for approval");
                GateError::ApprovalRequired {
                    id: approval.id,
                    expires_at: approval.expires_at,
                }
            }
            Err(e) => {
                self.audit_end(AuditDecision::NeedsApproval, e.code(), Outcome::Error)
                    .await;
                e
            }
        }
    }

    /// Refuses a write that awaits approval but needs `requests` Notion requests (an
    /// approval runs exactly one): audit `needs_approval`/`denied`, reason
    /// `approval_requires_single_request`.
    pub async fn refuse_multi(mut self, requests: usize) -> GateError {
        self.audit.note("requests_needed", json!(requests));
        let e = GateError::Forbidden {
            code: Refusal::ApprovalRequiresSingleRequest,
            reason: format!(
                "this write needs a human's approval, and only a write made of one Notion \
                 request can be held; this one needs {requests} requests (more than 100 blocks \
                 or more than two levels of nesting): split it into smaller writes"
            ),
            needed: None,
        };
        self.audit_end(AuditDecision::NeedsApproval, e.code(), Outcome::Denied)
            .await;
        e
    }

    async fn audit_end(self, decision: AuditDecision, reason: &str, outcome: Outcome) {
        self.audit
            .finish(decision, Some(reason), outcome, None)
            .await;
    }

    /// Ends the operation and writes its one audit record: decision `allow`, the outcome,
    /// the last (or failing) upstream status, Notion's request id and how many Notion
    /// requests were made.
    pub async fn finish(
        mut self,
        outcome: SessionOutcome,
        upstream_status: Option<u16>,
        notion_request_id: Option<String>,
        requests_made: u64,
    ) {
        self.audit.note("requests", json!(requests_made));
        if let Some(id) = notion_request_id {
            self.audit.note("notion_request_id", Value::String(id));
        }
        let (reason, outcome) = match outcome {
            SessionOutcome::Ok => (None, Outcome::Ok),
            SessionOutcome::Failed { reason } => (Some(reason), Outcome::Error),
        };
        let decision = if self.awaiting_approval {
            // Ended without holding or refusing: record it as such.
            AuditDecision::NeedsApproval
        } else {
            AuditDecision::Allow
        };
        self.audit
            .finish(decision, reason, outcome, upstream_status)
            .await;
    }
}
