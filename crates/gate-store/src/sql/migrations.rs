//! The embedded migrations, one folder per backend (`migrations/sqlite`,
//! `migrations/postgres`), compiled into the binary with `include_str!`.
//!
//! They are handed to `sqlx`'s `Migrator` through its public [`MigrationSource`] trait rather
//! than the `sqlx::migrate!` macro: the macro needs sqlx's `macros` feature, which builds both
//! database drivers (and the bundled SQLite C library) a second time for the proc-macro host.
//! The result is the same: versioned, checksummed migrations recorded in `_sqlx_migrations`.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::Pool;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::dialect::Dialect;
use crate::error::Result;
use crate::store::Backend;

/// One migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

/// SQLite migrations, in version order.
const SQLITE: &[Embedded] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "refresh claim",
        include_str!("../../migrations/sqlite/0002_refresh_claim.sql"),
    ),
    (
        3,
        "audit spool",
        include_str!("../../migrations/sqlite/0003_audit_spool.sql"),
    ),
    (
        4,
        "console sessions",
        include_str!("../../migrations/sqlite/0004_console_sessions.sql"),
    ),
    (
        5,
        "webhook deliveries",
        include_str!("../../migrations/sqlite/0005_webhook_deliveries.sql"),
    ),
    (
        6,
        "mcp oauth",
        include_str!("../../migrations/sqlite/0006_mcp_oauth.sql"),
    ),
    (
        7,
        "approval note and withdrawn",
        include_str!("../../migrations/sqlite/0007_approval_note_withdrawn.sql"),
    ),
    (
        8,
        "audit intents, revocation failed",
        include_str!("../../migrations/sqlite/0008_audit_intents.sql"),
    ),
    (
        9,
        "notion webhook tokens",
        include_str!("../../migrations/sqlite/0009_notion_webhook_tokens.sql"),
    ),
];

/// PostgreSQL migrations, in version order (equivalent schema to [`SQLITE`]).
const POSTGRES: &[Embedded] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "refresh claim",
        include_str!("../../migrations/postgres/0002_refresh_claim.sql"),
    ),
    (
        3,
        "audit spool",
        include_str!("../../migrations/postgres/0003_audit_spool.sql"),
    ),
    (
        4,
        "console sessions",
        include_str!("../../migrations/postgres/0004_console_sessions.sql"),
    ),
    (
        5,
        "webhook deliveries",
        include_str!("../../migrations/postgres/0005_webhook_deliveries.sql"),
    ),
    (
        6,
        "mcp oauth",
        include_str!("../../migrations/postgres/0006_mcp_oauth.sql"),
    ),
    (
        7,
        "approval note and withdrawn",
        include_str!("../../migrations/postgres/0007_approval_note_withdrawn.sql"),
    ),
    (
        8,
        "audit intents, revocation failed",
        include_str!("../../migrations/postgres/0008_audit_intents.sql"),
    ),
    (
        9,
        "notion webhook tokens",
        include_str!("../../migrations/postgres/0009_notion_webhook_tokens.sql"),
    ),
];

#[derive(Debug)]
struct EmbeddedSource(&'static [Embedded]);

impl<'s> MigrationSource<'s> for EmbeddedSource {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies the migrations of `D`'s folder that have not run yet.
pub(crate) async fn run<D: Dialect>(pool: &Pool<D>) -> Result<()> {
    let embedded = match D::BACKEND {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Migrator::new(EmbeddedSource(embedded))
        .await?
        .run(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions() {
        let v = |m: &[Embedded]| m.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
    }

    #[tokio::test]
    async fn sqlite_0007_rebuild_keeps_the_rows_and_allows_withdrawn() {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("memory db");
        for m in SQLITE.iter().filter(|m| m.0 < 7) {
            sqlx::raw_sql(m.2)
                .execute(&mut c)
                .await
                .expect("older migration");
        }
        sqlx::raw_sql(
            "INSERT INTO approvals (id, requester_kind, operation, action_class, request_json, \
             request_hash, status, created_at, expires_at, result_json, result_status) \
             VALUES ('a1', 'agent', 'pages.create', 'create', '{}', 'h', 'executed', 1, 2, '{\"x\":1}', 200)",
        )
        .execute(&mut c)
        .await
        .expect("row");
        let m7 = SQLITE.iter().find(|m| m.0 == 7).expect("0007");
        sqlx::raw_sql(m7.2)
            .execute(&mut c)
            .await
            .expect("0007 runs");
        let (status, result, note): (String, String, Option<String>) = sqlx::query_as(
            "SELECT status, result_json, decision_note FROM approvals WHERE id = 'a1'",
        )
        .fetch_one(&mut c)
        .await
        .expect("kept");
        assert_eq!(
            (status.as_str(), result.as_str(), note),
            ("executed", r#"{"x":1}"#, None)
        );
        sqlx::raw_sql("UPDATE approvals SET status = 'withdrawn' WHERE id = 'a1'")
            .execute(&mut c)
            .await
            .expect("withdrawn is allowed");
        let bad = sqlx::raw_sql("UPDATE approvals SET status = 'bogus' WHERE id = 'a1'")
            .execute(&mut c)
            .await;
        assert!(bad.is_err(), "the CHECK still holds");
        let indexes: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'approvals' \
             AND name LIKE 'approvals_%' ORDER BY name",
        )
        .fetch_all(&mut c)
        .await
        .expect("indexes");
        let names: Vec<_> = indexes.into_iter().map(|i| i.0).collect();
        assert_eq!(names, ["approvals_agent", "approvals_status"]);
    }

    #[test]
    fn both_backends_create_the_same_tables_and_columns() {
        // Crude but effective: every `CREATE TABLE` name index name, and the name of every column
        // must match between the two files.
        fn shape(sql: &str) -> Vec<String> {
            sql.lines()
                .map(str::trim)
                .filter(|l| {
                    l.starts_with("CREATE TABLE")
                        || l.starts_with("CREATE INDEX")
                        || (l.split_whitespace().count() >= 2
                            && !l.starts_with("--")
                            && l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                })
                .map(|l| {
                    let words = if l.starts_with("CREATE") { 3 } else { 1 };
                    l.split_whitespace()
                        .take(words)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        }
        for (a, b) in SQLITE.iter().zip(POSTGRES) {
            if a.2.starts_with("-- rebuild:") {
                // SQLite rebuilds a table to change a constraint where PostgreSQL alters it:
                // the shapes differ by construction; the store's contract tests run both.
                continue;
            }
            assert_eq!(shape(a.2), shape(b.2), "migration {}", a.0);
        }
        // 0007 (a rebuild on SQLite): both add the note column and the `withdrawn` status.
        for m in [SQLITE, POSTGRES] {
            let m7 = m.iter().find(|e| e.0 == 7).map_or("", |e| e.2);
            assert!(m7.contains("decision_note") && m7.contains("'withdrawn'"));
        }
        let a = shape(SQLITE[0].2);
        assert!(a.iter().any(|l| l.starts_with("CREATE TABLE audit_events")));
    }
}
