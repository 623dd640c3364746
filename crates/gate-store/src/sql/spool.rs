//! [`SpoolAudit`]: durable audit records on SQLite at the cost of one `write(2)` per commit.
//!
//! Every call is answered only after its audit record is durable. Committing the record to
//! SQLite on the call path cost a B-tree insert into the table and its five indexes, a WAL
//! frame for every page touched (about 28 KB of writes) and file locks: half of the CPU the
//! gateway's proxy handler spent on a read (docs/benchmarks.md, overhead). Instead, the
//! record is appended as one JSON line to a spool file of this process, and a thread of its
//! own (`audit-import`) moves the lines into `audit_events` in batches
//! ([`SqliteDirectAudit::import`]). A `write(2)` that returned survives a crash of the
//! process, as a commit with `synchronous = NORMAL` does; neither is synced to disk before
//! the answer.
//!
//! - Each process writes its own spool file in `<database>-spool/`, holding an exclusive
//!   `flock` on it while it lives. Each import records, in the same transaction as the rows,
//!   how many lines of the file are in the table (`audit_spool`), so a line is imported
//!   exactly once even if the process dies right after a commit.
//! - When a store opens (after its migrations), it imports what is left in every spool file
//!   whose lock it can take: those of processes that died. A file whose lock is held belongs
//!   to a live process and is left alone.
//! - A spool file past [`ROTATE_BYTES`] is retired: new lines go to a new file, and the old
//!   one is deleted once every line of it is imported. A store that is dropped imports what
//!   is left and deletes its file (waiting a few seconds at most: what is left then is
//!   imported at the next start).
//! - If the import falls far behind (a database locked for a long time), appends fail and
//!   durable records go to the background writer, whose bounded channel holds callers back.
//! - A write's intent (`gate-core`'s intent before effect) is a line too, `["intent", …]`,
//!   imported into `audit_intents`; a record naming an intent removes it in the same import
//!   transaction. Lines written before intents existed (16 cells, no `intent_id`) still import.
//! - A torn last line (the machine stopped in the middle of a write) is skipped with a
//!   warning, and so is any line that does not decode.
//! - With `--audit-durability fsync` ([`AuditDurability::Fsync`](crate::AuditDurability)),
//!   each append is synced (`fdatasync`) before it returns, and a new spool file's folder
//!   entry is synced too; the writer's leader appends every record waiting in one write, so
//!   one sync covers every concurrent call (group commit).
//! - A record reaches `audit_events` shortly after its call is answered: the import waits
//!   [`IMPORT_DELAY`] for more records, then commits them in one transaction. In the process
//!   that wrote it, [`AuditWriter::flush`](crate::AuditWriter::flush) and
//!   [`AuditWriter::settle`](crate::AuditWriter::settle) wait for the import
//!   ([`DirectAudit::settle`]).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::direct::SqliteDirectAudit;
use super::rows::{INTENT_TAG, SpoolLine, audit_cells, intent_cells, spool_line_from_json};
use crate::audit::AuditEntry;
use crate::error::{Result, StoreError};
use crate::store::DirectAudit;

/// A spool file this large is retired (a new one takes the next lines).
pub(crate) const ROTATE_BYTES: u64 = 4 * 1024 * 1024;

/// Most rows in one import transaction.
const IMPORT_BATCH: usize = 512;

/// How long the import waits after a first record before it commits, unless a batch fills or
/// someone waits for the import (`settle`): the import then runs after that record's call is
/// answered instead of beside it on a machine with few cores, and one commit carries many
/// records (a commit of one record cost about as much CPU as the rest of a proxied read).
const IMPORT_DELAY: Duration = Duration::from_millis(50);

/// The first and the longest pause after a failed import.
const RETRY_FIRST: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(1);

/// Failed imports after which a stopping import thread gives up (its lines stay in the spool
/// file, for the next start).
const ATTEMPTS_WHEN_STOPPING: u32 = 5;

/// Spool files created by this process (part of each file's name).
static CREATED: AtomicU64 = AtomicU64::new(0);

