//! The [`Store`] trait, implemented once per backend, and [`open`], which picks the backend
//! from the URL scheme.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::audit::{AuditEntry, AuditIntent, AuditOrder, AuditPage, AuditQuery, AuditRecord};
use crate::error::{Result, StoreError};
use crate::ids::{
    AgentId, ApiKeyId, ApprovalId, ConnectionId, ConsoleSessionId, IntentId, TokenHash, UserId,
    WebhookDeliveryId,
};
use crate::mcp_oauth::{
    CreatedMcpCode, McpClient, McpCode, McpToken, NewMcpClient, NewMcpCode, NewMcpToken,
};
use crate::models::{
    Agent, AgentUpdate, ApiKey, Approval, ApprovalFilter, ApprovalOutcome, Connection,
    ConnectionTokens, CreatedApiKey, CreatedOAuthState, Decided, NewAgent, NewApiKey, NewApproval,
    NewConnection, NewOAuthState, NewUser, OAuthState, ReencryptReport, User,
};
use crate::sessions::{ConsoleSession, CreatedConsoleSession, NewConsoleSession};
use crate::vault::Vault;
use crate::webhooks::{NewWebhookDelivery, WebhookAttempt, WebhookDelivery, WebhookDeliveryFilter};

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (the default; one file in the data folder).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a URL selects: `sqlite:` → SQLite; `postgres:` / `postgresql:` →
    /// PostgreSQL. The error names only the scheme, never the whole URL (it may hold a
    /// password).
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl {
                scheme: scheme.chars().take(20).collect(),
            }),
        }
    }
}

/// Makes audit records durable synchronously, blocking the calling thread until they survive
/// a crash of the process (see [`Store::direct_audit`]). Meant to be quick: a local write.
pub trait DirectAudit: Send + Sync + std::fmt::Debug {
    /// Makes records durable, all or none. They may reach the audit table a moment later
    /// (see [`DirectAudit::settle`]).
    fn append_blocking(&self, records: &[AuditEntry]) -> Result<()>;

    /// Waits until every record appended before this call is in the audit table, where
    /// queries see it. A sink that commits to the table in `append_blocking` is always
    /// settled.
    fn settle(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }
}

/// How durable an audit record (and a write's intent) is before the call goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditDurability {
    /// Survives a crash of the gateway's process: on SQLite the spool line is written
    /// (`write(2)`), not synced; on PostgreSQL the commit reached the server, which flushes
    /// it a moment later (the audit's sessions run with `synchronous_commit = off`: a crash
    /// of the server or its machine can lose the last ~600 ms of records, never a crash of
    /// the gateway).
    #[default]
    Process,
    /// Survives a crash of the machine (power loss): on SQLite the spool file is synced
    /// (`fdatasync`) before the call goes on, one sync for every record appended meanwhile
    /// (group commit), and the import commits with `synchronous = FULL` before a spool file
    /// is deleted; on PostgreSQL the audit commits with the server's `synchronous_commit`
    /// (`on` by default: the WAL is flushed before the commit returns).
    Fsync,
}

impl AuditDurability {
    /// `process` or `fsync`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditDurability::Process => "process",
            AuditDurability::Fsync => "fsync",
        }
    }
}

impl std::fmt::Display for AuditDurability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditDurability {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "process" => Ok(AuditDurability::Process),
            "fsync" => Ok(AuditDurability::Fsync),
            _ => Err(StoreError::invalid(
                "audit durability: expected `process` or `fsync`",
            )),
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Pool size (default 3 for SQLite, 10 for PostgreSQL).
    pub max_connections: Option<u32>,
    /// How long to wait for a pooled connection (default 30 s).
    pub acquire_timeout: Duration,
    /// SQLite `busy_timeout` (default 10 s).
    pub busy_timeout: Duration,
    /// Run migrations when opening (default true).
    pub migrate: bool,
    /// How durable audit records are before the call goes on (default `process`).
    pub audit_durability: AuditDurability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
            migrate: true,
            audit_durability: AuditDurability::Process,
        }
    }
}

impl StoreOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the pool size.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// Sets SQLite's busy timeout.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets the audit durability.
    pub fn audit_durability(mut self, durability: AuditDurability) -> Self {
        self.audit_durability = durability;
        self
    }

    /// Whether to run migrations on open.
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }
}

