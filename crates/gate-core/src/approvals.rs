//! Approvals: a held call is approved or denied by its agent's owner (or an admin) and then
//! runs **exactly once**: the run is claimed with the store's conditional update, so a second
//! concurrent approve or run (in this instance or another) gets the stored result or a
//! conflict, never a second execution. The execution runs in its own task, so a caller that
//! goes away cannot leave the approval stuck half-way. Its result (status and body) is kept
//! for the requester (or an admin) to fetch.
//!
//! Before running, the requester is looked up again and the policy re-checked: an agent
//! disabled or demoted below the class's minimum since the request was held is refused (the
//! approval ends `failed`). Each execution writes its own audit record (caller kind
//! `system`, reason `approved`, the approval id in the summary).

use std::time::Duration;

use gate_policy::Decision;
use gate_store::{
    Approval, ApprovalDecision, ApprovalFilter, ApprovalId, ApprovalOutcome, ApprovalStatus,
    AuditDecision, CallerKind, MAX_APPROVAL_NOTE, Outcome, RequesterKind, Surface,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::audit::CallAudit;
use crate::caller::Caller;
use crate::error::GateError;
use crate::error::Refusal;
use crate::gate::{Gate, new_request_id};
use crate::notify::ApprovalEvent;
use crate::request::Canonical;
use crate::watch::MAX_APPROVAL_WAIT;

fn error_json(code: &str, message: &str) -> String {
    json!({"object": "error", "code": code, "message": message}).to_string()
}

impl Gate {
    /// An approval the caller may decide (its agent's owner, or an admin). Anything else is
    /// `NotFound` (no oracle); agents may decide nothing.
    async fn approval_for_decider(
        &self,
        decider: &Caller,
        id: ApprovalId,
    ) -> Result<Approval, GateError> {
        if decider.is_agent() {
            return Err(GateError::not_permitted("agents cannot decide approvals"));
        }
        self.approval_where(id, |a| {
            decider.is_admin() || a.request.requester_user_id == Some(decider.user_id)
        })
        .await
    }

    /// The approval `id` when `visible` says the caller may see it; `NotFound` otherwise, as
    /// for an approval that does not exist (no oracle).
    async fn approval_where(
        &self,
        id: ApprovalId,
        visible: impl FnOnce(&Approval) -> bool,
    ) -> Result<Approval, GateError> {
        let a = self.inner.store.get_approval(id).await?;
        if visible(&a) {
            Ok(a)
        } else {
            Err(GateError::NotFound { what: "approval" })
        }
    }

    /// Records a decider's answer to a pending approval (the note checked, the decider's
    /// rights checked) and wakes those who wait on it.
    async fn decide(
        &self,
        decider: &Caller,
        id: ApprovalId,
        decision: ApprovalDecision,
        note: Option<&str>,
    ) -> Result<Approval, GateError> {
        check_note(note)?;
        self.approval_for_decider(decider, id).await?;
        let decided = self
            .inner
            .store
            .decide_approval(
                id,
                gate_store::Decided::new(decision, decider.user_id, note),
            )
            .await?;
        self.inner.watch.changed(id);
        let what = match decision {
            ApprovalDecision::Approve => "approval granted",
            ApprovalDecision::Deny => "approval denied",
        };
        tracing::info!(approval_id = %id, decided_by = %decider.user_id, "{what}");
        Ok(decided)
    }

    /// Approves a pending approval and runs it (once), keeping the decider's `note` for the
    /// requester (at most [`MAX_APPROVAL_NOTE`] characters; blank is none). Returns the
    /// approval once the run ended (`executed` or `failed`). Only the agent's owner or an
    /// admin may approve (agents: `Forbidden`; anyone else: `NotFound`). A second approve is
    /// a [`GateError::Conflict`]; an expired or withdrawn one too.
    pub async fn approve(
        &self,
        decider: &Caller,
        id: ApprovalId,
        note: Option<&str>,
    ) -> Result<Approval, GateError> {
        let decided = self
            .decide(decider, id, ApprovalDecision::Approve, note)
            .await?;
        let result = self.run_approved(id).await;
        self.notify(ApprovalEvent::Decided, result.as_ref().unwrap_or(&decided));
        result
    }

    /// Denies a pending approval, keeping the decider's `note` (the requester reads it with
    /// the approval, on every surface). Same rights and conflicts as [`Gate::approve`].
    pub async fn deny(
        &self,
        decider: &Caller,
        id: ApprovalId,
        note: Option<&str>,
    ) -> Result<Approval, GateError> {
        let a = self
            .decide(decider, id, ApprovalDecision::Deny, note)
            .await?;
        self.notify(ApprovalEvent::Decided, &a);
        Ok(a)
    }

    /// Withdraws the caller's own pending approval: the call will never run (status
    /// `withdrawn`). Only its requester may (the agent that asked, or the user whose own call
    /// it was); the agent's owner or an admin denies instead (`Forbidden`). Someone else's is
    /// `NotFound`; one no longer pending is a [`GateError::Conflict`].
    pub async fn withdraw(
        &self,
        caller: &Caller,
        id: ApprovalId,
    ) -> Result<ApprovalView, GateError> {
        let a = self.approval_result(caller, id).await?;
        let requester = match caller.agent_id {
            Some(agent) => a.request.agent_id == Some(agent),
            None => {
                a.request.agent_id.is_none() && a.request.requester_user_id == Some(caller.user_id)
            }
        };
        if !requester {
            return Err(GateError::not_permitted(
                "only the requester can withdraw an approval; deny it instead",
            ));
        }
        let a = self.inner.store.withdraw_approval(id).await?;
        self.inner.watch.changed(id);
        tracing::info!(approval_id = %id, "approval withdrawn by its requester");
        Ok(ApprovalView::new(a))
    }

    /// The approval as its requester sees it (status, the decider's note, the result once
    /// it ran): for an agent only its own, for a user their own and their agents', for an
    /// admin any. Anyone else gets `NotFound`, as for an id that does not exist.
    pub async fn approval_view(
        &self,
        caller: &Caller,
        id: ApprovalId,
    ) -> Result<ApprovalView, GateError> {
        Ok(ApprovalView::new(self.approval_result(caller, id).await?))
    }

    /// Like [`Gate::approval_view`], but waits up to `wait` (at most [`MAX_APPROVAL_WAIT`])
    /// for the approval to become final, and answers as soon as it is (or with its state at
    /// the end of the wait). Works across instances (see the `watch` module: in-process
    /// notifier, PostgreSQL `LISTEN`, the [`ApprovalBus`](crate::ApprovalBus), re-reads as a
    /// fallback). One key holds at most `max_waits_per_key` waits at once
    /// ([`GateError::TooManyWaits`]).
    pub async fn wait_approval(
        &self,
        caller: &Caller,
        id: ApprovalId,
        wait: Duration,
    ) -> Result<ApprovalView, GateError> {
        if wait > MAX_APPROVAL_WAIT {
            return Err(GateError::invalid(
                "wait",
                format!("at most {} seconds", MAX_APPROVAL_WAIT.as_secs()),
            ));
        }
        let view = self.approval_view(caller, id).await?;
        if wait.is_zero() || view.is_final() {
            return Ok(view);
        }
        let watch = &self.inner.watch;
        let _slot = watch.admit(caller.key_id)?;
        watch.start(&self.inner.store);
        let mut changes = watch.subscribe(id);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Read after subscribing: a change between the two is never missed.
            let view = self.approval_view(caller, id).await?;
            let now = tokio::time::Instant::now();
            if view.is_final() || now >= deadline {
                return Ok(view);
            }
            let mut next = deadline.min(now + watch.poll_interval());
            if view.status == ApprovalStatus::Pending {
                let left = view.approval.expires_at - OffsetDateTime::now_utc();
                let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
                next = next.min(now + left);
            }
            tokio::select! {
                () = changes.changed() => {}
                () = tokio::time::sleep_until(next) => {}
                () = watch.ending() => return self.approval_view(caller, id).await,
            }
        }
    }

    /// The caller's approvals as [`Gate::approval_view`] shows them, newest first: an
    /// agent's own, a user's own and their agents', an admin's all; only those in `status`
    /// when given (a pending one past its expiry counts as `expired`); at most `limit`
    /// (1–1000).
    pub async fn approval_views(
        &self,
        caller: &Caller,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> Result<Vec<ApprovalView>, GateError> {
        let mut filter = ApprovalFilter::new().limit(limit);
        if let Some(s) = status {
            filter = filter.status(s);
        }
        let found = self.list_approvals(caller, filter).await?;
        Ok(found
            .into_iter()
            .map(ApprovalView::new)
            .filter(|v| status.is_none_or(|s| v.status == s))
            .collect())
    }

    /// Ends every approval wait (present and future) with the approval as it stands, so that
    /// waits do not hold up a graceful shutdown: call it when the server begins to stop.
    pub fn end_waits(&self) {
        self.inner.watch.end_waits();
    }

    /// How many approval waits `key` holds right now (at most `max_waits_per_key`).
    pub fn approval_waits_held(&self, key: gate_store::ApiKeyId) -> usize {
        self.inner.watch.held(key)
    }

    /// Whether approval changes from other instances reach this gate's waits right now (a
    /// PostgreSQL store's announcements, or the approval bus), rather than re-reads alone.
    pub fn approval_changes_connected(&self) -> bool {
        self.inner.watch.cross_instance()
    }

    /// Runs an approved request exactly once and returns the approval with its stored result.
    /// If another caller already claimed it, returns the stored result when it is there, or a
    /// [`GateError::Conflict`] while it is still running (or was never approved).
    pub async fn run_approved(&self, id: ApprovalId) -> Result<Approval, GateError> {
        let store = &self.inner.store;
        if self.is_local_only() {
            // Checked before claiming, so the approval stays runnable once the mode is off.
            return Err(GateError::LocalOnly);
        }
        let claimed = store.claim_approval_for_execution(id).await?;
        if claimed {
            self.inner.watch.changed(id);
        }
        if !claimed {
            let a = store.get_approval(id).await?;
            return match a.status {
                ApprovalStatus::Executed | ApprovalStatus::Failed => Ok(a),
                other => Err(GateError::Conflict {
                    what: format!("approval is {other}"),
                }),
            };
        }
        let approval = store.get_approval(id).await?;
        let gate = self.clone();
        let task = tokio::spawn(async move { gate.execute_claimed(approval).await });
        match task.await {
            Ok(r) => r,
            Err(_) => Err(GateError::Conflict {
                what: "the approved call's task failed".to_owned(),
            }),
        }
    }

    async fn execute_claimed(&self, approval: Approval) -> Result<Approval, GateError> {
        let inner = &self.inner;
        let request_id = new_request_id();
        let mut audit =
            CallAudit::new(&inner.audit, &request_id, CallerKind::System, Surface::Rest);
        audit.note("approval_id", Value::String(approval.id.to_string()));
        audit.note("request_hash", Value::String(approval.request_hash.clone()));
        let outcome = self.execute_approval(&approval, &mut audit).await;
        let (stored, decision, reason, result_outcome, status) = match outcome {
            Ok((status, body)) => {
                let ok = (200..300).contains(&status);
                let reason = if ok { "approved" } else { "upstream_error" };
                let stored = if ok {
                    ApprovalOutcome::ok(body, Some(status))
                } else {
                    ApprovalOutcome::failed(body, Some(status))
                };
                let o = if ok { Outcome::Ok } else { Outcome::Error };
                (stored, AuditDecision::Allow, reason, o, Some(status))
            }
            Err(RunError::Denied(code, message)) => (
                ApprovalOutcome::failed(error_json(code, &message), None),
                AuditDecision::Deny,
                code,
                Outcome::Denied,
                None,
            ),
            Err(RunError::Failed(e)) => (
                ApprovalOutcome::failed(error_json(e.code(), &e.to_string()), None),
                AuditDecision::Allow,
                e.code(),
                Outcome::Error,
                match &e {
                    GateError::Upstream { status, .. } => *status,
                    _ => None,
                },
            ),
        };
        audit
            .finish(decision, Some(reason), result_outcome, status)
            .await;
        let finished = inner.store.finish_approval(approval.id, stored).await?;
        self.inner.watch.changed(approval.id);
        Ok(finished)
    }

    async fn execute_approval(
        &self,
        approval: &Approval,
        audit: &mut CallAudit,
    ) -> Result<(u16, String), RunError> {
        let inner = &self.inner;
        let stored: Value = serde_json::from_str(&approval.request.request_json).map_err(|_| {
            RunError::Denied("invalid_request", "stored request is not JSON".into())
        })?;
        let canonical = Canonical::from_json(&stored)
            .map_err(|e| RunError::Denied("invalid_request", e.to_string()))?;
        let op = audit.classified(&canonical);
        // The requester as they are now.
        let requester = self
            .requester_now(approval)
            .await
            .map_err(RunError::Failed)?;
        if let Some(c) = requester.connection_id {
            audit.connection(c);
        }
        let conn = approval.request.connection_id.or(requester.connection_id);
        let (decision, _) = inner
            .decide_full(&requester.policy_caller(), conn, &op)
            .await;
        match decision {
            Decision::Allow | Decision::NeedsApproval { .. } => {}
            Decision::Deny { reason, .. } => {
                return Err(RunError::Denied(reason.code(), reason.to_string()));
            }
            _ => {
                return Err(RunError::Denied(
                    "outside_roots",
                    "could not establish that the targets are inside the agent's allowed pages"
                        .into(),
                ));
            }
        }
        let Some(conn) = conn else {
            return Err(RunError::Failed(GateError::NotFound { what: "connection" }));
        };
        audit.connection(conn);
        let resp = self
            .execute(conn, &requester, &canonical, &op, audit)
            .await
            .map_err(RunError::Failed)?;
        if let Some(id) = resp.request_id() {
            audit.note("notion_request_id", Value::String(id));
        }
        let body = match serde_json::from_slice::<Value>(&resp.body) {
            Ok(v) => v.to_string(),
            Err(_) => json!({"raw": String::from_utf8_lossy(&resp.body)}).to_string(),
        };
        Ok((resp.status, body))
    }

    /// The requester of an approval, freshly loaded (not from the cache).
    async fn requester_now(&self, a: &Approval) -> Result<Caller, GateError> {
        let store = &self.inner.store;
        match (
            a.request.requester_kind,
            a.request.agent_id,
            a.request.requester_user_id,
        ) {
            (RequesterKind::Agent, Some(agent_id), _) => {
                let agent = store.get_agent(agent_id).await?;
                let owner = store.get_user(agent.owner_id).await?;
                let maturity = agent.maturity.parse::<gate_policy::Maturity>().ok();
                Ok(Caller::agent(
                    agent.id,
                    agent.owner_id,
                    agent.name,
                    maturity.unwrap_or(gate_policy::Maturity::Student),
                    agent.disabled || owner.disabled || maturity.is_none(),
                    agent.connection_id,
                    gate_store::ApiKeyId::from_uuid(uuid::Uuid::nil()),
                    agent.version,
                ))
            }
            (_, _, Some(user_id)) => {
                let user = store.get_user(user_id).await?;
                if user.disabled {
                    return Err(GateError::Forbidden {
                        code: Refusal::UserDisabled,
                        reason: "the requesting user is disabled".to_owned(),
                        needed: None,
                    });
                }
                let conn = self.default_connection(user.id).await?;
                Ok(Caller::user(
                    user.id,
                    user.name,
                    user.is_admin,
                    conn,
                    gate_store::ApiKeyId::from_uuid(uuid::Uuid::nil()),
                ))
            }
            _ => Err(GateError::NotFound { what: "requester" }),
        }
    }

    /// An approval with its result, for its requester (the agent, or the user who asked or
    /// owns the agent) or an admin. Anyone else gets `NotFound`.
    pub async fn approval_result(
        &self,
        caller: &Caller,
        id: ApprovalId,
    ) -> Result<Approval, GateError> {
        self.approval_where(id, |a| {
            caller.is_admin()
                || match caller.agent_id {
                    Some(agent) => a.request.agent_id == Some(agent),
                    None => a.request.requester_user_id == Some(caller.user_id),
                }
        })
        .await
    }

    /// Approvals the caller may see: an admin's filter as given; a user's limited to their
    /// own and their agents'; an agent's limited to its own.
    pub async fn list_approvals(
        &self,
        caller: &Caller,
        filter: ApprovalFilter,
    ) -> Result<Vec<Approval>, GateError> {
        let filter = match caller.agent_id {
            Some(agent) => filter.agent(agent),
            None if caller.is_admin() => filter,
            None => filter.user(caller.user_id),
        };
        Ok(self.inner.store.list_approvals(filter).await?)
    }

    /// Marks pending approvals past their expiry as expired (each notified once); returns
    /// how many.
    pub async fn expire_approvals(&self) -> Result<u64, GateError> {
        let expired = self.inner.store.expire_due_approvals().await?;
        expired
            .iter()
            .for_each(|a| self.notify(ApprovalEvent::Expired, a));
        Ok(expired.len() as u64)
    }
}

/// What the requester of a held call sees of it: its status as it stands now (a pending
/// approval past its expiry is `expired`), the decider's note, and once it ran, Notion's
/// answer (`result`, when Notion accepted it) or the error (`error`: Notion's error body, or
/// the gateway's `{"code", "message"}` when the run was refused or Notion was not reached).
/// The stored row is in `approval` (operation, times, the exact request). Surfaces turn
/// `result` into their own compact form.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApprovalView {
    /// The status now.
    pub status: ApprovalStatus,
    /// What the human who approved or denied it wrote.
    pub note: Option<String>,
    /// Notion's answer to the executed call.
    pub result: Option<Value>,
    /// Why the run failed.
    pub error: Option<Value>,
    /// The stored approval.
    pub approval: Approval,
}

