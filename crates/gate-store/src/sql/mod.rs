//! The SQL store: one generic [`SqlStore`] over a [`Dialect`] serves SQLite ([`SqliteStore`])
//! and PostgreSQL ([`PgStore`]). Both run the same SQL text (`$n` placeholders work on SQLite
//! through sqlx too, times are integer milliseconds, booleans are `BOOLEAN`), so every query
//! below is written once; what differs (connecting, migrations, approval announcements, the
//! count of changed rows) is the dialect's, in `dialect.rs` and the two `connect`s here.

mod dialect;
mod direct;
mod mcp_oauth;
mod migrations;
mod rows;
mod spool;
mod webhooks;

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Postgres, Sqlite};

use crate::audit::{AuditEntry, AuditIntent, AuditOrder, AuditPage, AuditQuery, AuditRecord};
use crate::error::{Result, StoreError};
use crate::ids::{
    AgentId, ApiKeyId, ApprovalId, ConnectionId, ConsoleSessionId, IntentId, TokenHash, UserId,
    now, sha256_hex, to_ms,
};
use crate::models::{
    Agent, AgentUpdate, ApiKey, ApiKeyKind, Approval, ApprovalDecision, ApprovalFilter,
    ApprovalOutcome, ApprovalStatus, Connection, ConnectionTokens, CreatedApiKey,
    CreatedOAuthState, Decided, MAX_APPROVAL_NOTE, MAX_OAUTH_STATE_TTL, NewAgent, NewApiKey,
    NewApproval, NewConnection, NewOAuthState, NewUser, OAuthState, ReencryptReport, User,
};
use crate::sessions::{
    ConsoleSession, CreatedConsoleSession, MAX_CONSOLE_SESSION_TTL, NewConsoleSession,
};
use crate::store::{Backend, DirectAudit, Store, StoreOptions};
use crate::vault::{KeyId, Vault};
use dialect::{Dialect, Sql, query};
use rows::{
    AGENT_COLS, API_KEY_COLS, APPROVAL_COLS, AUDIT_COLS, AUDIT_INSERT_COLS, CONNECTION_COLS,
    CONSOLE_SESSION_COLS, INTENT_INSERT_COLS, OAUTH_STATE_COLS, RowExt as _, USER_COLS,
};

/// Rows per multi-row audit `INSERT` (17 columns each: well under SQLite's 32766 and
/// PostgreSQL's 65535 bind limits).
const AUDIT_CHUNK: usize = 500;

/// Connections of PostgreSQL's audit pool (`--audit-durability process`).
const AUDIT_PG_CONNECTIONS: u32 = 2;

/// The store, on either database.
pub(crate) struct SqlStore<D: Dialect> {
    pool: Pool<D>,
    /// The audit writer's connections: records and intents are committed here. On SQLite
    /// and with `--audit-durability fsync` it is `pool` itself; on PostgreSQL with `process`
    /// its sessions run with `synchronous_commit = off` (see [`PgStore::connect`]).
    audit_pool: Pool<D>,
    /// The call path's durable audit spool and its import (SQLite on a database file only).
    spool: Option<Arc<spool::SpoolAudit>>,
}

/// The SQLite store.
pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// The PostgreSQL store.
pub(crate) type PgStore = SqlStore<Postgres>;

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &D::BACKEND)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl SqliteStore {
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let file = connect.get_filename().to_owned();
        let in_memory = file.as_os_str() == ":memory:" || url.contains("mode=memory");
        if !in_memory && let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::io(format!("data folder {}", dir.display()), e))?;
        }
        // An in-process SQLite connection cannot go stale: no liveness ping (a round trip to
        // its worker thread) before every use.
        let mut pool = SqlitePoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false);
        pool = if in_memory {
            // Every connection to `:memory:` is its own database: keep exactly one forever.
            pool.max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            // SQLite runs one writer at a time, and each connection is an OS thread with its
            // own page cache (and, under load, its own malloc arena): three connections (the
            // audit writer, admin writes, reads) serve the gateway; eight cost ~10 MB of RSS
            // under 200 clients for nothing (docs/benchmarks.md, overhead).
            pool.max_connections(options.max_connections.unwrap_or(3))
        };
        let pool = pool.connect_with(connect).await?;
        let spool = if in_memory {
            None
        } else {
            let fsync = options.audit_durability == crate::store::AuditDurability::Fsync;
            let db = direct::SqliteDirectAudit::open(&file, options.busy_timeout, fsync)?;
            Some(Arc::new(spool::SpoolAudit::open(&file, db, fsync)?))
        };
        // Audit records are committed on the pool (durability is the spool's business).
        let audit_pool = pool.clone();
        Ok(Self {
            pool,
            audit_pool,
            spool,
        })
    }
}

impl PgStore {
    /// Connects the pool, and the audit writer's own: with `--audit-durability process`,
    /// audit records and intents promise to survive a crash of the *gateway's* process. On
    /// PostgreSQL that holds once the server has the commit: a commit with
    /// `synchronous_commit = off` is visible to every session and survives the client's
    /// death at once; only a crash of the server or its machine within about
    /// 3 × `wal_writer_delay` (600 ms by default) can lose it, and then atomically (the
    /// database stays consistent, the newest commits are simply missing). So those sessions
    /// skip the WAL flush their commit would wait for (ARCHITECTURE.md, invariants;
    /// docs/benchmarks.md, durability). With `fsync` the audit commits on the main pool,
    /// with the server's own setting (`on` by default: flushed before the answer).
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(10))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        let audit_pool = match options.audit_durability {
            crate::store::AuditDurability::Fsync => pool.clone(),
            crate::store::AuditDurability::Process => {
                // The writer commits one batch at a time; a second connection serves
                // direct `append_audit` callers beside it.
                PgPoolOptions::new()
                    .max_connections(AUDIT_PG_CONNECTIONS)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect.options([("synchronous_commit", "off")]))
                    .await?
            }
        };
        Ok(Self {
            pool,
            audit_pool,
            spool: None,
        })
    }
}

/// A decider's note as stored: trimmed, blank → none, at most [`MAX_APPROVAL_NOTE`]
/// characters, no control characters other than line breaks and tabs.
fn check_note(note: Option<&str>) -> Result<Option<String>> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > MAX_APPROVAL_NOTE
        || note
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(StoreError::invalid(format!(
            "note: at most {MAX_APPROVAL_NOTE} characters, without control characters"
        )));
    }
    Ok(Some(note.to_owned()))
}

