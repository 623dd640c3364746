//! One audit record per call: [`CallAudit`] collects what the call path learns and writes a
//! single record when the call ends (denied, held for approval, executed or failed). If the
//! call's future is dropped half-way (the client went away), the guard still writes the
//! record, with outcome `error` and reason `cancelled`, so no call goes unaudited.
//! [`CallAudit::finish`] waits until the record is durable (`record_durable`: committed, or
//! on SQLite written to the process's audit spool), so every
//! answered call's record survives a crash of the process right after the answer.

use std::time::Instant;

use gate_policy::Operation;
use gate_store::{
    AuditCall, AuditDecision, AuditRecord, AuditWriter, ConnectionId, IntentId, Outcome, Surface,
};
use serde_json::{Map, Value, json};

use crate::caller::Caller;
use crate::error::GateError;
use crate::request::Canonical;

/// The audit record of one call in the making.
pub(crate) struct CallAudit {
    writer: AuditWriter,
    record: Option<AuditRecord>,
    started: Instant,
    extra: Map<String, Value>,
    /// The write's durable intent, once made: the record completes it.
    intent: Option<IntentId>,
}

impl CallAudit {
    pub(crate) fn new(
        writer: &AuditWriter,
        request_id: &str,
        kind: gate_store::CallerKind,
        surface: Surface,
    ) -> Self {
        let call = AuditCall::new(request_id, kind, surface, "unknown");
        let record = AuditRecord::new(call, AuditDecision::Deny, Outcome::Error);
        Self {
            writer: writer.clone(),
            record: Some(record),
            started: Instant::now(),
            extra: Map::new(),
            intent: None,
        }
    }

    /// A record for a call by `caller`.
    pub(crate) fn for_caller(
        writer: &AuditWriter,
        request_id: &str,
        caller: &Caller,
        surface: Surface,
    ) -> Self {
        let mut a = Self::new(writer, request_id, caller.audit_kind(), surface);
        if let Some(c) = a.call() {
            c.user_id = Some(caller.user_id);
            c.agent_id = caller.agent_id;
        }
        a
    }

    fn call(&mut self) -> Option<&mut AuditCall> {
        self.record.as_mut().map(|r| &mut r.call)
    }

    pub(crate) fn operation(&mut self, op: &Operation) {
        if let Some(c) = self.call() {
            c.operation = op.name.to_owned();
            c.action_class = Some(op.class.as_str().to_owned());
            c.target_ids = op.targets.clone();
        }
    }

    pub(crate) fn operation_name(&mut self, name: &str) {
        if let Some(c) = self.call() {
            c.operation = name.to_owned();
        }
    }

    pub(crate) fn connection(&mut self, id: ConnectionId) {
        if let Some(c) = self.call() {
            c.connection_id = Some(id);
        }
    }

    /// Adds a field to the argument summary (ids, counts, sizes only).
    pub(crate) fn note(&mut self, key: &str, value: Value) {
        self.extra.insert(key.to_owned(), value);
    }

    /// Records the request's shape and its classification, and answers the classification.
    pub(crate) fn classified(&mut self, c: &Canonical) -> Operation {
        self.request(c);
        let op = gate_policy::classify(c.method.as_str(), &c.path_and_query(), c.body.as_ref());
        self.operation(&op);
        op
    }

    /// Records the request's shape: method, path (ids only), query keys, body keys and size.
    pub(crate) fn request(&mut self, c: &Canonical) {
        self.note("method", Value::String(c.method.to_string()));
        self.note("path", Value::String(c.path.clone()));
        if !c.query.is_empty() {
            let keys: Vec<&str> = c.query.iter().map(|(k, _)| k.as_str()).collect();
            self.note("query_keys", json!(keys));
        }
        if let Some(b) = &c.body {
            if let Some(m) = b.as_object() {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                self.note("body_keys", json!(keys));
            }
            self.note(
                "body_bytes",
                json!(serde_json::to_vec(b).map(|v| v.len()).unwrap_or(0)),
            );
        }
        if let Some(v) = &c.notion_version {
            self.note("notion_version", Value::String(v.as_str().to_owned()));
        }
    }

    /// Makes the write's intent durable (once) before it is sent to Notion: same request
    /// id, caller, connection, operation, class and targets as this record, the canonical
    /// request's hash and the markers recovery needs. Fails closed: when the intent cannot be
    /// made durable, nothing may be sent.
    pub(crate) async fn intend(&mut self, canonical: &Canonical) -> Result<(), GateError> {
        let Some(r) = self.record.as_ref() else {
            return Ok(());
        };
        if self.intent.is_some() {
            return Ok(());
        }
        let intent = crate::intents::intent_for(r, canonical);
        let id = intent.id;
        self.writer
            .record_intent_durable(intent)
            .await
            .map_err(|_| {
                GateError::Store(gate_store::StoreError::Conflict {
                    what: "the audit trail cannot record the write's intent; nothing was sent"
                        .to_owned(),
                })
            })?;
        self.intent = Some(id);
        Ok(())
    }

    /// Writes the record of a call that ends before any answer from Notion (refused, or
    /// failed on the gateway's side), and returns the error to answer.
    pub(crate) async fn refuse(
        self,
        decision: AuditDecision,
        reason: &str,
        outcome: Outcome,
        error: GateError,
    ) -> GateError {
        self.finish(decision, Some(reason), outcome, None).await;
        error
    }

    /// [`CallAudit::refuse`] for a call local-only mode refuses.
    pub(crate) async fn refuse_local_only(self) -> GateError {
        let error = GateError::LocalOnly;
        self.refuse(AuditDecision::Deny, error.code(), Outcome::Denied, error)
            .await
    }

    /// Writes the record (exactly once).
    pub(crate) async fn finish(
        mut self,
        decision: AuditDecision,
        reason: Option<&str>,
        outcome: Outcome,
        upstream_status: Option<u16>,
    ) {
        let Some(mut r) = self.record.take() else {
            return;
        };
        r.decision = decision;
        r.reason = reason.map(str::to_owned);
        r.outcome = outcome;
        r.upstream_status = upstream_status;
        r.duration_ms = Some(self.started.elapsed().as_millis() as u64);
        r.intent_id = self.intent;
        if !self.extra.is_empty() {
            r.args_summary = Some(Value::Object(std::mem::take(&mut self.extra)));
        }
        // Durable: the call is answered only after its record is durable, so a crash
        // (SIGKILL) after an answer cannot lose that call's record.
        if self.writer.record_durable(r).await.is_err() {
            tracing::error!("audit writer closed; an audit record was lost");
        }
    }
}

impl Drop for CallAudit {
    fn drop(&mut self) {
        let Some(mut r) = self.record.take() else {
            return;
        };
        // A write whose intent was made may have reached Notion: its result is unknown.
        r.outcome = if self.intent.is_some() {
            Outcome::Unknown
        } else {
            Outcome::Error
        };
        r.reason = Some("cancelled".to_owned());
        r.duration_ms = Some(self.started.elapsed().as_millis() as u64);
        r.intent_id = self.intent;
        if !self.extra.is_empty() {
            r.args_summary = Some(Value::Object(std::mem::take(&mut self.extra)));
        }
        let writer = self.writer.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    let _ = writer.record(r).await;
                });
            }
            Err(_) => tracing::error!("call dropped outside a runtime; its audit record was lost"),
        }
    }
}