impl ApprovalView {
    /// The view of a stored approval, as of now.
    pub fn new(approval: Approval) -> Self {
        let status = if approval.status == ApprovalStatus::Pending
            && approval.expires_at <= OffsetDateTime::now_utc()
        {
            ApprovalStatus::Expired
        } else {
            approval.status
        };
        let body = || {
            approval
                .result_json
                .as_deref()
                .map(|j| serde_json::from_str(j).unwrap_or_else(|_| Value::String(j.to_owned())))
        };
        let (result, error) = match status {
            ApprovalStatus::Executed => (body(), None),
            ApprovalStatus::Failed => (None, body()),
            _ => (None, None),
        };
        Self {
            status,
            note: approval.decision_note.clone(),
            result,
            error,
            approval,
        }
    }

    /// The approval's id.
    pub fn id(&self) -> ApprovalId {
        self.approval.id
    }

    /// Whether nothing more will happen to it (executed, failed, denied, expired, withdrawn).
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// Refuses a note the store would refuse, naming the field `note`.
fn check_note(note: Option<&str>) -> Result<(), GateError> {
    let Some(note) = note.map(str::trim) else {
        return Ok(());
    };
    if note.chars().count() > MAX_APPROVAL_NOTE
        || note
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(GateError::invalid(
            "note",
            format!("at most {MAX_APPROVAL_NOTE} characters, without control characters"),
        ));
    }
    Ok(())
}

enum RunError {
    Denied(&'static str, String),
    Failed(GateError),
}
