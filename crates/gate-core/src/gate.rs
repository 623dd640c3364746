//! [`Gate`]: authentication (with the key cache), the one call path every surface uses, and
//! the local-only switch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use gate_policy::{Decision, Operation, Policy, decide, decide_with_ancestry};
use gate_store::{
    ApiKeyKind, AuditDecision, AuditWriter, ConnectionId, NewApproval, Outcome, Store, Surface,
    TokenHash, Vault,
};
use notion_client::{
    Idempotency, LimiterConfig, Notion, OAuthClient, RateLimiter, RawRequest, RawResponse,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::ancestry::ParentCache;
use crate::audit::CallAudit;
use crate::cache::{AuthCache, Digest};
use crate::caller::Caller;
use crate::config::{AbortPoint, GateConfig, LimiterFactory};
use crate::connections::Registry;
use crate::error::GateError;
use crate::error::Refusal;
use crate::request::{Canonical, GateResponse, NotionRequest};

/// What [`Gate::admit`] does when the policy asks for a human's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Store the request for approval (it is the whole operation).
    Request,
    /// Hold nothing yet: answer `Ok` with `awaiting_approval` set, so that a governed session
    /// can prepare (read) and then hold the exact final request, or refuse.
    Defer,
    /// The call is answered by the local mirror (`mirror.rs`): a read passes the local-only
    /// guard; like `Defer`, nothing is held.
    Mirror,
}

/// A call the guard let through (or, with [`Hold::Defer`], one awaiting approval): its open
/// audit record, the canonical request, its classification and the connection to run it on
/// (always set when `awaiting_approval` is false).
pub(crate) struct Admitted {
    /// The call's request id (minted by `admit`, in its audit record and its answer).
    pub(crate) request_id: String,
    pub(crate) audit: CallAudit,
    pub(crate) canonical: Canonical,
    pub(crate) op: Operation,
    pub(crate) conn_id: Option<ConnectionId>,
    pub(crate) awaiting_approval: bool,
}

/// The governance service. Cheap to clone: every clone shares one cache, one connection
/// registry (one limiter per connection) and one audit writer.
#[derive(Clone)]
pub struct Gate {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("backend", &self.inner.store.backend())
            .field("local_only", &self.is_local_only())
            .field("cached_keys", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault: Arc<Vault>,
    pub(crate) policy: Policy,
    pub(crate) notion: Notion,
    pub(crate) oauth: Option<OAuthClient>,
    pub(crate) local_only: AtomicBool,
    pub(crate) cache: AuthCache,
    pub(crate) registry: Registry,
    pub(crate) limiter_config: Option<LimiterConfig>,
    pub(crate) limiter_factory: Option<LimiterFactory>,
    pub(crate) audit: AuditWriter,
    pub(crate) approval_ttl: std::time::Duration,
    pub(crate) parents: ParentCache,
    pub(crate) ancestry_max_depth: usize,
    pub(crate) watch: Arc<crate::watch::Watch>,
    pub(crate) abort_at: Option<AbortPoint>,
    pub(crate) notifier: Option<crate::notify::Notifier>,
    pub(crate) mcp_oauth: crate::mcp_oauth::McpOAuthConfig,
    pub(crate) mirrors: Option<gate_mirror::Mirrors>,
    /// The mirrors' refresh queues fed by inbound webhooks (`inbound.rs`), per connection.
    pub(crate) refresh_queues:
        std::sync::Mutex<std::collections::HashMap<ConnectionId, gate_mirror::RefreshQueue>>,
}

pub(crate) fn digest(key: &str) -> Digest {
    Digest(Sha256::digest(key.as_bytes()).into())
}

/// The token of an `Authorization` header value `Bearer <token>`: the scheme matched without
/// regard to case, the token trimmed; `None` for another scheme or an empty token. The one
/// bearer parser of the gateway (the HTTP extractors and [`Gate::authenticate`] use it).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// A presented key without its optional `Bearer ` prefix and surrounding whitespace.
fn bare_key(presented: &str) -> &str {
    bearer_token(presented).unwrap_or_else(|| presented.trim())
}

tokio::task_local! {
    /// The id of the HTTP request being served, set by the server around each request.
    static REQUEST_ID: String;
}

/// Runs `fut` with `id` as the request id of every governed call it makes: their audit
/// records carry it, so a client's `x-request-id` (echoed in every answer and error) finds
/// its audit record. Calls made outside such a scope (work spawned on other tasks, the CLI)
/// get a fresh `req_…` id.
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

pub(crate) fn new_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| format!("req_{}", uuid::Uuid::new_v4().simple()))
}