/// How old a file not yet renamed (`.*.new`) must be before recovery deletes it: its creator
/// locks and renames it within microseconds, unless it died.
const UNNAMED_GRACE: Duration = Duration::from_secs(60);

/// The longest a dropped store waits for its import thread (what is left stays in the spool
/// file, imported at the next start).
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Records queued for import beyond which appends fail (the call path then falls back to the
/// background writer, whose bounded channel holds callers back): the import is stuck.
const MAX_QUEUED: usize = 100_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::io(what, e)
}

/// Takes the exclusive lock of a spool file without waiting: `false` when another open file
/// (of this or another process) holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Without `flock`, a spool file is taken as orphaned only when it was last written more than
/// an hour ago (a live process rotates or touches its file far more often under load).
#[cfg(not(unix))]
fn try_lock(file: &File) -> std::io::Result<bool> {
    let modified = file.metadata()?.modified()?;
    Ok(modified.elapsed().unwrap_or_default() > Duration::from_secs(3600))
}

/// Whether `path` still names the open `file` (not deleted, not replaced).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino() && a.nlink() > 0,
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The spool folder of a database file.
pub(crate) fn spool_dir(db_file: &Path) -> PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push("-spool");
    PathBuf::from(name)
}

/// One spool file, locked while this value lives.
struct SpoolFile {
    name: Arc<str>,
    path: PathBuf,
    file: File,
    lines: u64,
    bytes: u64,
}

impl SpoolFile {
    /// Creates and locks a new spool file. It is created under a name that recovery leaves
    /// alone for [`UNNAMED_GRACE`], locked, then renamed, so that no other process takes it
    /// for orphaned in between. The name is unique (time, process, counter, random part).
    fn create(dir: &Path, fsync: bool) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| io("the audit spool folder", e))?;
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{ms}-{}-{n}-{}.jsonl",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let tmp = dir.join(format!(".{name}.new"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&tmp)
            .map_err(|e| io("a new audit spool file", e))?;
        if !try_lock(&file).map_err(|e| io("the audit spool file's lock", e))? {
            return Err(StoreError::Conflict {
                what: "a new audit spool file is locked by another process".to_owned(),
            });
        }
        let path = dir.join(&name);
        std::fs::rename(&tmp, &path).map_err(|e| io("a new audit spool file", e))?;
        if fsync {
            // The file's name must survive a power loss as its lines do.
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io("the audit spool folder", e))?;
        }
        Ok(Self {
            name: name.into(),
            path,
            file,
            lines: 0,
            bytes: 0,
        })
    }

    /// Deletes the file (every line of it is imported), then its progress row.
    fn remove(self, db: &SqliteDirectAudit) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                // Left for the next start, which finds every line imported.
                tracing::warn!(error = %e, file = %self.path.display(), "could not delete an imported audit spool file");
                return;
            }
        }
        if let Err(e) = db.forget_spool(&self.name) {
            tracing::debug!(error = %e, "audit spool progress row left behind");
        }
    }
}

/// What the import thread takes, in spool order.
enum Entry {
    Row {
        spool: Arc<str>,
        /// 1-based line number in its spool file.
        line: u64,
        cells: SpoolLine,
    },
    /// Every line of this file is queued before it: delete it once they are imported.
    Retire(SpoolFile),
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Entry>,
    stop: bool,
    /// Someone waits for the import (`settle`): no batching delay until the queue is empty.
    urgent: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Records of this process imported so far. The import thread owns the sender: when it
    /// ends (or panics), waiters are released instead of waiting forever.
    imported: tokio::sync::watch::Receiver<u64>,
}

/// The file lines are appended to, and its write buffer.
#[derive(Default)]
struct Appender {
    file: Option<SpoolFile>,
    buf: Vec<u8>,
}

