//! Mirror reads: the same governance as any call (authentication, classification, policy
//! with root ancestry, one audit record), answered by the local mirror (`gate-mirror`)
//! instead of Notion, and audited with `"source": "mirror"`.
//!
//! - In local-only mode a *read* is admitted when a mirror is configured
//!   ([`Gate::mirror_read`]); writes are refused by the local-only guard as before. Root
//!   ancestry then comes from the mirror's parents (`ancestry.rs` asks the mirror instead of
//!   Notion while local-only).
//! - [`Gate::local_read`] admits a read answered from the mirror whatever the mode: the
//!   `search_local` action, which spends no Notion budget.
//! - [`MirrorRead::visible`] applies an agent's root pages to each result of a search (a
//!   root-limited agent never sees a mirrored page outside its roots).
//! - [`Gate::mirror_connection`] hands the sync engine the connection's registry
//!   `Connection` (its shared limiter, token refresh), refused in local-only mode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gate_mirror::{MirrorStore, Mirrors};
use gate_policy::ActionClass;
use gate_store::{AuditDecision, ConnectionId, Outcome, Surface};
use notion_client::Connection;
use serde_json::{Value, json};

use crate::audit::CallAudit;
use crate::caller::Caller;
use crate::error::GateError;
use crate::error::Refusal;
use crate::gate::{Admitted, Gate, Hold, Inner};
use crate::request::NotionRequest;

/// A read admitted to be answered by the mirror. End it with [`MirrorRead::finish`] (one
/// audit record, with the source); dropped unfinished, it is recorded as cancelled.
pub struct MirrorRead {
    audit: CallAudit,
    store: Arc<MirrorStore>,
    roots: Option<Vec<String>>,
    request_id: String,
    max_depth: usize,
    /// [`MirrorRead::visible`]'s answers so far (dashed ids).
    known: Mutex<HashMap<String, bool>>,
}

impl std::fmt::Debug for MirrorRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorRead")
            .field("mirror", &self.store.dir())
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl MirrorRead {
    /// The connection's mirror.
    pub fn store(&self) -> &MirrorStore {
        &self.store
    }

    /// The gateway's id of this call (also in its audit record).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Whether the caller may see the object `id`: always for callers without root pages;
    /// for a root-limited agent, only when `id` or one of its mirrored ancestors is a root
    /// (unknown ancestry: not visible).
    ///
    /// Each object's answer is remembered for the rest of this call, with the answers of the
    /// ancestors walked to reach it, so filtering many hits under the same parents reads
    /// each parent once.
    pub fn visible(&self, id: &str) -> bool {
        let Some(roots) = &self.roots else {
            return true;
        };
        let is_root = |x: &str| roots.iter().any(|r| gate_policy::ids_equal(r, x));
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut walked: Vec<String> = Vec::new();
        let mut current = gate_mirror::dashed_id(id).unwrap_or_else(|| id.to_owned());
        // `None`: the depth limit ended the walk (not remembered for the ancestors walked,
        // which have more depth left of their own).
        let mut answer: Option<bool> = None;
        for _ in 0..=self.max_depth {
            if let Some(v) = known.get(&current) {
                answer = Some(*v);
                break;
            }
            if is_root(&current) {
                answer = Some(true);
                break;
            }
            walked.push(current.clone());
            match self.store.parents(&current) {
                Ok(Some(parents)) if !parents.is_empty() => {
                    if parents.iter().any(|p| is_root(p)) {
                        answer = Some(true);
                        break;
                    }
                    current = parents[0].clone();
                }
                // Unknown ancestry, or the top of the workspace: outside the roots.
                _ => {
                    answer = Some(false);
                    break;
                }
            }
        }
        match answer {
            Some(v) => {
                for w in walked {
                    known.insert(w, v);
                }
                v
            }
            None => false,
        }
    }

    /// Writes the call's one audit record: decision `allow`, source `mirror`, the outcome.
    pub async fn finish(mut self, result: Result<(), &GateError>) {
        self.audit.note("source", Value::String("mirror".into()));
        match result {
            Ok(()) => {
                self.audit
                    .finish(AuditDecision::Allow, None, Outcome::Ok, None)
                    .await
            }
            Err(e) => {
                self.audit
                    .finish(AuditDecision::Allow, Some(e.code()), Outcome::Error, None)
                    .await
            }
        }
    }
}

impl Gate {
    /// The mirrors, when the gateway was configured with a data folder for them.
    pub fn mirrors(&self) -> Option<&Mirrors> {
        self.inner.mirrors.as_ref()
    }