fn check_name(what: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::invalid(format!(
            "{what}: must be 1 to 200 characters, without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Replaces a generic unique-violation conflict with a specific message.
fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match StoreError::from(e) {
        StoreError::Conflict { .. } => StoreError::conflict(what),
        other => other,
    }
}

/// `select`, of one owner's rows or of everyone's, in `order`.
fn owned_rows(select: String, owner_id: Option<UserId>, order: &str) -> Sql<'static> {
    let mut q = query(select);
    if let Some(owner) = owner_id {
        q.push(" WHERE owner_id = ").push_bind(owner.to_string());
    }
    q.push(" ORDER BY ").push(order);
    q
}

/// `Ok` when a statement changed a row, else [`StoreError::NotFound`] of `what`.
fn changed_one(n: u64, what: &'static str) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound { what })
    } else {
        Ok(())
    }
}

/// A foreign-key violation as [`StoreError::NotFound`] of `what` (the row it names is
/// missing), any other error as `other` makes it.
fn missing_as(
    what: &'static str,
    other: impl Fn(sqlx::Error) -> StoreError,
) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| {
        if e.as_database_error()
            .is_some_and(|d| d.is_foreign_key_violation())
        {
            StoreError::NotFound { what }
        } else {
            other(e)
        }
    }
}

fn random_token() -> SecretString {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let s = URL_SAFE_NO_PAD.encode(raw);
    raw.fill(0);
    SecretString::from(s)
}

fn first<T>(mut rows: Vec<T>) -> Option<T> {
    if rows.is_empty() {
        None
    } else {
        Some(rows.swap_remove(0))
    }
}

/// The first of `rows`, decoded; none is [`StoreError::NotFound`] of `what`.
fn found<R, T>(rows: Vec<R>, what: &'static str, decode: impl Fn(&R) -> Result<T>) -> Result<T> {
    decode(&first(rows).ok_or(StoreError::NotFound { what })?)
}

fn opt_str<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

/// What a failed conditional approval update means, given the row as it is now.
fn approval_conflict(current: &Approval, wanted: &str) -> StoreError {
    if current.status == ApprovalStatus::Pending && current.expires_at <= now() {
        StoreError::conflict(format!("approval has expired; cannot {wanted}"))
    } else {
        StoreError::conflict(format!("approval is {}; cannot {wanted}", current.status))
    }
}

impl<D: Dialect> SqlStore<D> {
    async fn fetch_connection_row(&self, id: ConnectionId) -> Result<Connection> {
        let sql = format!("SELECT {CONNECTION_COLS} FROM connections WHERE id = $1");
        query(&sql)
            .bind(id.to_string())
            .fetch_found(&self.pool, "connection", rows::connection)
            .await
    }

    /// Checks that a connection exists and belongs to `owner`.
    async fn check_connection_owner(&self, id: ConnectionId, owner: UserId) -> Result<()> {
        let c = self.fetch_connection_row(id).await?;
        if c.owner_id != owner {
            return Err(StoreError::invalid(
                "connection: it belongs to another user than the agent's owner",
            ));
        }
        Ok(())
    }

    /// Appends records and intents in one transaction (one statement, without
    /// BEGIN/COMMIT round trips, when that is all there is: the call path waits for
    /// this commit); records naming an intent remove it.
    async fn append_parts(&self, records: &[&AuditRecord], intents: &[&AuditIntent]) -> Result<()> {
        // Only the one-row inserts are kept prepared: every other row count is another SQL
        // text, and caching them (up to 100 per connection, each as big as its rows) held
        // tens of MB under load.
        let mut statements = Vec::new();
        for chunk in intents.chunks(AUDIT_CHUNK) {
            let mut q = query(format!("INSERT INTO audit_intents ({INTENT_INSERT_COLS})"));
            q.push_values(chunk.iter().map(|i| rows::intent_cells(i)));
            q.push(" ON CONFLICT (id) DO NOTHING");
            statements.push(q.persistent(chunk.len() == 1));
        }
        for chunk in records.chunks(AUDIT_CHUNK) {
            let mut q = query(format!("INSERT INTO audit_events ({AUDIT_INSERT_COLS})"));
            q.push_values(chunk.iter().map(|r| rows::audit_cells(r)));
            statements.push(q.persistent(chunk.len() == 1));
        }
        let done: Vec<String> = records
            .iter()
            .filter_map(|r| r.intent_id.map(|i| i.to_string()))
            .collect();
        if !done.is_empty() {
            let mut q = query("DELETE FROM audit_intents WHERE id IN ");
            q.push_tuple(done);
            statements.push(q);
        }
        dialect::batch(&self.audit_pool, statements).await?;
        Ok(())
    }

    /// Runs an approval's conditional update; no row means the approval is not in the state
    /// the update expects: a conflict saying which it is (or `NotFound`).
    async fn transition(&self, id: ApprovalId, wanted: &str, update: Sql<'_>) -> Result<Approval> {
        match update.fetch_first(&self.pool, rows::approval).await? {
            Some(approval) => Ok(approval),
            None => Err(approval_conflict(&self.get_approval(id).await?, wanted)),
        }
    }

    fn push_audit_filters(qb: &mut Sql<'_>, q: &AuditQuery) {
        qb.push(" WHERE 1 = 1");
        if let Some(a) = q.agent_id {
            qb.push(" AND agent_id = ").push_bind(a.to_string());
        }
        if let Some(u) = q.user_id {
            qb.push(" AND user_id = ").push_bind(u.to_string());
        }
        if let Some(c) = &q.action_class {
            qb.push(" AND action_class = ").push_bind(c.clone());
        }
        if let Some(o) = q.outcome {
            qb.push(" AND outcome = ").push_bind(o.as_str());
        }
        if let Some(v) = q.surface {
            qb.push(" AND surface = ").push_bind(v.as_str());
        }
        if let Some(v) = q.decision {
            qb.push(" AND decision = ").push_bind(v.as_str());
        }
        if let Some(c) = q.connection_id {
            qb.push(" AND connection_id = ").push_bind(c.to_string());
        }
        if let Some(t) = q.since {
            qb.push(" AND at >= ").push_bind(to_ms(t));
        }
        if let Some(t) = q.until {
            qb.push(" AND at < ").push_bind(to_ms(t));
        }
    }

