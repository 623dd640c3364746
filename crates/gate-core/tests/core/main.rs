//! gate-core's one integration-test binary: the governance path end to end against the
//! in-process Notion emulator, on SQLite (always) and on PostgreSQL when `TEST_DATABASE_URL`
//! is set (one schema per test through `options[search_path]`).
//!
//! Every test is an `async fn(TestDb)`; [`both!`] instantiates it as `<module>::sqlite::<name>`
//! and `<module>::postgres::<name>`. A global `tracing` subscriber captures every log line
//! into a buffer; every key and token a test creates is registered, and every test ends by
//! checking that no log line and no error text it produced contains any registered secret.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once, OnceLock};

use gate_core::{Caller, Gate, GateConfig, GateError, NewAgentSpec, OAuthSettings};
use gate_store::{AuditQuery, Store, UserId, Vault, VaultKey};
use notion_client::{ClientConfig, LimiterConfig};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::Connection as _;

mod approvals;
mod authz;
mod cache;
mod decisions;
mod intents;
mod local_only;
mod revocation;
mod secrets;
mod tokens;
mod waits;
mod webhooks;

/// Instantiates tests on both backends.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite();
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres(stringify!($name)).await else { return };
                    let cleanup = db.cleanup_handle();
                    super::$name(db).await;
                    cleanup.run().await;
                }
            )*
        }
    };
}

// ---- log capture and secret registry ---------------------------------------------------------

#[derive(Clone)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOG: OnceLock<Buf> = OnceLock::new();
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs the capturing subscriber (once per binary).
pub fn init_logging() {
    LOG.get_or_init(|| {
        let buf = Buf(Arc::new(Mutex::new(Vec::new())));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,notion_emulator=off,tower=off,axum=off,hyper=debug,h2=off,rustls=off",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    });
}

/// Registers a secret that must never show up in logs or errors.
pub fn secret(s: &str) {
    if s.len() >= 8 {
        SECRETS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(s.to_owned());
    }
}

/// Records an error's `Display` and `Debug` (checked against every secret) and returns it.
pub fn seen(e: GateError) -> GateError {
    let texts = [e.to_string(), format!("{e:?}")];
    for t in &texts {
        assert_clean(t, "an error");
    }
    ERRORS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(texts);
    e
}

fn assert_clean(text: &str, what: &str) {
    let secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{what} contains a secret");
    }
}

/// Checks the whole captured log and every recorded error text against every registered
/// secret.
pub fn assert_no_secrets_leaked() {
    let log = LOG
        .get()
        .map(|b| {
            String::from_utf8_lossy(&b.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        })
        .unwrap_or_default();
    assert_clean(&log, "the captured log");
    let errors = ERRORS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for e in &errors {
        assert_clean(e, "an error text");
    }
}

/// Bytes captured so far.
pub fn log_len() -> usize {
    LOG.get()
        .map(|b| b.0.lock().unwrap_or_else(|p| p.into_inner()).len())
        .unwrap_or(0)
}

/// Number of error texts recorded so far.
pub fn errors_seen() -> usize {
    ERRORS.lock().unwrap_or_else(|p| p.into_inner()).len()
}

// ---- databases --------------------------------------------------------------------------------

/// A scratch database: a temp-dir SQLite file, or a fresh schema in `TEST_DATABASE_URL`.
pub struct TestDb {
    url: String,
    base_url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static PG_NOTICE: Once = Once::new();

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let file: PathBuf = dir.path().join("gate.db");
        let url = format!("sqlite://{}", file.display());
        Self {
            base_url: url.clone(),
            url,
            schema: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres(test: &str) -> Option<Self> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            PG_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: TEST_DATABASE_URL is not set: the PostgreSQL half of the gate-core \
                     suite is SKIPPED.\n"
                );
            });
            return None;
        };
        let schema = format!(
            "gc_{}_{}",
            &test[..test.len().min(24)],
            uuid::Uuid::new_v4().simple()
        )
        .to_ascii_lowercase();
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Self {
            url: format!("{base}{sep}options[search_path]={schema}"),
            base_url: base,
            schema: Some(schema),
            _dir: None,
        })
    }

    /// A new store handle with its own pool: a separate "gateway instance".
    pub async fn store(&self) -> Arc<dyn Store> {
        gate_store::open(&self.url).await.expect("open store")
    }

    /// Runs one SQL statement on a fresh connection.
    pub async fn exec_sql(&self, sql: &str) {
        if self.schema.is_some() {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("exec");
            let _ = c.close().await;
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("exec");
            let _ = c.close().await;
        }
    }

    pub fn cleanup_handle(&self) -> Cleanup {
        Cleanup {
            base_url: self.base_url.clone(),
            schema: self.schema.clone(),
        }
    }
}

/// Drops a PostgreSQL schema after the test.
pub struct Cleanup {
    base_url: String,
    schema: Option<String>,
}

impl Cleanup {
    pub async fn run(self) {
        if let Some(schema) = &self.schema
            && let Ok(mut c) = sqlx::PgConnection::connect(&self.base_url).await
        {
            let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&mut c)
                .await;
            let _ = c.close().await;
        }
    }
}

// ---- the test world -----------------------------------------------------------------------------

pub const CLIENT_ID: &str = "gate-client";
pub const CLIENT_SECRET: &str = "gate-client-secret-0123456789";
pub const CALLBACK: &str = "http://localhost/cb";

/// A user with their key, caller and (optionally) a token connection.
pub struct Person {
    pub id: UserId,
    pub key: String,
    pub caller: Caller,
    pub notion_token: String,
}