    /// In local-only mode with a mirror of the caller's connection, governs `representative`
    /// (a read) as a mirror read; `Ok(None)` otherwise, and the caller goes to Notion as
    /// usual (where the local-only guard refuses it if needed). A write in local-only mode
    /// is refused (`local_only`).
    pub async fn mirror_read(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
    ) -> Result<Option<MirrorRead>, GateError> {
        if !self.is_local_only() || self.inner.mirrors.is_none() {
            return Ok(None);
        }
        // No mirror for this connection yet: the usual path refuses (and audits) the call as
        // `local_only`.
        let synced = caller
            .connection_id
            .is_some_and(|c| matches!(self.mirror_store(c), Ok(Some(_))));
        if !synced {
            return Ok(None);
        }
        self.admit_mirror(caller, surface, representative)
            .await
            .map(Some)
    }

    /// Governs `representative` (a read) as a read answered from the mirror, in any mode:
    /// the `search_local` action. `not_configured` without mirrors; `not_found` when the
    /// caller's connection has no mirror yet.
    pub async fn local_read(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
    ) -> Result<MirrorRead, GateError> {
        if self.inner.mirrors.is_none() {
            return Err(GateError::NotConfigured {
                what: "the local mirror (start the server with --mirror or a data folder)",
            });
        }
        self.admit_mirror(caller, surface, representative).await
    }

    async fn admit_mirror(
        &self,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
    ) -> Result<MirrorRead, GateError> {
        let Admitted {
            request_id,
            mut audit,
            op,
            conn_id,
            awaiting_approval,
            ..
        } = self
            .admit(caller, surface, representative, Hold::Mirror)
            .await?;
        audit.note("source", Value::String("mirror".into()));
        if op.class != ActionClass::Read {
            // Only reads are answered from the mirror (admit already refused writes in
            // local-only mode; this guards the `local_read` path).
            return Err(audit.refuse_local_only().await);
        }
        if awaiting_approval {
            return Err(audit
                .refuse(AuditDecision::NeedsApproval, "mirror_read_needs_approval", Outcome::Denied, GateError::Forbidden {
                code: Refusal::NeedsApproval,
                reason: "this read needs a human's approval, which a mirror read cannot wait for"
                    .to_owned(),
                needed: None,
            })
                .await);
        }
        let store = match conn_id.map(|c| self.mirror_store(c)) {
            Some(Ok(Some(s))) => s,
            Some(Ok(None)) | None => {
                return Err(audit
                    .refuse(
                        AuditDecision::Allow,
                        "mirror_missing",
                        Outcome::Error,
                        if self.is_local_only() {
                            GateError::LocalOnly
                        } else {
                            GateError::NotFound {
                                what: "mirror of this connection (run `notion-gate mirror sync`)",
                            }
                        },
                    )
                    .await);
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "the mirror cannot be opened");
                audit
                    .finish(
                        AuditDecision::Allow,
                        Some("mirror_error"),
                        Outcome::Error,
                        None,
                    )
                    .await;
                return Err(GateError::NotConfigured {
                    what: "the local mirror (it cannot be opened; see the server log)",
                });
            }
        };
        let roots = match caller.agent_id {
            Some(_) => self
                .inner
                .policy
                .agent_policy(&caller.agent_id_str, &caller.name)
                .and_then(|a| a.roots())
                .map(<[String]>::to_vec),
            None => None,
        };
        Ok(MirrorRead {
            audit,
            store,
            roots,
            request_id,
            max_depth: self.inner.ancestry_max_depth,
            known: Mutex::new(HashMap::new()),
        })
    }

    /// A connection's mirror, if it has been synced.
    pub fn mirror_store(
        &self,
        conn_id: ConnectionId,
    ) -> Result<Option<Arc<MirrorStore>>, gate_mirror::MirrorError> {
        match &self.inner.mirrors {
            Some(m) => m.get(&conn_id.to_string()),
            None => Ok(None),
        }
    }

    /// The connection's `Connection` as every call uses it (the registry's shared limiter,
    /// the token validated and refreshed single-flight), for the mirror's sync. Refused in
    /// local-only mode.
    pub async fn mirror_connection(&self, conn_id: ConnectionId) -> Result<Connection, GateError> {
        let inner = &self.inner;
        inner.outbound_allowed()?;
        let current = inner.current(&inner.entry(conn_id), None).await?;
        Ok(current
            .conn
            .clone()
            .with_reauthorize(Arc::new(crate::connections::SessionReauth {
                gate: self.clone(),
                conn_id,
            })))
    }
}

impl Inner {
    /// Parents of `id` from the connection's mirror (local-only root checks).
    pub(crate) fn mirror_parents(&self, conn_id: ConnectionId, id: &str) -> Option<Vec<String>> {
        let store = self.mirrors.as_ref()?.get(&conn_id.to_string()).ok()??;
        let parents = store.parents(id).ok()??;
        Some(
            parents
                .iter()
                .filter_map(|p| gate_policy::normalize_id(p))
                .collect(),
        )
    }
}

/// The JSON fields a surface adds to an answer served from the mirror.
pub fn mirror_source(mirrored_at: &str) -> Value {
    json!({"source": "mirror", "mirrored_at": mirrored_at})
}