/// Durable audit records as spool lines, imported by a thread of their own. See the
/// [module docs](self).
pub(crate) struct SpoolAudit {
    dir: PathBuf,
    db: Arc<SqliteDirectAudit>,
    /// Sync every append (`--audit-durability fsync`).
    fsync: bool,
    append: Mutex<Appender>,
    /// Records appended (compared with `Shared::imported` by `settle`).
    appended: AtomicU64,
    shared: Arc<Shared>,
    /// Disconnected when the import thread ends.
    stopped: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl std::fmt::Debug for SpoolAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolAudit")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SpoolAudit {
    /// The spool of a database file, importing through `db`; starts the import thread. No
    /// file is created before the first record.
    pub(crate) fn open(db_file: &Path, db: SqliteDirectAudit, fsync: bool) -> Result<Self> {
        let db = Arc::new(db);
        let (progress, imported) = tokio::sync::watch::channel(0);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            imported,
        });
        let (done, stopped) = std::sync::mpsc::channel::<()>();
        {
            let shared = Arc::clone(&shared);
            let db = Arc::clone(&db);
            std::thread::Builder::new()
                .name("audit-import".to_owned())
                .spawn(move || {
                    // Dropped when the thread ends, also by a panic.
                    let _done = done;
                    import_loop(&shared, &db, &progress);
                })
                .map_err(|e| io("the audit import thread", e))?;
        }
        Ok(Self {
            dir: spool_dir(db_file),
            db,
            fsync,
            append: Mutex::new(Appender::default()),
            appended: AtomicU64::new(0),
            shared,
            stopped: Mutex::new(Some(stopped)),
        })
    }

    /// Imports what is left in the spool files of processes that died (files whose lock can
    /// be taken), deletes them, and drops progress rows of files that are gone. Blocking;
    /// run after the migrations. Returns how many records were imported.
    pub(crate) fn recover(&self) -> Result<u64> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io("the audit spool folder", e)),
        };
        let mut imported = 0;
        for entry in entries {
            let entry = entry.map_err(|e| io("the audit spool folder", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.') && name.ends_with(".new") {
                // A file whose creator died before renaming it: it holds no line.
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > UNNAMED_GRACE);
                if old
                    && let Ok(f) = File::open(&path)
                    && try_lock(&f).unwrap_or(false)
                {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            if !name.ends_with(".jsonl") || name.starts_with('.') {
                continue;
            }
            let file = match OpenOptions::new().read(true).open(&path) {
                Ok(f) => f,
                // Another store finished it meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("an audit spool file", e)),
            };
            if !try_lock(&file).map_err(|e| io("an audit spool file's lock", e))? {
                continue;
            }
            // Its owner (or another store) may have deleted it, with its progress row, and
            // released the lock between our open and our lock: then it is done, not orphaned.
            if !same_file(&file, &path) {
                continue;
            }
            let spool = SpoolFile {
                name: name.into(),
                path,
                file,
                lines: 0,
                bytes: 0,
            };
            let shown = spool.path.display().to_string();
            match self.recover_file(spool) {
                Ok(n) => imported += n,
                // Left where it is, for the next start; the others go on.
                Err(e) => {
                    tracing::error!(error = %e, file = %shown, "could not import an audit spool file; it is kept for the next start")
                }
            }
        }
        for name in self.db.spool_names()? {
            if !self.dir.join(&name).exists() {
                self.db.forget_spool(&name)?;
            }
        }
        Ok(imported)
    }

    /// Imports the lines of a locked orphaned spool file that are not in the table yet.
    fn recover_file(&self, mut spool: SpoolFile) -> Result<u64> {
        let done = self.db.spool_progress(&spool.name)?;
        let mut text = Vec::new();
        spool
            .file
            .read_to_end(&mut text)
            .map_err(|e| io("an audit spool file", e))?;
        let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        // After the last newline: empty, or a line torn by a crash of the machine.
        if let Some(torn) = lines.pop()
            && !torn.is_empty()
        {
            tracing::warn!(file = %spool.path.display(), bytes = torn.len(), "an audit spool file ends in a torn line; it is skipped");
        }
        let mut imported = 0;
        let mut skipped = 0;
        let mut batch: Vec<SpoolLine> = Vec::new();
        let total = lines.len() as u64;
        for (i, line) in lines
            .iter()
            .enumerate()
            .skip(usize::try_from(done).unwrap_or(usize::MAX))
        {
            match spool_line_from_json(line) {
                Some(cells) => batch.push(cells),
                None => skipped += 1,
            }
            let line_no = i as u64 + 1;
            if batch.len() >= IMPORT_BATCH || line_no == total {
                let rows: Vec<&SpoolLine> = batch.iter().collect();
                self.db.import(&rows, &[(&spool.name, line_no)])?;
                imported += batch.len() as u64;
                batch.clear();
            }
        }
        if skipped > 0 {
            tracing::warn!(file = %spool.path.display(), lines = skipped, "audit spool lines that do not decode were skipped");
        }
        if imported > 0 {
            tracing::info!(records = imported, file = %spool.path.display(), "imported the audit spool of a process that stopped");
        }
        spool.remove(&self.db);
        Ok(imported)
    }

    /// Stops the import thread after it has imported what is queued and deleted this
    /// process's file, waiting [`STOP_WAIT`] at most. What it gives up on (or has not done
    /// when the process exits) stays in the spool file for the next start.
    fn stop(&self) {
        if let Some(file) = lock(&self.append).file.take() {
            lock(&self.shared.queue)
                .entries
                .push_back(Entry::Retire(file));
        }
        lock(&self.shared.queue).stop = true;
        self.shared.wake.notify_all();
        if let Some(stopped) = lock(&self.stopped).take()
            && let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(STOP_WAIT)
        {
            // It goes on alone; what it has not imported when the process exits stays in
            // the spool file for the next start.
            tracing::warn!(
                "the audit import is still running at shutdown; what it does not finish is imported at the next start"
            );
        }
    }
}