fn decision_metric(outcome: &'static str) {
    metrics::counter!("gate_decisions_total", "decision" => outcome).increment(1);
}

/// Whether repeating the operation after an ambiguous failure is harmless: reads are; a
/// create is not; anything else by the request's effect (an append that also trashes, or a
/// Markdown `update_content`, is still unsafe although its policy class is not `create`).
fn idempotency(op: &Operation, canonical: &Canonical) -> Idempotency {
    use gate_policy::ActionClass;
    match op.class {
        ActionClass::Read => Idempotency::Safe,
        ActionClass::Create => Idempotency::Unsafe,
        _ => notion_client::retry::idempotency_of(
            canonical.method.as_str(),
            &canonical.path,
            canonical.body.as_ref(),
        ),
    }
}

impl Gate {
    /// Builds the gate and starts its audit writer (needs a Tokio runtime).
    pub fn new(config: GateConfig) -> Result<Self, GateError> {
        let notion = Notion::new(config.notion.clone()).map_err(|e| GateError::from_client(&e))?;
        let oauth = config
            .oauth
            .as_ref()
            .map(|o| notion.oauth(o.client_id.clone(), o.client_secret.clone()));
        let audit = AuditWriter::spawn(Arc::clone(&config.store), config.audit.clone());
        let notifier = match config.webhooks {
            Some(w) if !w.hooks.is_empty() => Some(crate::notify::Notifier::spawn(
                Arc::clone(&config.store),
                w,
            )?),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store: config.store,
                vault: config.vault,
                policy: config.policy,
                notion,
                oauth,
                local_only: AtomicBool::new(config.local_only),
                cache: AuthCache::new(config.cache_ttl, config.cache_capacity),
                registry: Registry::default(),
                limiter_config: config.limiter,
                limiter_factory: config.limiter_factory,
                audit,
                approval_ttl: config.approval_ttl,
                parents: ParentCache::new(config.ancestry_ttl),
                ancestry_max_depth: config.ancestry_max_depth.max(1),
                watch: Arc::new(crate::watch::Watch::new(
                    config.approval_bus,
                    config.max_waits_per_key,
                    config.approval_polls,
                )),
                abort_at: config.abort_at,
                notifier,
                mcp_oauth: config.mcp_oauth,
                mirrors: config.mirrors,
                refresh_queues: Default::default(),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The audit writer (shared by every clone).
    pub fn audit_writer(&self) -> &AuditWriter {
        &self.inner.audit
    }

    /// Waits until every audit record of calls finished so far is written.
    pub async fn flush_audit(&self) -> Result<(), GateError> {
        self.inner.audit.flush().await.map_err(|_| {
            GateError::Store(gate_store::StoreError::Conflict {
                what: "the audit writer has shut down".to_owned(),
            })
        })
    }

    /// Writes every pending audit record and stops the writer (and the notification worker,
    /// after recording the events it had queued).
    pub async fn shutdown(&self) -> gate_store::AuditStats {
        if let Some(n) = &self.inner.notifier {
            n.shutdown().await;
        }
        self.inner.audit.shutdown().await
    }

    // ---- local-only ---------------------------------------------------------------------

    /// Whether Notion OAuth (a client id and secret) is configured.
    pub fn oauth_configured(&self) -> bool {
        self.inner.oauth.is_some()
    }

    /// Whether local-only mode is on. Read on every call; never cached.
    pub fn is_local_only(&self) -> bool {
        self.inner.local_only.load(Ordering::SeqCst)
    }

    /// Turns local-only mode on or off (the explicit reload path; takes effect for the very
    /// next call).
    pub fn set_local_only(&self, on: bool) {
        self.inner.local_only.store(on, Ordering::SeqCst);
        tracing::info!(local_only = on, "local-only mode changed");
    }

    // ---- authentication -----------------------------------------------------------------

    /// Authenticates a gateway key (with or without a `Bearer ` prefix): SHA-256, then the
    /// in-process cache, then the store. A missing, unknown or revoked key, or one of a
    /// disabled user, is [`GateError::Unauthenticated`]; only successes are cached.
    pub async fn authenticate(&self, presented: &str) -> Result<Caller, GateError> {
        let key = bare_key(presented);
        if key.is_empty() || key.len() > 512 {
            return Err(GateError::Unauthenticated);
        }
        self.authenticate_digest(digest(key)).await
    }

    /// [`Gate::authenticate`] from the key's SHA-256 (a console session keeps the digest of
    /// the key that signed in, never the key).
    pub(crate) async fn authenticate_digest(&self, d: Digest) -> Result<Caller, GateError> {
        if let Some(c) = self.inner.cache.get(&d) {
            metrics::counter!("gate_auth_cache_total", "result" => "hit").increment(1);
            return Ok(c);
        }
        metrics::counter!("gate_auth_cache_total", "result" => "miss").increment(1);
        let epoch = self.inner.cache.epoch();
        let caller = self.load_caller(&d).await?;
        self.inner.cache.insert(d, caller.clone(), epoch);
        Ok(caller)
    }

    /// The cached caller of a key, without touching the store (`None` on a miss). The hot
    /// path of [`Gate::authenticate`], exposed for benchmarks and synchronous surfaces.
    pub fn authenticate_cached(&self, presented: &str) -> Option<Caller> {
        let key = bare_key(presented);
        if key.is_empty() || key.len() > 512 {
            return None;
        }
        let c = self.inner.cache.get(&digest(key));
        let result = if c.is_some() { "hit" } else { "miss" };
        metrics::counter!("gate_auth_cache_total", "result" => result).increment(1);
        c
    }

    async fn load_caller(&self, d: &Digest) -> Result<Caller, GateError> {
        let store = &self.inner.store;
        let hash = TokenHash::from_hex(&hex::encode(d.0)).map_err(GateError::Store)?;
        let Some(key) = store.find_api_key_by_hash(&hash).await? else {
            return Err(GateError::Unauthenticated);
        };
        if key.revoked_at.is_some() {
            return Err(GateError::Unauthenticated);
        }
        let user = match store.get_user(key.user_id).await {
            Ok(u) => u,
            Err(e) if e.is_not_found() => return Err(GateError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        if user.disabled {
            return Err(GateError::Unauthenticated);
        }
        let caller = match (key.kind, key.agent_id) {
            (ApiKeyKind::Agent, Some(agent_id)) => {
                let agent = match store.get_agent(agent_id).await {
                    Ok(a) => a,
                    Err(e) if e.is_not_found() => return Err(GateError::Unauthenticated),
                    Err(e) => return Err(e.into()),
                };
                let (maturity, bad) = match agent.maturity.parse::<gate_policy::Maturity>() {
                    Ok(m) => (m, false),
                    Err(_) => {
                        tracing::warn!(agent_id = %agent.id, "stored maturity is not a known level; the agent is treated as disabled");
                        (gate_policy::Maturity::Student, true)
                    }
                };
                Caller::agent(
                    agent.id,
                    agent.owner_id,
                    agent.name,
                    maturity,
                    agent.disabled || bad,
                    agent.connection_id,
                    key.id,
                    agent.version,
                )
            }
            (ApiKeyKind::User, _) => {
                let conn = self.default_connection(user.id).await?;
                Caller::user(user.id, user.name, user.is_admin, conn, key.id)
            }
            _ => return Err(GateError::Unauthenticated),
        };
        let store = Arc::clone(store);
        let key_id = key.id;
        tokio::spawn(async move {
            // Best effort: last-used is informational.
            let _ = store.touch_api_key(key_id).await;
        });
        Ok(caller)
    }

    /// A user's first (oldest) usable connection.
    pub(crate) async fn default_connection(
        &self,
        user: gate_store::UserId,
    ) -> Result<Option<ConnectionId>, GateError> {
        let conns = self.inner.store.list_connections(Some(user)).await?;
        Ok(conns
            .iter()
            .filter(|c| !c.revoked)
            .min_by_key(|c| (c.created_at, c.id))
            .map(|c| c.id))
    }

    // ---- invalidation -------------------------------------------------------------------

    /// Forgets cached callers of one agent (after a change made outside this gate's admin
    /// methods). Other instances notice within the cache TTL.
    pub fn invalidate_agent(&self, id: gate_store::AgentId) {
        self.inner.cache.invalidate_agent(id);
    }

    /// Forgets the cached caller of one key.
    pub fn invalidate_key(&self, id: gate_store::ApiKeyId) {
        self.inner.cache.invalidate_key(id);
    }

    /// Forgets cached callers of one user and the user's agents.
    pub fn invalidate_user(&self, id: gate_store::UserId) {
        self.inner.cache.invalidate_user(id);
    }

    /// Makes the next call of a connection re-read its row and tokens.
    pub fn invalidate_connection(&self, id: ConnectionId) {
        self.inner.registry.mark_stale(id);
    }

    /// Forgets everything cached (callers, connection tokens).
    pub fn invalidate_all(&self) {
        self.inner.cache.clear();
        self.inner.registry.mark_all_stale();
    }

    /// Drops cached callers that are expired as of `now`. Expired entries are never used
    /// anyway; passing a later instant lets tests simulate the TTL passing without sleeping.
    pub fn invalidate_expired_at(&self, now: Instant) -> usize {
        self.inner.cache.invalidate_expired_at(now)
    }

    /// How long cached callers and tokens live: the bound on how long another instance's
    /// change can go unseen here.
    pub fn cache_ttl(&self) -> std::time::Duration {
        self.inner.cache.ttl()
    }

    /// The limiter of a connection, once the connection has been used in this process.
    pub fn connection_limiter(&self, id: ConnectionId) -> Option<Arc<dyn RateLimiter>> {
        self.inner.registry.limiter(id)
    }

    // ---- the call path ------------------------------------------------------------------

    /// Governs and (if allowed) executes one Notion request for `caller`: canonicalise →
    /// classify → local-only guard → policy (with root ancestry when asked) → held for
    /// approval, denied, or executed through the connection's shared limiter (token
    /// refreshed if needed) → exactly one audit record → Notion's raw answer.
    ///
    /// Any HTTP answer from Notion is `Ok` (use [`GateResponse::error_for_status`] for typed
    /// errors), except a 401 that survives a refresh, which is
    /// [`GateError::ReconnectRequired`].
    pub async fn call(
        &self,
        caller: &Caller,
        surface: Surface,
        req: NotionRequest,
    ) -> Result<GateResponse, GateError> {
        let mut call = self.admit(caller, surface, req, Hold::Request).await?;
        let Some(conn_id) = call.conn_id else {
            return Err(GateError::NotFound { what: "connection" });
        };
        match self
            .execute(conn_id, caller, &call.canonical, &call.op, &mut call.audit)
            .await
        {
            Ok(resp) => {
                if let Some(id) = resp.request_id() {
                    call.audit.note("notion_request_id", Value::String(id));
                }
                if resp.attempts > 1 {
                    call.audit.note("attempts", json!(resp.attempts));
                }
                if resp.shared {
                    // Served by an identical read another call sent (coalesced).
                    call.audit.note("shared", Value::Bool(true));
                }
                let ok = (200..300).contains(&resp.status);
                let outcome = if ok { Outcome::Ok } else { Outcome::Error };
                let reason = (!ok).then_some("upstream_error");
                call.audit
                    .finish(AuditDecision::Allow, reason, outcome, Some(resp.status))
                    .await;
                Ok(GateResponse::from_raw(&resp, call.request_id))
            }
            Err(e) => {
                let status = match &e {
                    GateError::Upstream { status, .. } => *status,
                    _ => None,
                };
                if let GateError::Upstream {
                    request_id: Some(id),
                    ..
                } = &e
                {
                    call.audit
                        .note("notion_request_id", Value::String(id.clone()));
                }
                call.audit
                    .finish(AuditDecision::Allow, Some(e.code()), Outcome::Error, status)
                    .await;
                Err(e)
            }
        }
    }

    /// The guard steps every governed call runs before anything is sent: canonicalise →
    /// classify → local-only guard → policy (with root ancestry when asked) → held for
    /// approval or denied (each refusal audited and returned as its error). On `Ok` the call
    /// may execute on the returned connection; its audit record is still open and the caller
    /// must finish it exactly once.
    pub(crate) async fn admit(
        &self,
        caller: &Caller,
        surface: Surface,
        req: NotionRequest,
        hold: Hold,
    ) -> Result<Admitted, GateError> {
        let inner = &self.inner;
        let request_id = new_request_id();
        let mut audit = CallAudit::for_caller(&inner.audit, &request_id, caller, surface);
        let canonical = match Canonical::from_request(req) {
            Ok(c) => c,
            Err(e) => {
                decision_metric("invalid");
                audit.operation_name("invalid");
                return Err(audit
                    .refuse(AuditDecision::Deny, "invalid_request", Outcome::Denied, e)
                    .await);
            }
        };
        let op = audit.classified(&canonical);
        if let Some(c) = caller.connection_id {
            audit.connection(c);
        }

        // Local-only: on every call, before the policy, never cached. Only a read answered
        // by the local mirror passes (it sends nothing).
        let mirror_read = hold == Hold::Mirror && op.class == gate_policy::ActionClass::Read;
        if self.is_local_only() && !mirror_read {
            decision_metric("local_only");
            return Err(audit.refuse_local_only().await);
        }

        let (decision, lookups) = inner
            .decide_full(&caller.policy_caller(), caller.connection_id, &op)
            .await;
        if let Some(n) = lookups {
            audit.note("ancestry_lookups", json!(n));
        }

        match decision {
            Decision::Allow => {}
            Decision::Deny { reason, needed } => {
                decision_metric("deny");
                let code = Refusal::from(&reason);
                audit
                    .finish(
                        AuditDecision::Deny,
                        Some(code.as_str()),
                        Outcome::Denied,
                        None,
                    )
                    .await;
                return Err(GateError::Forbidden {
                    code,
                    reason: reason.to_string(),
                    needed,
                });
            }
            Decision::NeedsApproval { reason } => {
                decision_metric("needs_approval");
                if hold == Hold::Defer || hold == Hold::Mirror {
                    audit.note("approval_reason", Value::String(reason.to_string()));
                    return Ok(Admitted {
                        request_id,
                        audit,
                        canonical,
                        op,
                        conn_id: caller.connection_id,
                        awaiting_approval: true,
                    });
                }
                let stored = self.hold_for_approval(caller, &op, &canonical).await;
                return match stored {
                    Ok(approval) => {
                        audit.note("approval_id", Value::String(approval.id.to_string()));
                        audit.note("request_hash", Value::String(approval.request_hash.clone()));
                        audit
                            .finish(
                                AuditDecision::NeedsApproval,
                                Some("needs_approval"),
                                Outcome::Pending,
                                None,
                            )
                            .await;
                        tracing::info!(approval_id = %approval.id, %reason, "call held for approval");
                        Err(GateError::ApprovalRequired {
                            id: approval.id,
                            expires_at: approval.expires_at,
                        })
                    }
                    Err(e) => {
                        audit
                            .finish(
                                AuditDecision::NeedsApproval,
                                Some(e.code()),
                                Outcome::Error,
                                None,
                            )
                            .await;
                        Err(e)
                    }
                };
            }
            _ => {
                // Ancestry still unknown (no connection, or the walk failed): fail closed.
                decision_metric("deny");
                let refused = GateError::Forbidden {
                    code: Refusal::OutsideRoots,
                    reason: "could not establish that the targets are inside the agent's \
                             allowed pages"
                        .to_owned(),
                    needed: None,
                };
                return Err(audit
                    .refuse(
                        AuditDecision::Deny,
                        "ancestry_unknown",
                        Outcome::Denied,
                        refused,
                    )
                    .await);
            }
        }
        decision_metric("allow");

        let Some(conn_id) = caller.connection_id else {
            return Err(audit
                .refuse(
                    AuditDecision::Allow,
                    "no_connection",
                    Outcome::Error,
                    GateError::NotFound { what: "connection" },
                )
                .await);
        };
        Ok(Admitted {
            request_id,
            audit,
            canonical,
            op,
            conn_id: Some(conn_id),
            awaiting_approval: false,
        })
    }

    pub(crate) async fn hold_for_approval(
        &self,
        caller: &Caller,
        op: &Operation,
        canonical: &Canonical,
    ) -> Result<gate_store::Approval, GateError> {
        let request_json = serde_json::to_string(&canonical.to_json())
            .map_err(|_| GateError::invalid("body", "cannot be serialised"))?;
        let mut new = match caller.agent_id {
            Some(agent) => NewApproval::for_agent(agent, op.name, op.class.as_str(), request_json)
                .user(caller.user_id),
            None => NewApproval::for_user(caller.user_id, op.name, op.class.as_str(), request_json),
        }
        .ttl(self.inner.approval_ttl);
        if let Some(c) = caller.connection_id {
            new = new.connection(c);
        }
        let approval = self.inner.store.create_approval(new).await?;
        self.notify(crate::notify::ApprovalEvent::Created, &approval);
        Ok(approval)
    }

    /// Queues an approval notification for the configured webhooks (never waits).
    pub(crate) fn notify(
        &self,
        event: crate::notify::ApprovalEvent,
        approval: &gate_store::Approval,
    ) {
        if let Some(n) = &self.inner.notifier {
            n.notify(event, approval);
        }
    }

    /// Executes an allowed request on a connection that `owner`'s call may use. A write
    /// (any class but `read`) first makes its intent durable through `audit` (fail closed:
    /// nothing is sent without it).
    pub(crate) async fn execute(
        &self,
        conn_id: ConnectionId,
        caller: &Caller,
        canonical: &Canonical,
        op: &Operation,
        audit: &mut CallAudit,
    ) -> Result<RawResponse, GateError> {
        if op.class != gate_policy::ActionClass::Read {
            audit.intend(canonical).await?;
            self.inner.abort_if(AbortPoint::AfterIntent);
        }
        let resp = self.execute_unaudited(conn_id, caller, canonical, op).await;
        if op.class != gate_policy::ActionClass::Read {
            self.inner.abort_if(AbortPoint::AfterSend);
        }
        resp
    }

    async fn execute_unaudited(
        &self,
        conn_id: ConnectionId,
        caller: &Caller,
        canonical: &Canonical,
        op: &Operation,
    ) -> Result<RawResponse, GateError> {
        let mut req = RawRequest::new(
            canonical.method.clone(),
            canonical.path.clone(),
            idempotency(op, canonical),
        );
        // A read (a GET, or a read-class POST such as a query or a search) may share an
        // identical read's request on the connection; the call is still decided and audited
        // on its own.
        req.read |= op.class == gate_policy::ActionClass::Read;
        req.query = canonical.query.clone();
        req.body = canonical.body_bytes();
        if let Some(form) = &canonical.form {
            req = req.raw_body(form.bytes.clone(), form.content_type.clone());
        }
        self.inner
            .execute_checked(
                conn_id,
                Some(caller.user_id),
                req,
                canonical.notion_version.clone(),
            )
            .await
    }
}

impl Inner {
    /// Testing only: aborts the process at `point` when the configuration asks for it (crash
    /// tests; see [`GateConfig::abort_at`](crate::GateConfig::abort_at)).
    pub(crate) fn abort_if(&self, point: AbortPoint) {
        if self.abort_at == Some(point) {
            tracing::error!(?point, "aborting the process at the configured test point");
            std::process::abort();
        }
    }

    /// The policy's decision, resolving root-page ancestry through `conn` when the policy
    /// asks for it. Also returns how many objects were looked up, when any walk happened.
    pub(crate) async fn decide_full(
        &self,
        caller: &gate_policy::Caller<'_>,
        conn: Option<ConnectionId>,
        op: &Operation,
    ) -> (Decision, Option<u32>) {
        let decision = decide(&self.policy, caller, op);
        match (&decision, conn) {
            (Decision::NeedsAncestry { targets }, Some(conn)) => {
                let (ancestry, lookups) = self.resolve_ancestry(conn, targets).await;
                (
                    decide_with_ancestry(&self.policy, caller, op, &ancestry),
                    Some(lookups),
                )
            }
            _ => (decision, None),
        }
    }

    /// The second line of defence: no request leaves for Notion in local-only mode, whatever
    /// code path built it.
    pub(crate) fn outbound_allowed(&self) -> Result<(), GateError> {
        if self.local_only.load(Ordering::SeqCst) {
            Err(GateError::LocalOnly)
        } else {
            Ok(())
        }
    }

    /// Sends a request on a connection (any owner).
    pub(crate) async fn execute_raw(
        &self,
        conn_id: ConnectionId,
        req: RawRequest,
        version: Option<notion_client::NotionVersion>,
    ) -> Result<RawResponse, GateError> {
        self.execute_checked(conn_id, None, req, version).await
    }

    /// Sends a request through the connection's shared limiter with its current token;
    /// refreshes once and retries once on a 401. `owner`, when given, must own the
    /// connection.
    pub(crate) async fn execute_checked(
        &self,
        conn_id: ConnectionId,
        owner: Option<gate_store::UserId>,
        req: RawRequest,
        version: Option<notion_client::NotionVersion>,
    ) -> Result<RawResponse, GateError> {
        self.outbound_allowed()?;
        let entry = self.entry(conn_id);
        let cur = self.current(&entry, None).await?;
        if owner.is_some_and(|o| o != cur.owner_id) {
            return Err(GateError::NotFound { what: "connection" });
        }
        let conn = match &version {
            Some(v) => cur.conn.with_version(v.clone()),
            None => cur.conn.clone(),
        };
        let resp = conn
            .execute(req.clone())
            .await
            .map_err(|e| GateError::from_client(&e))?;
        if resp.status != 401 {
            return Ok(resp);
        }
        // Notion refused the token: refresh once (single-flight) and retry once. A 401 means
        // Notion did nothing, so the retry cannot duplicate an effect.
        tracing::info!(connection_id = %conn_id, "Notion answered 401; refreshing the token once");
        let fresh = self.current(&entry, Some(cur.generation)).await?;
        self.outbound_allowed()?;
        let conn = match &version {
            Some(v) => fresh.conn.with_version(v.clone()),
            None => fresh.conn.clone(),
        };
        let resp = conn
            .execute(req)
            .await
            .map_err(|e| GateError::from_client(&e))?;
        if resp.status == 401 {
            return Err(self.reject_token(&entry).await);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_parsed_once_for_every_surface() {
        assert_eq!(bearer_token("Bearer nga_x"), Some("nga_x"));
        assert_eq!(bearer_token("bearer   nga_x  "), Some("nga_x"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("nga_x"), None);
        assert_eq!(bare_key(" Bearer nga_x "), "nga_x");
        assert_eq!(bare_key(" nga_x "), "nga_x");
    }
}
