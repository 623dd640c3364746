//! [`SqliteDirectAudit`]: the call path's own synchronous SQLite connection for audit
//! records (a [`DirectAudit`]).
//!
//! `sqlx` runs every SQLite statement on a worker thread of its connection, so an awaited
//! commit costs two thread hand-offs on top of the audit writer task's own. On a small machine
//! those hand-offs and their context switches were most of what the durable audit added to a
//! call (docs/benchmarks.md, overhead). This connection (rusqlite, linked to the same bundled
//! SQLite as `sqlx`) commits on the calling thread instead, with the same pragmas as the pool:
//! WAL, `synchronous = NORMAL`, foreign keys, the same busy timeout. The durability is the
//! same: once the commit returns, the records survive a crash of the process.
//!
//! Two things keep the calling thread from waiting long:
//!
//! - a short busy timeout ([`DIRECT_BUSY_TIMEOUT`]): when another connection holds the write
//!   lock longer (an admin transaction, a key rotation), the commit fails at once and the
//!   [`AuditWriter`](crate::AuditWriter) hands the records to its background task, which
//!   waits on a pool connection's thread instead;
//! - no automatic checkpoint on this connection: a checkpoint copies the WAL into the
//!   database and syncs it to disk, milliseconds of I/O that must not land on one call. A
//!   thread of its own (`audit-checkpoint`) runs a passive checkpoint with its own connection
//!   every [`CHECKPOINT_COMMITS`] commits, or [`CHECKPOINT_EVERY`] after a commit. Under a
//!   steady stream of commits a passive checkpoint never catches up with the last frame, and
//!   SQLite only restarts the WAL from its beginning once every frame is back in the
//!   database: when frames are left and the WAL is past [`WAL_RESTART_FRAMES`], the thread
//!   holds this connection's lock for a second pass over the few frames written meanwhile,
//!   so that the WAL stays bounded (and is cut back to [`WAL_SIZE_LIMIT`] when it restarts).
//!
//! It is only opened for a database file: an in-memory database is private to its connection.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OpenFlags, ToSql, TransactionBehavior};

use super::rows::{AUDIT_CELLS, AUDIT_INSERT_COLS, Cell, audit_cells};
use crate::audit::AuditRecord;
use crate::error::{Result, StoreError};
use crate::store::DirectAudit;

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

/// The longest a direct commit waits for another connection's write lock.
pub(crate) const DIRECT_BUSY_TIMEOUT: Duration = Duration::from_millis(10);

/// How often the checkpoint thread looks for new commits.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Commits after which the checkpoint thread is woken at once.
pub(crate) const CHECKPOINT_COMMITS: u64 = 200;

/// WAL frames (pages) beyond which a checkpoint takes the second, locked pass (SQLite's own
/// automatic checkpoint threshold).
pub(crate) const WAL_RESTART_FRAMES: i64 = 1000;

/// The size the WAL file is cut back to when it restarts.
pub(crate) const WAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// A synchronous SQLite connection that only appends audit records. See the
/// [module docs](self).
pub(crate) struct SqliteDirectAudit {
    conn: Arc<Mutex<Connection>>,
    insert: String,
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
    /// Opens the database file (which the pool has created) for audit appends, and starts
    /// the checkpoint thread (`busy_timeout` is the pool's, for the checkpoints).
    pub(crate) fn open(file: &Path, busy_timeout: Duration) -> Result<Self> {
        let conn = open_conn(file, DIRECT_BUSY_TIMEOUT)?;
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
        let placeholders = (1..=AUDIT_CELLS)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>();
        Ok(Self {
            conn,
            insert: format!(
                "INSERT INTO audit_events ({AUDIT_INSERT_COLS}) VALUES ({})",
                placeholders.join(", ")
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

impl DirectAudit for SqliteDirectAudit {
    fn append_blocking(&self, records: &[AuditRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // A panic while the lock was held cannot leave a half-done transaction behind: an
        // uncommitted one is rolled back when its guard drops.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if let [record] = records {
            // One row is one statement, atomic on its own: no BEGIN/COMMIT.
            conn.prepare_cached(&self.insert)?
                .execute(rusqlite::params_from_iter(audit_cells(record).iter()))?;
            drop(conn);
            self.committed();
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(&self.insert)?;
            for record in records {
                insert.execute(rusqlite::params_from_iter(audit_cells(record).iter()))?;
            }
        }
        tx.commit()?;
        drop(conn);
        self.committed();
        Ok(())
    }
}