impl Drop for SpoolAudit {
    fn drop(&mut self) {
        self.stop();
    }
}

impl DirectAudit for SpoolAudit {
    fn append_blocking(&self, records: &[AuditEntry]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let cells: Vec<SpoolLine> = records
            .iter()
            .map(|e| match e {
                AuditEntry::Record(r) => SpoolLine::Record(Box::new(audit_cells(r))),
                AuditEntry::Intent(i) => SpoolLine::Intent(Box::new(intent_cells(i))),
            })
            .collect();
        if lock(&self.shared.queue).entries.len() >= MAX_QUEUED {
            return Err(StoreError::Conflict {
                what: "the audit import is behind (is the database locked or read-only?)"
                    .to_owned(),
            });
        }
        let mut guard = lock(&self.append);
        let ap = &mut *guard;
        ap.buf.clear();
        for c in &cells {
            let written = match c {
                SpoolLine::Record(c) => serde_json::to_writer(&mut ap.buf, c.as_slice()),
                SpoolLine::Intent(c) => {
                    // `["intent", cells…]`
                    ap.buf.extend_from_slice(b"[");
                    serde_json::to_writer(&mut ap.buf, INTENT_TAG).and_then(|()| {
                        for cell in c.iter() {
                            ap.buf.push(b',');
                            serde_json::to_writer(&mut ap.buf, cell)?;
                        }
                        Ok(())
                    })
                }
            };
            written.map_err(|e| io("an audit spool line", std::io::Error::other(e)))?;
            if matches!(c, SpoolLine::Intent(_)) {
                ap.buf.push(b']');
            }
            ap.buf.push(b'\n');
        }
        let file = match &mut ap.file {
            Some(file) => file,
            none => none.insert(SpoolFile::create(&self.dir, self.fsync)?),
        };
        let written = file.file.write_all(&ap.buf).and_then(|()| {
            if self.fsync {
                file.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Cut what was written off, so that a recovery does not import it (the caller
            // hands these records to the background writer) and the next line does not merge
            // with it. If that fails too, retire the file: only its queued lines are imported
            // before it is deleted. (A crash before that deletion would import the failed
            // call's whole lines a second time: a double fault, not handled.)
            if file.file.set_len(file.bytes).is_err()
                && let Some(file) = ap.file.take()
            {
                lock(&self.shared.queue)
                    .entries
                    .push_back(Entry::Retire(file));
                self.shared.wake.notify_one();
            }
            return Err(io("an audit spool file", e));
        }
        let first = file.lines + 1;
        file.lines += cells.len() as u64;
        file.bytes += ap.buf.len() as u64;
        let spool = Arc::clone(&file.name);
        let rotate = file.bytes >= ROTATE_BYTES;
        // Wake the import thread only when it waits for a first record or a full batch: in
        // between it sleeps out its batching delay.
        let wake = {
            let mut q = lock(&self.shared.queue);
            let was_empty = q.entries.is_empty();
            for (i, cells) in cells.into_iter().enumerate() {
                q.entries.push_back(Entry::Row {
                    spool: Arc::clone(&spool),
                    line: first + i as u64,
                    cells,
                });
            }
            if rotate && let Some(file) = ap.file.take() {
                q.entries.push_back(Entry::Retire(file));
            }
            was_empty || q.entries.len() >= IMPORT_BATCH
        };
        self.appended
            .fetch_add(records.len() as u64, Ordering::SeqCst);
        drop(guard);
        if wake {
            self.shared.wake.notify_one();
        }
        Ok(())
    }

    fn settle(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let target = self.appended.load(Ordering::SeqCst);
        let mut imported = self.shared.imported.clone();
        if *imported.borrow() < target {
            lock(&self.shared.queue).urgent = true;
            self.shared.wake.notify_one();
        }
        Box::pin(async move {
            // An error: the import thread ended (the records stay in the spool file).
            let _ = imported.wait_for(|&n| n >= target).await;
        })
    }
}

/// The import thread: moves queued rows into the table in batches, in spool order, and
/// deletes retired files once their rows are in.
fn import_loop(
    shared: &Shared,
    db: &SqliteDirectAudit,
    progress_out: &tokio::sync::watch::Sender<u64>,
) {
    let mut imported = 0u64;
    let mut backoff = RETRY_FIRST;
    let mut failures = 0u32;
    loop {
        let mut batch = Vec::new();
        let stopping = {
            let mut q = lock(&shared.queue);
            while q.entries.is_empty() && !q.stop {
                q = shared.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
            if q.entries.is_empty() {
                return;
            }
            // Let the first record's call be answered before this thread takes a core, and
            // let more records join the batch.
            let deadline = std::time::Instant::now() + IMPORT_DELAY;
            while q.entries.len() < IMPORT_BATCH && !q.stop && !q.urgent {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                q = shared
                    .wake
                    .wait_timeout(q, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if let Some(Entry::Retire(_)) = q.entries.front() {
                let Some(Entry::Retire(file)) = q.entries.pop_front() else {
                    unreachable!("checked above")
                };
                drop(q);
                file.remove(db);
                continue;
            }
            while batch.len() < IMPORT_BATCH && matches!(q.entries.front(), Some(Entry::Row { .. }))
            {
                if let Some(e) = q.entries.pop_front() {
                    batch.push(e);
                }
            }
            if q.entries.is_empty() {
                q.urgent = false;
            }
            q.stop
        };
        let mut rows = Vec::with_capacity(batch.len());
        let mut progress: Vec<(&str, u64)> = Vec::new();
        for e in &batch {
            if let Entry::Row { spool, line, cells } = e {
                rows.push(cells);
                match progress.last_mut() {
                    Some((s, n)) if *s == &**spool => *n = *line,
                    _ => progress.push((spool, *line)),
                }
            }
        }
        match db.import(&rows, &progress) {
            Ok(()) => {
                imported += rows.len() as u64;
                progress_out.send_replace(imported);
                backoff = RETRY_FIRST;
                failures = 0;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, records = rows.len(), "audit import failed; the records are safe in the spool and the import is retried");
                drop(rows);
                drop(progress);
                if stopping && failures >= ATTEMPTS_WHEN_STOPPING {
                    tracing::error!(
                        "audit import gave up while stopping; the spool file is imported at the next start"
                    );
                    return;
                }
                let mut q = lock(&shared.queue);
                for e in batch.into_iter().rev() {
                    q.entries.push_front(e);
                }
                drop(q);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(RETRY_MAX);
            }
        }
    }
}