    async fn reencrypt_one(&self, vault: &Vault, id: ConnectionId) -> Result<Option<bool>> {
        // Up to three tries: a concurrent token refresh changes the row under us.
        for _ in 0..3 {
            let row = query(
                "SELECT access_token_enc, refresh_token_enc, key_id FROM connections WHERE id = $1",
            )
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else {
                return Ok(Some(false));
            };
            let access_enc = row.text("access_token_enc")?;
            let refresh_enc = row.opt_text("refresh_token_enc")?;
            let key_id = KeyId::new(row.text("key_id")?);
            if &key_id == vault.primary_key_id() {
                return Ok(Some(false));
            }
            let access = match vault.decrypt(&access_enc, Some(&key_id)) {
                Ok(t) => t,
                Err(_) => return Ok(None),
            };
            let refresh = match refresh_enc
                .as_deref()
                .map(|r| vault.decrypt(r, Some(&key_id)))
            {
                Some(Ok(t)) => Some(t),
                Some(Err(_)) => return Ok(None),
                None => None,
            };
            let access_new = vault.encrypt(&access);
            let refresh_new = refresh.as_ref().map(|r| vault.encrypt(r).token);
            let done = query(
                "UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3, \
                 key_id = $4, updated_at = $5 WHERE id = $1 AND access_token_enc = $6",
            )
            .bind(id.to_string())
            .bind(access_new.token)
            .bind(refresh_new)
            .bind(access_new.key_id.as_str().to_owned())
            .bind(to_ms(now()))
            .bind(access_enc)
            .execute(&self.pool)
            .await?;
            if done == 1 {
                return Ok(Some(true));
            }
        }
        Err(StoreError::conflict(
            "connection kept changing during re-encryption",
        ))
    }
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    fn backend(&self) -> Backend {
        D::BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        migrations::run(&self.pool).await?;
        // Audit records that processes which died left in their spool files (the table the
        // import records its progress in exists from here on).
        // A failure is logged, never fatal: the files stay for the next start.
        if let Some(spool) = &self.spool {
            let spool = Arc::clone(spool);
            match tokio::task::spawn_blocking(move || spool.recover()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "could not import the audit spools left by stopped processes");
                }
                Err(e) => tracing::error!(error = %e, "the audit spool recovery panicked"),
            }
        }
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
        // The same pool on SQLite and with `fsync` (closing twice is harmless).
        self.audit_pool.close().await;
    }

    // ---- users ---------------------------------------------------------------

    async fn create_user(&self, new: NewUser) -> Result<User> {
        let name = check_name("user name", &new.name)?;
        let sql = format!(
            "INSERT INTO users (id, name, is_admin, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLS}"
        );
        let row = query(&sql)
            .bind(UserId::new().to_string())
            .bind(name)
            .bind(new.is_admin)
            .bind(false)
            .bind(to_ms(now()))
            .fetch_one(&self.pool)
            .await
            .map_err(conflict_as("a user with this name already exists"))?;
        rows::user(&row)
    }

    async fn get_user(&self, id: UserId) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        query(&sql)
            .bind(id.to_string())
            .fetch_found(&self.pool, "user", rows::user)
            .await
    }

    async fn get_user_by_name(&self, name: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE name = $1");
        query(&sql)
            .bind(name.trim().to_owned())
            .fetch_found(&self.pool, "user", rows::user)
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY name");
        query(&sql).fetch_rows(&self.pool, rows::user).await
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<User> {
        let sql = format!("UPDATE users SET disabled = $2 WHERE id = $1 RETURNING {USER_COLS}");
        query(&sql)
            .bind(id.to_string())
            .bind(disabled)
            .fetch_found(&self.pool, "user", rows::user)
            .await
    }

    async fn set_user_admin(&self, id: UserId, is_admin: bool) -> Result<User> {
        let sql = format!("UPDATE users SET is_admin = $2 WHERE id = $1 RETURNING {USER_COLS}");
        query(&sql)
            .bind(id.to_string())
            .bind(is_admin)
            .fetch_found(&self.pool, "user", rows::user)
            .await
    }

    // ---- API keys ------------------------------------------------------------

    async fn create_api_key(&self, new: NewApiKey) -> Result<CreatedApiKey> {
        let kind = new.kind();
        let generated = crate::keys::generate(kind);
        let (owner_sql, owner_id, what) = match (kind, new.agent_id, new.user_id) {
            (ApiKeyKind::Agent, Some(agent), _) => (
                "SELECT $1, 'agent', owner_id, id, $2, $3, $4, $5 FROM agents WHERE id = $6",
                agent.to_string(),
                "agent",
            ),
            (_, _, Some(user)) => (
                "SELECT $1, 'user', id, NULL, $2, $3, $4, $5 FROM users WHERE id = $6",
                user.to_string(),
                "user",
            ),
            _ => return Err(StoreError::invalid("api key: needs a user or an agent")),
        };
        let label = new
            .label
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty());
        let sql = format!(
            "INSERT INTO api_keys (id, kind, user_id, agent_id, public_id, key_hash, label, created_at) \
             {owner_sql} RETURNING {API_KEY_COLS}"
        );
        let rows = query(&sql)
            .bind(ApiKeyId::new().to_string())
            .bind(generated.public_id.clone())
            .bind(generated.hash.as_str().to_owned())
            .bind(label)
            .bind(to_ms(now()))
            .bind(owner_id)
            .fetch_all(&self.pool)
            .await
            .map_err(conflict_as("api key collision; try again"))?;
        let info = found(rows, what, rows::api_key)?;
        Ok(CreatedApiKey {
            key: generated.key,
            info,
        })
    }

    async fn find_api_key_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        query(&sql)
            .bind(hash.as_str().to_owned())
            .fetch_first(&self.pool, rows::api_key)
            .await
    }

    async fn list_api_keys(&self, user_id: UserId) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id"
        );
        query(&sql)
            .bind(user_id.to_string())
            .fetch_rows(&self.pool, rows::api_key)
            .await
    }

    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<ApiKey> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 \
             RETURNING {API_KEY_COLS}"
        );
        query(&sql)
            .bind(id.to_string())
            .bind(to_ms(now()))
            .fetch_found(&self.pool, "api key", rows::api_key)
            .await
    }

    async fn touch_api_key(&self, id: ApiKeyId) -> Result<()> {
        query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(to_ms(now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- agents --------------------------------------------------------------

    async fn create_agent(&self, new: NewAgent) -> Result<Agent> {
        let name = check_name("agent name", &new.name)?;
        let maturity = check_name("maturity", &new.maturity)?;
        if let Some(c) = new.connection_id {
            self.check_connection_owner(c, new.owner_id).await?;
        }
        let at = to_ms(now());
        let sql = format!(
            "INSERT INTO agents (id, owner_id, name, maturity, connection_id, disabled, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING {AGENT_COLS}"
        );
        let row = query(&sql)
            .bind(AgentId::new().to_string())
            .bind(new.owner_id.to_string())
            .bind(name)
            .bind(maturity)
            .bind(opt_str(new.connection_id))
            .bind(false)
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(missing_as(
                "user",
                conflict_as("this owner already has an agent with this name"),
            ))?;
        rows::agent(&row)
    }

    async fn get_agent(&self, id: AgentId) -> Result<Agent> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE id = $1");
        query(&sql)
            .bind(id.to_string())
            .fetch_found(&self.pool, "agent", rows::agent)
            .await
    }

    async fn get_agent_by_name(&self, owner_id: UserId, name: &str) -> Result<Agent> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE owner_id = $1 AND name = $2");
        query(&sql)
            .bind(owner_id.to_string())
            .bind(name.trim().to_owned())
            .fetch_found(&self.pool, "agent", rows::agent)
            .await
    }

    async fn list_agents(&self, owner_id: Option<UserId>) -> Result<Vec<Agent>> {
        owned_rows(
            format!("SELECT {AGENT_COLS} FROM agents"),
            owner_id,
            "owner_id, name, id",
        )
        .fetch_rows(&self.pool, rows::agent)
        .await
    }

    async fn update_agent(&self, id: AgentId, update: AgentUpdate) -> Result<Agent> {
        let name = update
            .name
            .as_deref()
            .map(|n| check_name("agent name", n))
            .transpose()?;
        let maturity = update
            .maturity
            .as_deref()
            .map(|m| check_name("maturity", m))
            .transpose()?;
        if name.is_none()
            && maturity.is_none()
            && update.connection_id.is_none()
            && update.disabled.is_none()
        {
            return self.get_agent(id).await;
        }
        if let Some(Some(c)) = update.connection_id {
            let agent = self.get_agent(id).await?;
            self.check_connection_owner(c, agent.owner_id).await?;
        }
        let sql = format!(
            "UPDATE agents SET name = COALESCE($2, name), maturity = COALESCE($3, maturity), \
             connection_id = CASE WHEN $4 THEN $5 ELSE connection_id END, \
             disabled = COALESCE($6, disabled), version = version + 1, updated_at = $7 \
             WHERE id = $1 RETURNING {AGENT_COLS}"
        );
        let rows = query(&sql)
            .bind(id.to_string())
            .bind(name)
            .bind(maturity)
            .bind(update.connection_id.is_some())
            .bind(update.connection_id.flatten().map(|c| c.to_string()))
            .bind(update.disabled)
            .bind(to_ms(now()))
            .fetch_all(&self.pool)
            .await
            .map_err(conflict_as(
                "this owner already has an agent with this name",
            ))?;
        found(rows, "agent", rows::agent)
    }

    async fn delete_agent(&self, id: AgentId) -> Result<()> {
        let n = query("DELETE FROM agents WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        changed_one(n, "agent")
    }

    // ---- connections ---------------------------------------------------------

    async fn upsert_connection(&self, vault: &Vault, new: NewConnection) -> Result<Connection> {
        let workspace_id = check_name("workspace id", &new.bot.workspace_id)?;
        let bot_id = check_name("bot id", &new.bot.bot_id)?;
        if new.access_token.expose_secret().trim().is_empty() {
            return Err(StoreError::invalid("access token: empty"));
        }
        let access = vault.encrypt(&new.access_token);
        let refresh = new.refresh_token.as_ref().map(|r| vault.encrypt(r).token);
        let owner_json = new.bot.owner.as_ref().map(|o| o.to_string());
        let at = to_ms(now());
        let sql = format!(
            "INSERT INTO connections (id, owner_id, workspace_id, workspace_name, workspace_icon, bot_id, \
               owner_json, kind, access_token_enc, refresh_token_enc, token_expires_at, key_id, \
               revoked, needs_reauth, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $14) \
             ON CONFLICT (owner_id, bot_id) DO UPDATE SET \
               workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name, \
               workspace_icon = excluded.workspace_icon, owner_json = excluded.owner_json, \
               kind = excluded.kind, access_token_enc = excluded.access_token_enc, \
               refresh_token_enc = excluded.refresh_token_enc, \
               token_expires_at = excluded.token_expires_at, key_id = excluded.key_id, \
               revoked = excluded.revoked, needs_reauth = excluded.needs_reauth, \
               revocation_failed = excluded.revocation_failed, \
               updated_at = excluded.updated_at \
             RETURNING {CONNECTION_COLS}"
        );
        let row = query(&sql)
            .bind(ConnectionId::new().to_string())
            .bind(new.owner_id.to_string())
            .bind(workspace_id)
            .bind(new.bot.workspace_name)
            .bind(new.bot.workspace_icon)
            .bind(bot_id)
            .bind(owner_json)
            .bind(new.kind.as_str())
            .bind(access.token)
            .bind(refresh)
            .bind(new.token_expires_at.map(to_ms))
            .bind(access.key_id.as_str().to_owned())
            .bind(false)
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(missing_as("user", StoreError::from))?;
        rows::connection(&row)
    }

    async fn get_connection(&self, id: ConnectionId) -> Result<Connection> {
        self.fetch_connection_row(id).await
    }

    async fn list_connections(&self, owner_id: Option<UserId>) -> Result<Vec<Connection>> {
        let select = format!("SELECT {CONNECTION_COLS} FROM connections");
        owned_rows(select, owner_id, "created_at, id")
            .fetch_rows(&self.pool, rows::connection)
            .await
    }

    async fn connection_tokens(&self, vault: &Vault, id: ConnectionId) -> Result<ConnectionTokens> {
        let row = query(
            "SELECT access_token_enc, refresh_token_enc, token_expires_at, key_id \
             FROM connections WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound { what: "connection" })?;
        let key_id = KeyId::new(row.text("key_id")?);
        let access_enc = row.text("access_token_enc")?;
        let refresh_enc = row.opt_text("refresh_token_enc")?;
        let expires_at = row
            .opt_int("token_expires_at")?
            .map(crate::ids::from_ms)
            .transpose()?;
        let decrypted = vault
            .decrypt(&access_enc, Some(&key_id))
            .and_then(|access| {
                let refresh = refresh_enc
                    .as_deref()
                    .map(|r| vault.decrypt(r, Some(&key_id)))
                    .transpose()?;
                Ok((access, refresh))
            });
        match decrypted {
            Ok((access_token, refresh_token)) => Ok(ConnectionTokens {
                access_token,
                refresh_token,
                expires_at,
            }),
            Err(_) => {
                tracing::warn!(connection_id = %id, key_id = %key_id, "stored token does not decrypt; reconnect required");
                if let Err(e) = self.mark_connection_needs_reauth(id).await {
                    tracing::warn!(connection_id = %id, error = %e, "could not flag the connection");
                }
                Err(StoreError::ReconnectRequired {
                    connection_id: Some(id),
                })
            }
        }
    }

    async fn update_connection_tokens(
        &self,
        vault: &Vault,
        id: ConnectionId,
        access_token: &SecretString,
        refresh_token: Option<&SecretString>,
        expires_at: Option<time::OffsetDateTime>,
    ) -> Result<Connection> {
        if access_token.expose_secret().trim().is_empty() {
            return Err(StoreError::invalid("access token: empty"));
        }
        let access = vault.encrypt(access_token);
        let refresh = refresh_token.map(|r| vault.encrypt(r).token);
        let sql = format!(
            "UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3, \
             token_expires_at = $4, key_id = $5, needs_reauth = $6, updated_at = $7, \
             refresh_claimed_by = NULL, refresh_claimed_until = NULL \
             WHERE id = $1 RETURNING {CONNECTION_COLS}"
        );
        query(&sql)
            .bind(id.to_string())
            .bind(access.token)
            .bind(refresh)
            .bind(expires_at.map(to_ms))
            .bind(access.key_id.as_str().to_owned())
            .bind(false)
            .bind(to_ms(now()))
            .fetch_found(&self.pool, "connection", rows::connection)
            .await
    }

    async fn claim_token_refresh(
        &self,
        id: ConnectionId,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<bool> {
        let now_ms = to_ms(now());
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        // Row-level atomic on both engines: PostgreSQL re-checks the WHERE clause of a
        // concurrent UPDATE after the first commits; SQLite serialises writers.
        let n = query(
            "UPDATE connections SET refresh_claimed_by = $2, refresh_claimed_until = $3 \
             WHERE id = $1 AND (refresh_claimed_until IS NULL OR refresh_claimed_until <= $4 \
             OR refresh_claimed_by = $2)",
        )
        .bind(id.to_string())
        .bind(holder)
        .bind(now_ms.saturating_add(lease_ms))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if n == 1 {
            return Ok(true);
        }
        // Tell "someone else holds it" from "no such connection".
        self.fetch_connection_row(id).await?;
        Ok(false)
    }

    async fn release_token_refresh(&self, id: ConnectionId, holder: &str) -> Result<()> {
        query(
            "UPDATE connections SET refresh_claimed_by = NULL, refresh_claimed_until = NULL \
             WHERE id = $1 AND refresh_claimed_by = $2",
        )
        .bind(id.to_string())
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_connection_revoked(&self, id: ConnectionId, revoked: bool) -> Result<Connection> {
        let sql = format!(
            "UPDATE connections SET revoked = $2, updated_at = $3 WHERE id = $1 RETURNING {CONNECTION_COLS}"
        );
        query(&sql)
            .bind(id.to_string())
            .bind(revoked)
            .bind(to_ms(now()))
            .fetch_found(&self.pool, "connection", rows::connection)
            .await
    }

    async fn mark_revocation_failed(&self, id: ConnectionId) -> Result<Connection> {
        let sql = format!(
            "UPDATE connections SET revoked = $2, revocation_failed = $2, updated_at = $3 \
             WHERE id = $1 RETURNING {CONNECTION_COLS}"
        );
        query(&sql)
            .bind(id.to_string())
            .bind(true)
            .bind(to_ms(now()))
            .fetch_found(&self.pool, "connection", rows::connection)
            .await
    }

    async fn mark_connection_needs_reauth(&self, id: ConnectionId) -> Result<()> {
        let n = query("UPDATE connections SET needs_reauth = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(true)
            .bind(to_ms(now()))
            .execute(&self.pool)
            .await?;
        changed_one(n, "connection")
    }

    async fn delete_connection(&self, id: ConnectionId) -> Result<()> {
        let n = query("DELETE FROM connections WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        changed_one(n, "connection")
    }

    async fn reencrypt_all(&self, vault: &Vault) -> Result<ReencryptReport> {
        let ids = query("SELECT id FROM connections ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| ConnectionId::parse_stored(&r.text("id")?))
            .collect::<Result<Vec<_>>>()?;
        let mut report = ReencryptReport::default();
        for id in ids {
            match self.reencrypt_one(vault, id).await? {
                Some(true) => report.rewritten += 1,
                Some(false) => report.unchanged += 1,
                None => {
                    tracing::warn!(connection_id = %id, "token does not decrypt with any configured key; reconnect required");
                    self.mark_connection_needs_reauth(id)
                        .await
                        .or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) })?;
                    report.undecryptable.push(id);
                }
            }
        }
        Ok(report)
    }

    // ---- console sessions ----------------------------------------------------

    async fn create_console_session(
        &self,
        new: NewConsoleSession,
    ) -> Result<CreatedConsoleSession> {
        if new.ttl.is_zero() || new.ttl > MAX_CONSOLE_SESSION_TTL {
            return Err(StoreError::invalid(
                "session lifetime: from 1 second to 30 days",
            ));
        }
        let ttl = time::Duration::try_from(new.ttl)
            .map_err(|_| StoreError::invalid("session lifetime"))?;
        let token = SecretString::from(format!("ngs_{}", random_token().expose_secret()));
        let created = now();
        let sql = format!(
            "INSERT INTO console_sessions (id, token_hash, user_id, key_hash, user_agent, \
               client_addr, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) RETURNING {CONSOLE_SESSION_COLS}"
        );
        let row = query(&sql)
            .bind(ConsoleSessionId::new().to_string())
            .bind(TokenHash::of(token.expose_secret()).as_str().to_owned())
            .bind(new.user_id.to_string())
            .bind(new.key_hash.as_str().to_owned())
            .bind(new.user_agent)
            .bind(new.client_addr)
            .bind(to_ms(created))
            .bind(to_ms(created + ttl))
            .fetch_one(&self.pool)
            .await
            .map_err(missing_as("user", StoreError::from))?;
        Ok(CreatedConsoleSession {
            token,
            info: rows::console_session(&row)?,
        })
    }

    async fn find_console_session(&self, hash: &TokenHash) -> Result<Option<ConsoleSession>> {
        let sql = format!(
            "SELECT {CONSOLE_SESSION_COLS} FROM console_sessions \
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
        );
        query(&sql)
            .bind(hash.as_str().to_owned())
            .bind(to_ms(now()))
            .fetch_first(&self.pool, rows::console_session)
            .await
    }

    async fn list_console_sessions(&self, user_id: Option<UserId>) -> Result<Vec<ConsoleSession>> {
        let mut qb = query(format!(
            "SELECT {CONSOLE_SESSION_COLS} FROM console_sessions WHERE revoked_at IS NULL AND expires_at > "
        ));
        qb.push_bind(to_ms(now()));
        if let Some(u) = user_id {
            qb.push(" AND user_id = ").push_bind(u.to_string());
        }
        qb.push(" ORDER BY created_at DESC, id LIMIT 1000");
        qb.fetch_rows(&self.pool, rows::console_session).await
    }

    async fn revoke_console_session(&self, id: ConsoleSessionId) -> Result<ConsoleSession> {
        query("UPDATE console_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.to_string())
            .bind(to_ms(now()))
            .execute(&self.pool)
            .await?;
        let sql = format!("SELECT {CONSOLE_SESSION_COLS} FROM console_sessions WHERE id = $1");
        query(&sql)
            .bind(id.to_string())
            .fetch_found(&self.pool, "console session", rows::console_session)
            .await
    }

    async fn touch_console_session(&self, id: ConsoleSessionId) -> Result<()> {
        query("UPDATE console_sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(to_ms(now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_console_sessions(&self) -> Result<u64> {
        Ok(
            query("DELETE FROM console_sessions WHERE revoked_at IS NOT NULL OR expires_at <= $1")
                .bind(to_ms(now()))
                .execute(&self.pool)
                .await?,
        )
    }

    // ---- OAuth states --------------------------------------------------------

    async fn create_oauth_state(&self, new: NewOAuthState) -> Result<CreatedOAuthState> {
        if new.ttl > MAX_OAUTH_STATE_TTL {
            return Err(StoreError::invalid(
                "oauth state lifetime: at most 10 minutes",
            ));
        }
        let ttl = time::Duration::try_from(new.ttl)
            .map_err(|_| StoreError::invalid("oauth state lifetime"))?;
        let state = random_token();
        let hash = TokenHash::of(state.expose_secret());
        let created = now();
        let sql = format!(
            "INSERT INTO oauth_states (state_hash, user_id, redirect_to, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {OAUTH_STATE_COLS}"
        );
        let row = query(&sql)
            .bind(hash.as_str().to_owned())
            .bind(new.user_id.to_string())
            .bind(new.redirect_to)
            .bind(to_ms(created))
            .bind(to_ms(created + ttl))
            .fetch_one(&self.pool)
            .await
            .map_err(missing_as("user", StoreError::from))?;
        Ok(CreatedOAuthState {
            state,
            info: rows::oauth_state(&row)?,
        })
    }

    async fn consume_oauth_state(&self, hash: &TokenHash) -> Result<Option<OAuthState>> {
        let sql = format!(
            "UPDATE oauth_states SET used_at = $2 \
             WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING {OAUTH_STATE_COLS}"
        );
        query(&sql)
            .bind(hash.as_str().to_owned())
            .bind(to_ms(now()))
            .fetch_first(&self.pool, rows::oauth_state)
            .await
    }

    async fn purge_oauth_states(&self) -> Result<u64> {
        Ok(
            query("DELETE FROM oauth_states WHERE used_at IS NOT NULL OR expires_at <= $1")
                .bind(to_ms(now()))
                .execute(&self.pool)
                .await?,
        )
    }

    // ---- approvals -----------------------------------------------------------

    async fn create_approval(&self, new: NewApproval) -> Result<Approval> {
        let NewApproval { request: new, ttl } = new;
        let operation = check_name("operation", &new.operation)?;
        let action_class = check_name("action class", &new.action_class)?;
        if serde_json::from_str::<serde_json::Value>(&new.request_json).is_err() {
            return Err(StoreError::invalid("approval request: not JSON"));
        }
        let ttl =
            time::Duration::try_from(ttl).map_err(|_| StoreError::invalid("approval lifetime"))?;
        let created = now();
        let sql = format!(
            "INSERT INTO approvals (id, requester_kind, requester_user_id, agent_id, connection_id, \
               operation, action_class, request_json, request_hash, status, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {APPROVAL_COLS}"
        );
        let row = query(&sql)
            .bind(ApprovalId::new().to_string())
            .bind(new.requester_kind.as_str())
            .bind(opt_str(new.requester_user_id))
            .bind(opt_str(new.agent_id))
            .bind(opt_str(new.connection_id))
            .bind(operation)
            .bind(action_class)
            .bind(new.request_json.clone())
            .bind(sha256_hex(new.request_json.as_bytes()))
            .bind(ApprovalStatus::Pending.as_str())
            .bind(to_ms(created))
            .bind(to_ms(created + ttl))
            .fetch_one(&self.pool)
            .await?;
        rows::approval(&row)
    }

    async fn get_approval(&self, id: ApprovalId) -> Result<Approval> {
        let sql = format!("SELECT {APPROVAL_COLS} FROM approvals WHERE id = $1");
        query(&sql)
            .bind(id.to_string())
            .fetch_found(&self.pool, "approval", rows::approval)
            .await
    }

    async fn list_approvals(&self, filter: ApprovalFilter) -> Result<Vec<Approval>> {
        let mut qb = query(format!("SELECT {APPROVAL_COLS} FROM approvals WHERE 1 = 1"));
        if let Some(s) = filter.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(a) = filter.agent_id {
            qb.push(" AND agent_id = ").push_bind(a.to_string());
        }
        if let Some(u) = filter.user_id {
            qb.push(" AND requester_user_id = ")
                .push_bind(u.to_string());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.unwrap_or(100).clamp(1, 1000)));
        qb.fetch_rows(&self.pool, rows::approval).await
    }

    async fn decide_approval(&self, id: ApprovalId, decision: Decided<'_>) -> Result<Approval> {
        let Decided {
            kind: decision,
            by: decider,
            note,
        } = decision;
        let status = match decision {
            ApprovalDecision::Approve => ApprovalStatus::Approved,
            ApprovalDecision::Deny => ApprovalStatus::Denied,
        };
        let note = check_note(note)?;
        let sql = format!(
            "UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5 \
             WHERE id = $1 AND status = 'pending' AND expires_at > $4 RETURNING {APPROVAL_COLS}"
        );
        let wanted = match decision {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Deny => "deny",
        };
        let q = query(&sql)
            .bind(id.to_string())
            .bind(status.as_str())
            .bind(decider.to_string())
            .bind(to_ms(now()))
            .bind(note);
        self.transition(id, wanted, q).await
    }

    async fn withdraw_approval(&self, id: ApprovalId) -> Result<Approval> {
        let sql = format!(
            "UPDATE approvals SET status = 'withdrawn', decided_at = $2 \
             WHERE id = $1 AND status = 'pending' AND expires_at > $2 RETURNING {APPROVAL_COLS}"
        );
        self.transition(
            id,
            "withdraw it",
            query(&sql).bind(id.to_string()).bind(to_ms(now())),
        )
        .await
    }

    async fn approval_changes(
        &self,
    ) -> Result<Option<futures::stream::BoxStream<'static, ApprovalId>>> {
        D::approval_changes(&self.pool).await
    }

    async fn claim_approval_for_execution(&self, id: ApprovalId) -> Result<bool> {
        let n = query(
            "UPDATE approvals SET status = 'executing' WHERE id = $1 AND status = 'approved'",
        )
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if n == 1 {
            return Ok(true);
        }
        self.get_approval(id).await?;
        Ok(false)
    }

    async fn finish_approval(&self, id: ApprovalId, outcome: ApprovalOutcome) -> Result<Approval> {
        if let Some(j) = &outcome.result_json
            && serde_json::from_str::<serde_json::Value>(j).is_err()
        {
            return Err(StoreError::invalid("approval result: not JSON"));
        }
        let status = if outcome.ok {
            ApprovalStatus::Executed
        } else {
            ApprovalStatus::Failed
        };
        let sql = format!(
            "UPDATE approvals SET status = $2, result_json = $3, result_status = $4, finished_at = $5 \
             WHERE id = $1 AND status = 'executing' RETURNING {APPROVAL_COLS}"
        );
        self.transition(
            id,
            "finish it",
            query(&sql)
                .bind(id.to_string())
                .bind(status.as_str())
                .bind(outcome.result_json)
                .bind(outcome.result_status.map(i64::from))
                .bind(to_ms(now())),
        )
        .await
    }

    async fn expire_approvals(&self) -> Result<u64> {
        Ok(query(
            "UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1",
        )
        .bind(to_ms(now()))
        .execute(&self.pool)
        .await?)
    }

    async fn expire_due_approvals(&self) -> Result<Vec<Approval>> {
        let sql = format!(
            "UPDATE approvals SET status = 'expired' \
             WHERE status = 'pending' AND expires_at <= $1 RETURNING {APPROVAL_COLS}"
        );
        query(&sql)
            .bind(to_ms(now()))
            .fetch_rows(&self.pool, rows::approval)
            .await
    }

    // ---- MCP clients by OAuth --------------------------------------------------

    async fn create_mcp_client(
        &self,
        new: crate::mcp_oauth::NewMcpClient,
        max: u32,
    ) -> Result<crate::mcp_oauth::McpClient> {
        self.mcp_client_create(new, max).await
    }

    async fn get_mcp_client(&self, client_id: &str) -> Result<crate::mcp_oauth::McpClient> {
        self.mcp_client_get(client_id).await
    }

    async fn create_mcp_code(
        &self,
        new: crate::mcp_oauth::NewMcpCode,
    ) -> Result<crate::mcp_oauth::CreatedMcpCode> {
        self.mcp_code_create(new).await
    }

    async fn consume_mcp_code(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<crate::mcp_oauth::McpCode>> {
        self.mcp_code_consume(hash).await
    }

    async fn create_mcp_token(
        &self,
        new: crate::mcp_oauth::NewMcpToken,
    ) -> Result<crate::mcp_oauth::McpToken> {
        self.mcp_token_create(new).await
    }

    async fn get_mcp_token(
        &self,
        api_key_id: ApiKeyId,
    ) -> Result<Option<crate::mcp_oauth::McpToken>> {
        self.mcp_token_get(api_key_id).await
    }

    async fn count_mcp_tokens(&self, user_id: UserId) -> Result<u64> {
        self.mcp_token_count(user_id).await
    }

    async fn expired_mcp_tokens(&self, limit: u32) -> Result<Vec<crate::mcp_oauth::McpToken>> {
        self.mcp_token_expired(limit).await
    }

    async fn delete_mcp_token(&self, api_key_id: ApiKeyId) -> Result<()> {
        self.mcp_token_delete(api_key_id).await
    }

    async fn purge_mcp_oauth(&self) -> Result<u64> {
        self.mcp_purge().await
    }

    // ---- inbound Notion webhooks ------------------------------------------------

    async fn save_notion_webhook_token(
        &self,
        vault: &Vault,
        connection: ConnectionId,
        token: &SecretString,
    ) -> Result<()> {
        if token.expose_secret().trim().is_empty() {
            return Err(StoreError::invalid("empty webhook verification token"));
        }
        let sealed = vault.encrypt(token);
        // One transaction: a verified token stays accepted (as the previous one) until the
        // new one verifies; an unverified one is simply replaced.
        dialect::batch(
            &self.pool,
            vec![
                query(
                    "UPDATE notion_webhook_tokens SET previous_enc = token_enc, \
                     previous_key_id = key_id WHERE connection_id = $1 AND verified_at IS NOT NULL",
                )
                .bind(connection.to_string()),
                query(
                    "INSERT INTO notion_webhook_tokens (connection_id, token_enc, key_id, received_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id) DO UPDATE SET \
                     token_enc = excluded.token_enc, key_id = excluded.key_id, \
                     received_at = excluded.received_at, verified_at = NULL",
                )
                .bind(connection.to_string())
                .bind(sealed.token)
                .bind(sealed.key_id.as_str().to_owned())
                .bind(to_ms(now())),
            ],
        )
        .await?;
        Ok(())
    }

    async fn notion_webhook_tokens(
        &self,
        vault: &Vault,
        connection: ConnectionId,
    ) -> Result<Option<crate::NotionWebhookTokens>> {
        let Some(row) = query(
            "SELECT token_enc, key_id, received_at, verified_at, previous_enc, previous_key_id \
             FROM notion_webhook_tokens WHERE connection_id = $1",
        )
        .bind(connection.to_string())
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let decrypt = |enc: &str, key: String| vault.decrypt(enc, Some(&KeyId::new(key)));
        let current = decrypt(&row.text("token_enc")?, row.text("key_id")?)?;
        let previous = match (
            row.opt_text("previous_enc")?,
            row.opt_text("previous_key_id")?,
        ) {
            (Some(enc), Some(key)) => Some(decrypt(&enc, key)?),
            _ => None,
        };
        Ok(Some(crate::NotionWebhookTokens {
            current,
            received_at: crate::ids::from_ms(row.int("received_at")?)?,
            verified_at: row
                .opt_int("verified_at")?
                .map(crate::ids::from_ms)
                .transpose()?,
            previous,
        }))
    }

    async fn confirm_notion_webhook_token(
        &self,
        connection: ConnectionId,
        received_at: time::OffsetDateTime,
    ) -> Result<()> {
        query(
            "UPDATE notion_webhook_tokens SET verified_at = $3, previous_enc = NULL, \
             previous_key_id = NULL WHERE connection_id = $1 AND received_at = $2 \
             AND verified_at IS NULL",
        )
        .bind(connection.to_string())
        .bind(to_ms(received_at))
        .bind(to_ms(now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- approval notifications ------------------------------------------------

    async fn create_webhook_deliveries(
        &self,
        new: &[crate::webhooks::NewWebhookDelivery],
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        self.webhook_create(new).await
    }

    async fn claim_due_webhook_deliveries(
        &self,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        self.webhook_claim_due(limit, lease).await
    }

    async fn record_webhook_attempt(
        &self,
        id: crate::ids::WebhookDeliveryId,
        attempt: crate::webhooks::WebhookAttempt,
    ) -> Result<crate::webhooks::WebhookDelivery> {
        self.webhook_record(id, attempt).await
    }

    async fn list_webhook_deliveries(
        &self,
        filter: crate::webhooks::WebhookDeliveryFilter,
    ) -> Result<Vec<crate::webhooks::WebhookDelivery>> {
        self.webhook_list(filter).await
    }

    async fn purge_webhook_deliveries(&self, finished_before: time::OffsetDateTime) -> Result<u64> {
        self.webhook_purge(finished_before).await
    }

    // ---- audit ---------------------------------------------------------------

    async fn append_audit(&self, records: &[AuditRecord]) -> Result<()> {
        let records: Vec<&AuditRecord> = records.iter().collect();
        self.append_parts(&records, &[]).await
    }

    async fn append_audit_entries(&self, entries: &[AuditEntry]) -> Result<()> {
        let mut records = Vec::with_capacity(entries.len());
        let mut intents = Vec::new();
        for e in entries {
            match e {
                AuditEntry::Record(r) => records.push(r),
                AuditEntry::Intent(i) => intents.push(&**i),
            }
        }
        self.append_parts(&records, &intents).await
    }

    async fn open_intents(&self, limit: u32) -> Result<Vec<AuditIntent>> {
        let sql = format!(
            "SELECT {INTENT_INSERT_COLS} FROM audit_intents i WHERE NOT EXISTS \
             (SELECT 1 FROM audit_events e WHERE e.intent_id = i.id) \
             ORDER BY at ASC LIMIT $1"
        );
        let rows = query(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::intent).collect()
    }

    async fn claim_intent(
        &self,
        id: IntentId,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<bool> {
        let now_ms = to_ms(now());
        let until = now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let n = query(
            "UPDATE audit_intents SET claimed_by = $2, claimed_until = $3 WHERE id = $1 \
             AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until < $4)",
        )
        .bind(id.to_string())
        .bind(holder)
        .bind(until)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(n == 1)
    }

    fn direct_audit(&self) -> Option<Arc<dyn DirectAudit>> {
        self.spool
            .as_ref()
            .map(|d| Arc::clone(d) as Arc<dyn DirectAudit>)
    }

    async fn query_audit(&self, q: &AuditQuery) -> Result<AuditPage> {
        let limit = q.effective_limit();
        let mut qb = query(format!("SELECT {AUDIT_COLS} FROM audit_events"));
        Self::push_audit_filters(&mut qb, q);
        let (cmp, dir) = match q.order {
            AuditOrder::NewestFirst => (" AND id < ", " ORDER BY id DESC"),
            AuditOrder::OldestFirst => (" AND id > ", " ORDER BY id ASC"),
        };
        if let Some(c) = q.cursor {
            qb.push(cmp).push_bind(c.0);
        }
        qb.push(dir).push(" LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = qb.fetch_all(&self.pool).await?;
        let mut events = rows
            .iter()
            .map(rows::audit_event)
            .collect::<Result<Vec<_>>>()?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_cursor = if more {
            events
                .last()
                .map(|e| crate::audit::AuditCursor::after(e.id))
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }

    async fn count_audit(&self, q: &AuditQuery) -> Result<u64> {
        let mut qb = query("SELECT COUNT(*) AS n FROM audit_events");
        Self::push_audit_filters(&mut qb, q);
        qb.fetch_count(&self.pool).await
    }
}
