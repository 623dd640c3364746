//! gate-store's one integration-test binary: the storage contract suite, run on SQLite (always)
//! and on PostgreSQL when `TEST_DATABASE_URL` is set, plus vault and audit-writer tests.
//!
//! Each contract test is an `async fn(&TestDb)`; the [`contract!`] macro instantiates it as
//! `<module>::sqlite::<name>` and `<module>::postgres::<name>`. On PostgreSQL every test gets
//! its own schema (through `options[search_path]` in the URL), so tests run in parallel.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Once};

use gate_store::{Store, StoreOptions};
use sqlx::Connection as _;

mod agents_connections;
mod approvals;
mod audit;
mod concurrency;
mod mcp_oauth;
mod oauth;
mod refresh_claim;
mod users_keys;
mod vault;
mod webhooks;
mod writer;

/// Instantiates contract tests on both backends.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres(stringify!($name)).await else { return };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One scratch database: a temp-dir SQLite file, or a fresh schema in the PostgreSQL database
/// named by `TEST_DATABASE_URL`.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    base_url: String,
    schema: Option<String>,
    pub sqlite_file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

static PG_NOTICE: Once = Once::new();

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("data").join("gate.db");
        let url = format!("sqlite://{}", file.display());
        Self {
            kind: Kind::Sqlite,
            base_url: url.clone(),
            url,
            schema: None,
            sqlite_file: Some(file),
            _dir: Some(dir),
        }
    }

    /// `None` (after a notice on stderr, once) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres(test: &str) -> Option<Self> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            PG_NOTICE.call_once(|| {
                // Written to the real stderr (not the captured test output) so it shows.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: TEST_DATABASE_URL is not set: the PostgreSQL half of the gate-store \
                     contract suite is SKIPPED (set it, e.g. postgres://postgres@127.0.0.1:5432/test).\n"
                );
            });
            return None;
        };
        // At most 3 + 24 + 1 + 32 = 60 bytes: PostgreSQL truncates identifiers past 63.
        let schema = format!(
            "gs_{}_{}",
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
        let url = format!("{base}{sep}options[search_path]={schema}");
        Some(Self {
            kind: Kind::Postgres,
            url,
            base_url: base,
            schema: Some(schema),
            sqlite_file: None,
            _dir: None,
        })
    }

    /// The URL a store opens.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new store handle with its own pool: a separate "gateway instance".
    pub async fn store(&self) -> Arc<dyn Store> {
        gate_store::open(&self.url).await.expect("open store")
    }

    /// A store handle with custom options.
    pub async fn store_with(&self, url: &str, options: StoreOptions) -> Arc<dyn Store> {
        gate_store::open_with(url, options)
            .await
            .expect("open store")
    }

    /// Runs raw SQL on a fresh connection; the error as text.
    pub async fn exec(&self, sql: &str) -> Result<u64, String> {
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::query(sql)
                    .execute(&mut c)
                    .await
                    .map_err(|e| e.to_string());
                let _ = c.close().await;
                r.map(|r| r.rows_affected())
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::query(sql)
                    .execute(&mut c)
                    .await
                    .map_err(|e| e.to_string());
                let _ = c.close().await;
                r.map(|r| r.rows_affected())
            }
        }
    }

    /// Whether `needle` appears anywhere in the database: in any byte of the SQLite files
    /// (main file, WAL, shared memory), or in any column of any table of the PostgreSQL
    /// schema.
    pub async fn contains(&self, needle: &str) -> bool {
        match self.kind {
            Kind::Sqlite => {
                let file = self.sqlite_file.as_ref().expect("sqlite file");
                let mut found = false;
                let mut paths: Vec<PathBuf> = ["", "-wal", "-shm"]
                    .iter()
                    .map(|suffix| PathBuf::from(format!("{}{suffix}", file.display())))
                    .collect();
                // The audit spool files beside it.
                if let Ok(dir) = std::fs::read_dir(format!("{}-spool", file.display())) {
                    paths.extend(dir.filter_map(|e| e.ok().map(|e| e.path())));
                }
                for path in paths {
                    if let Ok(bytes) = std::fs::read(&path) {
                        found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                    }
                }
                found
            }
            Kind::Postgres => {
                let schema = self.schema.as_deref().expect("schema");
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                let tables: Vec<(String,)> = sqlx::query_as(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                )
                .bind(schema)
                .fetch_all(&mut c)
                .await
                .expect("list tables");
                assert!(
                    tables.len() >= 7,
                    "expected the schema's tables, got {tables:?}"
                );
                let mut found = false;
                for (table,) in tables {
                    let rows: Vec<(String,)> = sqlx::query_as(&format!(
                        "SELECT row_to_json(t)::text FROM \"{schema}\".\"{table}\" t"
                    ))
                    .fetch_all(&mut c)
                    .await
                    .expect("scan table");
                    found |= rows.iter().any(|(r,)| r.contains(needle));
                }
                let _ = c.close().await;
                found
            }
        }
    }

    /// The URL of a store whose lock waits are short, so a held lock makes writes fail
    /// fast (SQLite's busy timeout is set through [`StoreOptions`] by the caller).
    pub fn fail_fast_url(&self) -> String {
        match self.kind {
            Kind::Sqlite => self.url.clone(),
            Kind::Postgres => format!("{}&options[lock_timeout]=100ms", self.url),
        }
    }

    /// Holds a lock that makes audit inserts fail (for a fail-fast store) until released.
    pub async fn block_audit_writes(&self) -> AuditLock {
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut c)
                    .await
                    .expect("lock");
                AuditLock::Sqlite(c)
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
                sqlx::query("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
                    .execute(&mut c)
                    .await
                    .expect("lock");
                AuditLock::Postgres(c)
            }
        }
    }

    /// Drops the PostgreSQL schema (SQLite temp dirs clean themselves).
    pub async fn cleanup(&self) {
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

/// A connection holding a lock on the audit table.
pub enum AuditLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl AuditLock {
    pub async fn release(self) {
        match self {
            AuditLock::Sqlite(mut c) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut c)
                    .await
                    .expect("unlock");
                let _ = c.close().await;
            }
            AuditLock::Postgres(mut c) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut c)
                    .await
                    .expect("unlock");
                let _ = c.close().await;
            }
        }
    }
}