/// An agent with its key.
pub struct Bot {
    pub id: gate_store::AgentId,
    pub key: String,
}

/// One gateway instance on a scratch database, an emulator, an admin, and Alice and Bob
/// (each with a token connection).
pub struct World {
    pub db: TestDb,
    pub emu: Emulator,
    pub vault: Arc<Vault>,
    pub gate: Gate,
    pub admin: Caller,
    pub alice: Person,
    pub bob: Person,
}

/// Options of [`world`].
#[derive(Clone)]
pub struct Opts {
    pub cache_ttl: std::time::Duration,
    pub approval_ttl: std::time::Duration,
    pub local_only: bool,
    pub policy: gate_policy::Policy,
    pub webhooks: Option<gate_core::WebhookConfig>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            cache_ttl: std::time::Duration::from_secs(60),
            approval_ttl: std::time::Duration::from_secs(3600),
            local_only: false,
            policy: gate_policy::Policy::default(),
            webhooks: None,
        }
    }
}

pub fn new_vault() -> Arc<Vault> {
    let (k, key) = VaultKey::generate();
    secret(k.expose_secret());
    Arc::new(Vault::new(vec![key]).expect("vault"))
}

pub fn config(store: Arc<dyn Store>, vault: Arc<Vault>, emu: &Emulator, opts: &Opts) -> GateConfig {
    secret(CLIENT_SECRET);
    let notion = ClientConfig::default().base_url(emu.base_url());
    let mut config = GateConfig::new(store, vault);
    if let Some(w) = &opts.webhooks {
        config = config.webhooks(w.clone());
    }
    config
        .notion(notion)
        .limiter(LimiterConfig::new(1000.0, 1000).expect("limiter"))
        .cache_ttl(opts.cache_ttl)
        .approval_ttl(opts.approval_ttl)
        .local_only(opts.local_only)
        .policy(opts.policy.clone())
        .oauth(OAuthSettings::new(
            CLIENT_ID,
            SecretString::from(CLIENT_SECRET.to_owned()),
        ))
}

pub async fn world(db: TestDb) -> World {
    world_with(db, Opts::default()).await
}

pub async fn world_with(db: TestDb, opts: Opts) -> World {
    init_logging();
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .oauth_client(CLIENT_ID, CLIENT_SECRET, [CALLBACK])
        .start()
        .await
        .expect("emulator");
    let vault = new_vault();
    let store = db.store().await;
    let local_only = opts.local_only;
    let gate = Gate::new(config(
        store,
        Arc::clone(&vault),
        &emu,
        &Opts {
            local_only: false,
            ..opts
        },
    ))
    .expect("gate");
    let (admin_user, admin_key) = gate.bootstrap_admin("admin").await.expect("bootstrap");
    let admin_key = admin_key.key.expose_secret().to_owned();
    secret(&admin_key);
    let admin = gate.authenticate(&admin_key).await.expect("admin key");
    assert_eq!(admin.user_id, admin_user.id);
    let alice = person(&gate, &admin, "alice").await;
    let bob = person(&gate, &admin, "bob").await;
    gate.set_local_only(local_only);
    World {
        db,
        emu,
        vault,
        gate,
        admin,
        alice,
        bob,
    }
}

async fn person(gate: &Gate, admin: &Caller, name: &str) -> Person {
    let user = gate.create_user(admin, name, false).await.expect("user");
    let key = gate
        .issue_user_key(admin, user.id, Some("own"))
        .await
        .expect("key")
        .key
        .expose_secret()
        .to_owned();
    secret(&key);
    let caller = gate.authenticate(&key).await.expect("auth");
    let notion_token = format!("ntn_{name}_{}", uuid::Uuid::new_v4().simple());
    secret(&notion_token);
    gate.add_token_connection(&caller, None, SecretString::from(notion_token.clone()))
        .await
        .expect("connection");
    // The user's default connection changed: authenticate again.
    let caller = gate.authenticate(&key).await.expect("auth");
    assert!(caller.connection_id.is_some());
    Person {
        id: user.id,
        key,
        caller,
        notion_token,
    }
}

impl World {
    /// An agent of `owner` with a key.
    pub async fn agent(&self, owner: &Person, name: &str, maturity: &str) -> Bot {
        let a = self
            .gate
            .create_agent(&owner.caller, NewAgentSpec::new(name, maturity))
            .await
            .expect("agent");
        let key = self
            .gate
            .issue_agent_key(&owner.caller, a.id, None)
            .await
            .expect("agent key")
            .key
            .expose_secret()
            .to_owned();
        secret(&key);
        Bot { id: a.id, key }
    }

    pub async fn caller(&self, key: &str) -> Caller {
        self.gate.authenticate(key).await.expect("authenticate")
    }

    /// Every audit event, oldest first.
    pub async fn audit(&self) -> Vec<gate_store::AuditEvent> {
        self.gate.flush_audit().await.expect("flush");
        self.gate
            .store()
            .query_audit(
                &AuditQuery::new()
                    .order(gate_store::AuditOrder::OldestFirst)
                    .limit(1000),
            )
            .await
            .expect("audit")
            .events
    }

    pub async fn audit_count(&self) -> u64 {
        self.gate.flush_audit().await.expect("flush");
        self.gate
            .store()
            .count_audit(&AuditQuery::new())
            .await
            .expect("count")
    }

    pub async fn finish(self) {
        self.gate.shutdown().await;
        for r in self.emu.request_log() {
            if let Some(t) = r.token {
                secret(&t);
            }
        }
        assert_no_secrets_leaked();
        self.emu.shutdown().await;
    }
}