/// Opens the store a URL names and runs the migrations.
///
/// `sqlite://path/to/file.db` (relative or absolute; the file and its folder are created if
/// missing, WAL, foreign keys on, a busy timeout) or `postgres://…` / `postgresql://…`
/// (`?options[search_path]=schema` selects a schema).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with options.
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match Backend::from_url(url)? {
        Backend::Sqlite => Arc::new(crate::sql::SqliteStore::connect(url, &options).await?),
        Backend::Postgres => Arc::new(crate::sql::PgStore::connect(url, &options).await?),
    };
    if options.migrate {
        store.migrate().await?;
    }
    Ok(store)
}

/// The default SQLite URL for a data folder: `sqlite://<data_dir>/notion-gate.db`.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("notion-gate.db").display())
}

/// Persistence for the gateway. One implementation per backend; callers hold an
/// `Arc<dyn Store>`. Every state transition that two gateway instances could race on is a
/// single conditional `UPDATE`, so exactly one of them wins.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Applies the embedded migrations that have not run yet.
    async fn migrate(&self) -> Result<()>;

    /// Closes the pool, waiting for connections to be returned.
    async fn close(&self);

    // ---- users ---------------------------------------------------------------------------

    /// Creates a user; a taken name is a [`StoreError::Conflict`].
    async fn create_user(&self, new: NewUser) -> Result<User>;
    /// A user by id.
    async fn get_user(&self, id: UserId) -> Result<User>;
    /// A user by name.
    async fn get_user_by_name(&self, name: &str) -> Result<User>;
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Disables or enables a user.
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<User>;
    /// Grants or removes admin rights.
    async fn set_user_admin(&self, id: UserId, is_admin: bool) -> Result<User>;

    // ---- API keys ------------------------------------------------------------------------

    /// Creates a key; the plaintext is in the result and nowhere else.
    async fn create_api_key(&self, new: NewApiKey) -> Result<CreatedApiKey>;
    /// The unrevoked key with this hash.
    async fn find_api_key_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiKey>>;
    /// The unrevoked key matching a presented key (hashes it, then
    /// [`find_api_key_by_hash`](Store::find_api_key_by_hash)).
    async fn find_api_key(&self, key: &str) -> Result<Option<ApiKey>> {
        self.find_api_key_by_hash(&TokenHash::of(key)).await
    }
    /// Keys of a user (including their agents' keys), newest first, revoked ones included.
    async fn list_api_keys(&self, user_id: UserId) -> Result<Vec<ApiKey>>;
    /// Revokes a key (idempotent); unknown id → [`StoreError::NotFound`].
    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<ApiKey>;
    /// Records a use. Best-effort: callers may ignore the error.
    async fn touch_api_key(&self, id: ApiKeyId) -> Result<()>;

    // ---- agents --------------------------------------------------------------------------

    /// Registers an agent; a taken name for the owner is a conflict.
    async fn create_agent(&self, new: NewAgent) -> Result<Agent>;
    /// An agent by id.
    async fn get_agent(&self, id: AgentId) -> Result<Agent>;
    /// An agent by owner and name.
    async fn get_agent_by_name(&self, owner_id: UserId, name: &str) -> Result<Agent>;
    /// Agents of one owner, or of everyone.
    async fn list_agents(&self, owner_id: Option<UserId>) -> Result<Vec<Agent>>;
    /// Applies a change and bumps the version.
    async fn update_agent(&self, id: AgentId, update: AgentUpdate) -> Result<Agent>;
    /// Deletes an agent and its keys (its audit history stays).
    async fn delete_agent(&self, id: AgentId) -> Result<()>;

    // ---- connections ---------------------------------------------------------------------

    /// Stores a connection, encrypting its tokens with the vault's primary key. Connecting
    /// the same bot again for the same owner updates that row (new tokens, `revoked` and
    /// `needs_reauth` cleared) and keeps its id.
    async fn upsert_connection(&self, vault: &Vault, new: NewConnection) -> Result<Connection>;
    /// A connection by id.
    async fn get_connection(&self, id: ConnectionId) -> Result<Connection>;
    /// Connections of one owner, or of everyone.
    async fn list_connections(&self, owner_id: Option<UserId>) -> Result<Vec<Connection>>;
    /// Decrypts a connection's tokens. A token no key can decrypt marks the connection
    /// `needs_reauth` and fails with [`StoreError::ReconnectRequired`].
    async fn connection_tokens(&self, vault: &Vault, id: ConnectionId) -> Result<ConnectionTokens>;
    /// Replaces the tokens after a refresh and ends any refresh claim.
    async fn update_connection_tokens(
        &self,
        vault: &Vault,
        id: ConnectionId,
        access_token: &secrecy::SecretString,
        refresh_token: Option<&secrecy::SecretString>,
        expires_at: Option<time::OffsetDateTime>,
    ) -> Result<Connection>;
    /// Claims the right to refresh a connection's OAuth token for `lease`: one conditional
    /// update, so among concurrent callers on any instance exactly one gets `true` while the
    /// claim holds. `false` means another holder's unexpired claim exists: wait for its new
    /// tokens (the row's `updated_at` changes) instead of refreshing again. A holder may
    /// renew its own claim. The claim ends with [`Store::update_connection_tokens`], with
    /// [`Store::release_token_refresh`] or when the lease runs out (a crashed holder).
    async fn claim_token_refresh(
        &self,
        id: ConnectionId,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<bool>;
    /// Ends `holder`'s claim (after a failed refresh) so another caller may try at once;
    /// someone else's claim is left alone.
    async fn release_token_refresh(&self, id: ConnectionId, holder: &str) -> Result<()>;
    /// Marks a connection revoked (disconnected) or not.
    async fn set_connection_revoked(&self, id: ConnectionId, revoked: bool) -> Result<Connection>;
    /// Marks that a disconnect could not revoke the token at Notion: the connection stays,
    /// revoked here (unusable) and flagged `revocation_failed`, until a disconnect succeeds.
    async fn mark_revocation_failed(&self, id: ConnectionId) -> Result<Connection>;
    /// Marks that Notion refused the token: the user must reconnect.
    async fn mark_connection_needs_reauth(&self, id: ConnectionId) -> Result<()>;
    /// Deletes a connection (agents using it are unbound).
    async fn delete_connection(&self, id: ConnectionId) -> Result<()>;
    /// Re-encrypts every connection's tokens with the vault's primary key (key rotation).
    /// Each row is rewritten with a conditional update, so a concurrent token refresh is
    /// never overwritten with stale tokens.
    async fn reencrypt_all(&self, vault: &Vault) -> Result<ReencryptReport>;

    // ---- console sessions ----------------------------------------------------------------

    /// Creates a web console session with a random token (`ngs_…`); stores only its hash.
    /// A lifetime over [`MAX_CONSOLE_SESSION_TTL`](crate::MAX_CONSOLE_SESSION_TTL) or an
    /// unknown user is refused.
    async fn create_console_session(&self, new: NewConsoleSession)
    -> Result<CreatedConsoleSession>;
    /// The live session (unexpired, not revoked) whose token hashes to `hash`.
    async fn find_console_session(&self, hash: &TokenHash) -> Result<Option<ConsoleSession>>;
    /// Live sessions of one user, or of everyone, newest first.
    async fn list_console_sessions(&self, user_id: Option<UserId>) -> Result<Vec<ConsoleSession>>;
    /// Ends a session (idempotent); unknown id → [`StoreError::NotFound`].
    async fn revoke_console_session(&self, id: ConsoleSessionId) -> Result<ConsoleSession>;
    /// Records a request at `now` (best effort, informational).
    async fn touch_console_session(&self, id: ConsoleSessionId) -> Result<()>;
    /// Deletes expired and ended sessions; returns how many.
    async fn purge_console_sessions(&self) -> Result<u64>;

    // ---- OAuth states --------------------------------------------------------------------

    /// Creates a random single-use state bound to a user; stores only its hash.
    async fn create_oauth_state(&self, new: NewOAuthState) -> Result<CreatedOAuthState>;
    /// Consumes a state by hash, atomically: one conditional update, so among concurrent
    /// callers (on any instance) at most one gets `Some`. Unknown, used or expired → `None`.
    /// The presented state is compared only through its SHA-256 (an indexed lookup), so
    /// timing reveals nothing about stored states.
    async fn consume_oauth_state(&self, hash: &TokenHash) -> Result<Option<OAuthState>>;
    /// Deletes states that are used or expired; returns how many.
    async fn purge_oauth_states(&self) -> Result<u64>;

    // ---- approvals -----------------------------------------------------------------------

    /// Stores a pending approval with its canonical request and its SHA-256.
    async fn create_approval(&self, new: NewApproval) -> Result<Approval>;
    /// An approval by id.
    async fn get_approval(&self, id: ApprovalId) -> Result<Approval>;
    /// Approvals matching a filter, newest first.
    async fn list_approvals(&self, filter: ApprovalFilter) -> Result<Vec<Approval>>;
    /// Approves or denies a pending, unexpired approval, keeping the decider's `note` (at most
    /// [`MAX_APPROVAL_NOTE`](crate::MAX_APPROVAL_NOTE) characters, no control characters but
    /// line breaks and tabs; blank is no note). Anything else (already decided, expired,
    /// executing…) is a [`StoreError::Conflict`]; an unknown id is `NotFound`.
    async fn decide_approval(&self, id: ApprovalId, decision: Decided<'_>) -> Result<Approval>;
    /// Withdraws a pending, unexpired approval (its requester took it back): `withdrawn`,
    /// `decided_at` set, nobody as the decider. Anything else is a [`StoreError::Conflict`]
    /// (one conditional update, like deciding); an unknown id is `NotFound`.
    async fn withdraw_approval(&self, id: ApprovalId) -> Result<Approval>;
    /// Ids of approvals whose status changes from now on, in any process using this
    /// database, when the backend can announce them (PostgreSQL: `LISTEN` on the channel a
    /// trigger of migration 0007 notifies); `None` when it cannot (SQLite). The stream may
    /// miss changes while its connection is re-established, so a waiter still re-reads the
    /// approval now and then; it ends when its connection fails for good (ask again).
    async fn approval_changes(&self) -> Result<Option<BoxStream<'static, ApprovalId>>> {
        Ok(None)
    }
    /// Moves an approved approval to `executing`. Exactly one caller across all instances
    /// gets `true`; only that caller may run the request.
    async fn claim_approval_for_execution(&self, id: ApprovalId) -> Result<bool>;
    /// Stores the result of an `executing` approval (→ `executed` or `failed`).
    async fn finish_approval(&self, id: ApprovalId, outcome: ApprovalOutcome) -> Result<Approval>;
    /// Marks pending approvals past their expiry as `expired`; returns how many.
    async fn expire_approvals(&self) -> Result<u64>;
    /// Marks pending approvals past their expiry as `expired` and returns them (as expired),
    /// so that each expiry is reported once, by the instance whose update made it.
    async fn expire_due_approvals(&self) -> Result<Vec<Approval>>;

    // ---- approval notifications (webhook deliveries) -----------------------------------

    /// Records deliveries (one per event and hook), due at once, in one transaction.
    async fn create_webhook_deliveries(
        &self,
        new: &[NewWebhookDelivery],
    ) -> Result<Vec<WebhookDelivery>>;
    /// Claims up to `limit` due deliveries (oldest due first) for `lease`: their next attempt
    /// moves to the end of the lease, so no other worker (on any instance) takes them
    /// meanwhile; [`Store::record_webhook_attempt`] then sets what follows.
    async fn claim_due_webhook_deliveries(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Records one attempt of an unfinished delivery (a finished one is a conflict).
    async fn record_webhook_attempt(
        &self,
        id: WebhookDeliveryId,
        attempt: WebhookAttempt,
    ) -> Result<WebhookDelivery>;
    /// Deliveries matching a filter, most recently changed first.
    async fn list_webhook_deliveries(
        &self,
        filter: WebhookDeliveryFilter,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Deletes finished deliveries last changed before `finished_before`; returns how many.
    async fn purge_webhook_deliveries(&self, finished_before: time::OffsetDateTime) -> Result<u64>;

    // ---- inbound Notion webhooks (verification tokens) ---------------------------------

    /// Stores the verification token of a connection's Notion webhook subscription
    /// (encrypted with the vault's primary key), unverified. A verified token it replaces is
    /// kept as the previous one.
    async fn save_notion_webhook_token(
        &self,
        vault: &Vault,
        connection: ConnectionId,
        token: &secrecy::SecretString,
    ) -> Result<()>;
    /// A connection's webhook verification tokens, if a handshake stored one.
    async fn notion_webhook_tokens(
        &self,
        vault: &Vault,
        connection: ConnectionId,
    ) -> Result<Option<crate::NotionWebhookTokens>>;
    /// Marks the current token verified (a signed delivery verified with it) and forgets the
    /// previous one, if the current token is still the one received at `received_at`.
    async fn confirm_notion_webhook_token(
        &self,
        connection: ConnectionId,
        received_at: time::OffsetDateTime,
    ) -> Result<()>;

    // ---- MCP clients by OAuth -----------------------------------------------------------

    /// Registers a client; more than `max` unexpired registrations is a conflict.
    async fn create_mcp_client(&self, new: NewMcpClient, max: u32) -> Result<McpClient>;
    /// A client by `client_id` (expired ones included: the caller checks).
    async fn get_mcp_client(&self, client_id: &str) -> Result<McpClient>;
    /// Creates a random single-use authorization code; stores only its hash.
    async fn create_mcp_code(&self, new: NewMcpCode) -> Result<CreatedMcpCode>;
    /// Consumes a code by hash, atomically (one conditional update: at most one caller on any
    /// instance gets `Some`). Unknown, used or expired → `None`.
    async fn consume_mcp_code(&self, hash: &TokenHash) -> Result<Option<McpCode>>;
    /// Records an issued access token.
    async fn create_mcp_token(&self, new: NewMcpToken) -> Result<McpToken>;
    /// The token record of an agent key, if the key was issued by OAuth.
    async fn get_mcp_token(&self, api_key_id: ApiKeyId) -> Result<Option<McpToken>>;
    /// How many unexpired tokens a user's consents issued.
    async fn count_mcp_tokens(&self, user_id: UserId) -> Result<u64>;
    /// Up to `limit` expired token records, oldest first (their keys are to be revoked).
    async fn expired_mcp_tokens(&self, limit: u32) -> Result<Vec<McpToken>>;
    /// Deletes a token record.
    async fn delete_mcp_token(&self, api_key_id: ApiKeyId) -> Result<()>;
    /// Deletes expired clients and used or expired codes; returns how many rows went.
    async fn purge_mcp_oauth(&self) -> Result<u64>;

    // ---- audit ---------------------------------------------------------------------------

    /// Appends records in one transaction (all or none). There is no update or delete.
    async fn append_audit(&self, records: &[AuditRecord]) -> Result<()>;
    /// Appends records and intents in one transaction (all or none); a record naming an
    /// intent (`intent_id`) completes it.
    async fn append_audit_entries(&self, entries: &[AuditEntry]) -> Result<()>;
    /// Intents that no audit record completes (oldest first, at most `limit`): writes whose
    /// result nobody recorded, still running or left by a process that stopped.
    async fn open_intents(&self, limit: u32) -> Result<Vec<AuditIntent>>;
    /// Claims the settling of an open intent for `lease` (one conditional update: among
    /// concurrent callers on any instance, exactly one gets `true` while the claim holds).
    async fn claim_intent(
        &self,
        id: IntentId,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<bool>;
    /// The synchronous sink the [`AuditWriter`](crate::AuditWriter) uses to make durable
    /// records durable on the calling thread, when the backend has one (SQLite on a file: its
    /// audit spool); `None` makes every record go through [`Store::append_audit`].
    fn direct_audit(&self) -> Option<Arc<dyn DirectAudit>> {
        None
    }
    /// One page of events matching a query.
    async fn query_audit(&self, query: &AuditQuery) -> Result<AuditPage>;
    /// How many events match the query's filters (cursor and limit ignored).
    async fn count_audit(&self, query: &AuditQuery) -> Result<u64>;

    /// Writes every event matching the query's filters as JSON lines (one
    /// [`AuditEvent`](crate::AuditEvent)
    /// per line), oldest first, paging through the table; returns how many were written.
    async fn export_audit_jsonl(
        &self,
        query: &AuditQuery,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64> {
        let mut q = query.clone().order(AuditOrder::OldestFirst).limit(1000);
        let mut written = 0u64;
        let mut line = Vec::with_capacity(512);
        loop {
            let page = self.query_audit(&q).await?;
            for event in &page.events {
                line.clear();
                serde_json::to_writer(&mut line, event)
                    .map_err(|e| StoreError::corrupt(format!("audit event {}: {e}", event.id)))?;
                line.push(b'\n');
                out.write_all(&line)
                    .await
                    .map_err(|e| StoreError::io("audit export", e))?;
                written += 1;
            }
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        out.flush()
            .await
            .map_err(|e| StoreError::io("audit export", e))?;
        Ok(written)
    }
}
