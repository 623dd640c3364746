//! [`SqliteDirectAudit`]: the synchronous SQLite connection that moves spooled audit records
//! into `audit_events` (see [`super::spool`]), and the checkpoint thread beside it.
//!
//! `sqlx` runs every SQLite statement on a worker thread of its connection; the import runs on
//! a thread of its own anyway, so this connection (rusqlite, linked to the same bundled SQLite
//! as `sqlx`) commits on that thread directly, with the same pragmas as the pool: WAL,
//! `synchronous = NORMAL`, foreign keys, the pool's busy timeout. Each import is one
//! transaction holding the rows and the spool's progress (`audit_spool`).
//!
//! No automatic checkpoint runs on this connection: a checkpoint copies the WAL into the
//! database and syncs it to disk. A thread of its own (`audit-checkpoint`) runs a passive
//! checkpoint with its own connection every [`CHECKPOINT_COMMITS`] commits, or
//! [`CHECKPOINT_EVERY`] after a commit. Under a steady stream of commits a passive checkpoint
//! never catches up with the last frame, and SQLite only restarts the WAL from its beginning
//! once every frame is back in the database: when frames are left and the WAL is past
//! [`WAL_RESTART_FRAMES`], the thread holds this connection's lock for a second pass over the
//! few frames written meanwhile, so that the WAL stays bounded (and is cut back to
//! [`WAL_SIZE_LIMIT`] when it restarts).
//!
//! With `--audit-durability fsync` the import commits with `synchronous = FULL`, so that a
//! spool file is deleted only after its rows are on disk.
//!
//! It is only opened for a database file: an in-memory database is private to its connection.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, ToSql, TransactionBehavior};

use super::rows::{
    AUDIT_CELLS, AUDIT_INSERT_COLS, Cell, INTENT_CELLS, INTENT_INSERT_COLS, SpoolLine,
};
use crate::error::{Result, StoreError};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::AuditSqlite(e)
    }
}

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Cell::Int(v) => v.to_sql(),
            Cell::Text(v) => v.to_sql(),
        }
    }
}

/// How often the checkpoint thread looks for new commits.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Commits after which the checkpoint thread is woken at once.
pub(crate) const CHECKPOINT_COMMITS: u64 = 200;

/// WAL frames (pages) beyond which a checkpoint takes the second, locked pass (SQLite's own
/// automatic checkpoint threshold).
pub(crate) const WAL_RESTART_FRAMES: i64 = 1000;

/// The size the WAL file is cut back to when it restarts.
pub(crate) const WAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// A synchronous SQLite connection that only imports audit records. See the
/// [module docs](self).
pub(crate) struct SqliteDirectAudit {
    conn: Arc<Mutex<Connection>>,
    insert: String,
    insert_intent: String,
    commits: Arc<AtomicU64>,
    /// Wakes the checkpoint thread; dropping it stops the thread.
    wake: mpsc::SyncSender<()>,
}

impl std::fmt::Debug for SqliteDirectAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDirectAudit").finish_non_exhaustive()
    }
}

impl SqliteDirectAudit {
    /// Opens the database file (which the pool has created) for audit imports, and starts
    /// the checkpoint thread (`busy_timeout` is the pool's).
    pub(crate) fn open(file: &Path, busy_timeout: Duration, fsync: bool) -> Result<Self> {
        let conn = open_conn(file, busy_timeout)?;
        if fsync {
            // A spool file is deleted once imported: with `--audit-durability fsync` the
            // import's commit must be on disk by then (a WAL commit is synced with FULL).
            conn.pragma_update(None, "synchronous", "FULL")?;
        }
        // Checkpoints are the checkpoint thread's job (module docs).
        conn.pragma_update_and_check(None, "wal_autocheckpoint", 0, |_| Ok(()))?;
        conn.pragma_update_and_check(None, "journal_size_limit", WAL_SIZE_LIMIT, |_| Ok(()))?;
        let conn = Arc::new(Mutex::new(conn));
        let checkpointer = Checkpointer {
            conn: open_conn(file, busy_timeout)?,
            direct: Arc::clone(&conn),
        };
        let commits = Arc::new(AtomicU64::new(0));
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let seen = Arc::clone(&commits);
        std::thread::Builder::new()
            .name("audit-checkpoint".to_owned())
            .spawn(move || checkpointer.run(&seen, &woken))
            .map_err(|e| StoreError::io("the audit checkpoint thread", e))?;
        let placeholders = |n: usize| {
            (1..=n)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(Self {
            conn,
            insert: format!(
                "INSERT INTO audit_events ({AUDIT_INSERT_COLS}) VALUES ({})",
                placeholders(AUDIT_CELLS)
            ),
            insert_intent: format!(
                "INSERT INTO audit_intents ({INTENT_INSERT_COLS}) VALUES ({}) \
                 ON CONFLICT (id) DO NOTHING",
                placeholders(INTENT_CELLS)
            ),
            commits,
            wake,
        })
    }
}

fn open_conn(file: &Path, busy_timeout: Duration) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The checkpoint thread's connection, and the direct connection it may hold still.
struct Checkpointer {
    conn: Connection,
    direct: Arc<Mutex<Connection>>,
}

impl Checkpointer {
    /// Checkpoints after commits (see the [module docs](self)) until the waking side is
    /// dropped.
    fn run(&self, commits: &AtomicU64, wake: &mpsc::Receiver<()>) {
        let mut done = 0;
        loop {
            match wake.recv_timeout(CHECKPOINT_EVERY) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = commits.load(Ordering::Relaxed);
            if now == done {
                continue;
            }
            match self.checkpoint() {
                Ok(()) => done = now,
                Err(e) => tracing::warn!(error = %e, "audit checkpoint failed; retrying later"),
            }
        }
    }

    fn checkpoint(&self) -> rusqlite::Result<()> {
        let (log, _) = self.passive()?;
        if log > WAL_RESTART_FRAMES {
            // Commits kept coming while it ran (it syncs the database file at its end), so
            // the last frames are never all copied back, the WAL never restarts and only
            // grows: a second pass with the direct connection held still copies the frames
            // written meanwhile, and the next commit restarts the WAL.
            let _held = self.direct.lock().unwrap_or_else(PoisonError::into_inner);
            self.passive()?;
        }
        Ok(())
    }

    /// `PRAGMA wal_checkpoint(PASSIVE)`: (frames in the WAL, frames copied back).
    fn passive(&self) -> rusqlite::Result<(i64, i64)> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
    }
}

impl SqliteDirectAudit {
    fn committed(&self) {
        let n = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(CHECKPOINT_COMMITS) {
            // Full: a wake is pending already; disconnected cannot happen while `self` lives.
            let _ = self.wake.try_send(());
        }
    }
}

impl SqliteDirectAudit {
    /// Inserts `rows` (records and intents; a record that completes an intent removes it)
    /// and records each spool's progress (`(spool, lines imported)`) in one transaction: all
    /// or none.
    pub(crate) fn import(&self, rows: &[&SpoolLine], progress: &[(&str, u64)]) -> Result<()> {
        // A panic while the lock is held cannot leave a half-done transaction behind: an
        // uncommitted one is rolled back when its guard drops.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(&self.insert)?;
            for row in rows {
                match row {
                    SpoolLine::Record(cells) => {
                        insert.execute(rusqlite::params_from_iter(cells.iter()))?;
                        if let Cell::Text(Some(intent)) = &cells[AUDIT_CELLS - 1] {
                            tx.prepare_cached("DELETE FROM audit_intents WHERE id = ?1")?
                                .execute([intent])?;
                        }
                    }
                    SpoolLine::Intent(cells) => {
                        tx.prepare_cached(&self.insert_intent)?
                            .execute(rusqlite::params_from_iter(cells.iter()))?;
                    }
                }
            }
            let mut done = tx.prepare_cached(
                "INSERT INTO audit_spool (spool, lines) VALUES (?1, ?2) \
                 ON CONFLICT (spool) DO UPDATE SET lines = excluded.lines",
            )?;
            for (spool, lines) in progress {
                done.execute(rusqlite::params![
                    spool,
                    i64::try_from(*lines).unwrap_or(i64::MAX)
                ])?;
            }
        }
        tx.commit()?;
        drop(conn);
        self.committed();
        Ok(())
    }

    /// How many lines of a spool file are imported (0 if it has no progress row).
    pub(crate) fn spool_progress(&self, spool: &str) -> Result<u64> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let lines: Option<i64> = conn
            .query_row(
                "SELECT lines FROM audit_spool WHERE spool = ?1",
                [spool],
                |row| row.get(0),
            )
            .optional()?;
        Ok(lines.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// The spool files that have a progress row.
    pub(crate) fn spool_names(&self) -> Result<Vec<String>> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut stmt = conn.prepare("SELECT spool FROM audit_spool")?;
        let names = stmt
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// Drops a spool file's progress row (after the file itself is gone).
    pub(crate) fn forget_spool(&self, spool: &str) -> Result<()> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        conn.execute("DELETE FROM audit_spool WHERE spool = ?1", [spool])?;
        Ok(())
    }
}
