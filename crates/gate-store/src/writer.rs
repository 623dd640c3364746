//! [`AuditWriter`]: the request path hands audit records to a bounded channel; a background
//! task writes them in batches (one transaction per batch), retries failed batches, and
//! flushes everything accepted when shut down.
//!
//! Durability: [`AuditWriter::record`] returns once the record is queued, so a record queued
//! less than `flush_interval` (plus one batch write) before the process is killed (SIGKILL,
//! power loss) can be lost. [`AuditWriter::record_durable`] returns only once the record is
//! durable: on the [`DirectAudit`] path below, written to the sink (SQLite: the spool file);
//! otherwise its batch is committed: a batch holding such a record is written as soon as the
//! inbox is drained, without waiting for `flush_interval` (group commit: records arriving
//! while a batch is written share the next transaction). The gateway's call path uses
//! `record_durable`, so a call is answered only after its audit record is durable.
//!
//! When the store has a [`DirectAudit`] (SQLite on a file: a spool file of this process, see
//! `sql/spool.rs`), durable records skip the task: the first caller to find no append in
//! progress becomes the *leader* and makes every waiting record durable on its own thread,
//! in one write, then tells the others (group commit without a thread hand-off; see
//! `docs/benchmarks.md`, overhead). A leader appends a few rounds at most, then hands on to
//! a spawned task, so that one call never stays stuck appending for others. The sink moves
//! the records into the table a moment later; [`AuditWriter::flush`] waits for that. When a
//! direct append fails (a full disk), its records, every record waiting and, for one second,
//! every new durable record go to the background task with their waiters; it commits them
//! like any batch, retrying until it succeeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::audit::{AuditEntry, AuditIntent, AuditRecord};
use crate::store::{DirectAudit, Store};

/// Tuning for [`AuditWriter`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditWriterConfig {
    /// Channel capacity: records accepted but not yet written. When full, `record` waits.
    pub capacity: usize,
    /// Most records per batch (one transaction).
    pub batch_size: usize,
    /// Longest a record waits for its batch to fill before the batch is written anyway.
    pub flush_interval: Duration,
    /// First pause after a failed batch; doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest pause between retries.
    pub retry_max: Duration,
    /// During shutdown only: give up on a batch after this many failed attempts (counted in
    /// [`AuditStats::lost`] and logged), so a dead database cannot hang shutdown forever.
    /// While running, failed batches are retried without limit.
    pub shutdown_attempts: u32,
}

impl Default for AuditWriterConfig {
    fn default() -> Self {
        Self {
            capacity: 8192,
            batch_size: 500,
            flush_interval: Duration::from_millis(5),
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
            shutdown_attempts: 10,
        }
    }
}

impl AuditWriterConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the channel capacity (at least 1).
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// Sets the batch size (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the flush interval.
    pub fn flush_interval(mut self, d: Duration) -> Self {
        self.flush_interval = d;
        self
    }

    /// Sets the retry pauses.
    pub fn retry(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max.max(initial);
        self
    }

    /// Sets the attempts per batch during shutdown (at least 1).
    pub fn shutdown_attempts(mut self, n: u32) -> Self {
        self.shutdown_attempts = n.max(1);
        self
    }
}

/// Counters of an [`AuditWriter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditStats {
    /// Records accepted by [`AuditWriter::record`].
    pub accepted: u64,
    /// Records written to the store.
    pub written: u64,
    /// Records in batch attempts that failed (a record retried twice counts twice).
    pub failed: u64,
    /// Records given up on during shutdown after `shutdown_attempts` failures.
    pub lost: u64,
    /// Batches written.
    pub batches: u64,
    /// Durable records whose append on the caller's thread failed (or was skipped while that
    /// path cooled down) and that the background task took over.
    pub handed_off: u64,
}

/// The writer has shut down and accepts no more records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the audit writer has shut down")]
pub struct AuditClosed;

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    lost: AtomicU64,
    batches: AtomicU64,
    handed_off: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> AuditStats {
        AuditStats {
            accepted: self.accepted.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            handed_off: self.handed_off.load(Ordering::Relaxed),
        }
    }
}

// Nearly every message is a record, so boxing it would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Record(AuditRecord),
    Durable(AuditEntry, oneshot::Sender<()>),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// Batched, non-lossy audit writing. Cheap to clone; clones share one background task.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
    direct: Option<Arc<Direct>>,
}

/// Commits on the caller's thread through a [`DirectAudit`] (see the [module docs](self)).
struct Direct {
    sink: Arc<dyn DirectAudit>,
    state: std::sync::Mutex<DirectState>,
    /// Told whenever the direct path may have become idle.
    idle: Notify,
    counters: Arc<Counters>,
    batch_size: usize,
    /// The background writer, for records the direct append failed on.
    tx: mpsc::Sender<Msg>,
}

#[derive(Default)]
struct DirectState {
    records: Vec<AuditEntry>,
    acks: Vec<oneshot::Sender<()>>,
    /// An append is in progress or scheduled: new records wait for it.
    leading: bool,
    /// Hand-offs to the background writer not yet in its channel.
    handing_off: usize,
    /// After a failed append, durable records go to the background writer until then.
    cooldown_until: Option<std::time::Instant>,
    /// Shut down: no more records.
    closed: bool,
}

/// The longest [`AuditWriter::shutdown`] waits for durable records to reach the table.
const SETTLE_AT_SHUTDOWN: Duration = Duration::from_secs(10);

/// Rounds a caller appends for others before handing on to a spawned task.
const LEADER_ROUNDS: usize = 4;

/// How long durable records go to the background writer after a failed direct append (the
/// cause, a full disk or a stuck import, most likely lasts: no call should fail on it again).
const DIRECT_COOLDOWN: Duration = Duration::from_secs(1);

/// What `record_durable` should do with a record.
enum Route {
    /// Queued; the caller leads the append.
    Lead,
    /// Queued behind an append in progress.
    Wait,
    /// The direct path is cooling down after a failure: use the background writer (rare,
    /// hence boxed).
    Background(Box<AuditEntry>, oneshot::Sender<()>),
}

/// Clears the lead if a leader stops without doing so (a panic, or a continuation task that
/// the runtime dropped unpolled): waiting records are dropped (their callers get
/// [`AuditClosed`] and the records count as lost) instead of hanging every later call.
struct LeadGuard {
    direct: Arc<Direct>,
    armed: bool,
}

impl LeadGuard {
    fn new(direct: &Arc<Direct>) -> Self {
        Self {
            direct: Arc::clone(direct),
            armed: true,
        }
    }

    fn run(mut self) {
        self.direct.lead_rounds();
        // The lead was released or handed on.
        self.armed = false;
    }
}

impl Drop for LeadGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let d = &self.direct;
        let mut st = d.state.lock().unwrap_or_else(PoisonError::into_inner);
        let n = st.records.len() as u64;
        st.records.clear();
        st.acks.clear();
        st.leading = false;
        drop(st);
        if n > 0 {
            d.counters.lost.fetch_add(n, Ordering::Relaxed);
            tracing::error!(records = n, "audit append stopped; records were lost");
        }
        d.idle.notify_waiters();
    }
}

impl Direct {
    fn lock(&self) -> std::sync::MutexGuard<'_, DirectState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a record (atomically with the closed check, so that shutdown waits for it).
    fn route(&self, record: AuditEntry, ack: oneshot::Sender<()>) -> Result<Route, AuditClosed> {
        let mut st = self.lock();
        if st.closed {
            return Err(AuditClosed);
        }
        if let Some(until) = st.cooldown_until {
            if std::time::Instant::now() < until {
                return Ok(Route::Background(Box::new(record), ack));
            }
            st.cooldown_until = None;
        }
        st.records.push(record);
        st.acks.push(ack);
        Ok(if std::mem::replace(&mut st.leading, true) {
            Route::Wait
        } else {
            Route::Lead
        })
    }

    fn is_idle(&self) -> bool {
        let st = self.lock();
        !st.leading && st.handing_off == 0
    }

    /// Leads the append of what waits (see [`Direct::lead_rounds`]).
    fn lead(self: &Arc<Self>) {
        LeadGuard::new(self).run();
    }

    /// Appends what waits, for up to [`LEADER_ROUNDS`] rounds, on this thread, then hands
    /// the lead on to a task. Synchronous, so a caller whose future is dropped cannot leave
    /// the lead half-done.
    fn lead_rounds(self: &Arc<Self>) {
        for _ in 0..LEADER_ROUNDS {
            let (records, acks) = {
                let mut st = self.lock();
                if st.records.is_empty() {
                    st.leading = false;
                    drop(st);
                    self.idle.notify_waiters();
                    return;
                }
                let n = st.records.len().min(self.batch_size);
                let records: Vec<_> = st.records.drain(..n).collect();
                let acks: Vec<_> = st.acks.drain(..n).collect();
                (records, acks)
            };
            let n = records.len() as u64;
            match self.sink.append_blocking(&records) {
                Ok(()) => {
                    self.counters.written.fetch_add(n, Ordering::Relaxed);
                    self.counters.batches.fetch_add(1, Ordering::Relaxed);
                    for ack in acks {
                        let _ = ack.send(());
                    }
                }
                Err(e) => {
                    // The sink could not take them (a full disk, or its import is stuck).
                    // These records, and every record waiting, go to the background writer
                    // (it retries without blocking a call), and so do new ones for a while.
                    self.counters.failed.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(error = %e, records = n, "audit append on the call path failed; the background writer retries it");
                    let mut st = self.lock();
                    let mut msgs: Vec<Msg> = records
                        .into_iter()
                        .zip(acks)
                        .map(|(r, a)| Msg::Durable(r, a))
                        .collect();
                    msgs.extend(
                        std::mem::take(&mut st.records)
                            .into_iter()
                            .zip(std::mem::take(&mut st.acks))
                            .map(|(r, a)| Msg::Durable(r, a)),
                    );
                    st.cooldown_until = Some(std::time::Instant::now() + DIRECT_COOLDOWN);
                    st.leading = false;
                    self.hand_off(&mut st, msgs);
                    drop(st);
                    self.idle.notify_waiters();
                    return;
                }
            }
        }
        // Still leading, and more may be waiting: go on from a task of its own. The guard
        // travels with the task, so a task dropped unpolled still clears the lead.
        let guard = LeadGuard::new(self);
        tokio::spawn(async move { guard.run() });
    }

    /// Gives durable records (with their waiters) to the background writer: at once when
    /// its channel has room, else from a task; `flush` and `shutdown` wait for those tasks.
    fn hand_off(self: &Arc<Self>, st: &mut DirectState, msgs: Vec<Msg>) {
        self.counters
            .handed_off
            .fetch_add(msgs.len() as u64, Ordering::Relaxed);
        let mut rest = Vec::new();
        for msg in msgs {
            match self.tx.try_send(msg) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(msg)) => rest.push(msg),
                Err(mpsc::error::TrySendError::Closed(_)) => self.lost_to_shutdown(1),
            }
        }
        if rest.is_empty() {
            return;
        }
        st.handing_off += 1;
        let me = Arc::clone(self);
        tokio::spawn(async move {
            for msg in rest {
                if me.tx.send(msg).await.is_err() {
                    me.lost_to_shutdown(1);
                }
            }
            me.lock().handing_off -= 1;
            me.idle.notify_waiters();
        });
    }

    fn lost_to_shutdown(&self, n: u64) {
        // The dropped ack tells the caller.
        self.counters.lost.fetch_add(n, Ordering::Relaxed);
        tracing::error!("audit writer closed; an audit record was lost");
    }

    /// Waits until no append or hand-off is in progress. Under a steady stream of durable
    /// records this may take until the stream pauses.
    async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.is_idle() {
                return;
            }
            idle.await;
        }
    }
}

impl AuditWriter {
    /// Starts the background task on the current Tokio runtime.
    pub fn spawn(store: Arc<dyn Store>, config: AuditWriterConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        let counters = Arc::new(Counters::default());
        let direct = store.direct_audit().map(|sink| {
            Arc::new(Direct {
                sink,
                state: std::sync::Mutex::new(DirectState::default()),
                idle: Notify::new(),
                counters: Arc::clone(&counters),
                batch_size: config.batch_size.max(1),
                tx: tx.clone(),
            })
        });
        let task = tokio::spawn(run(store, rx, config, Arc::clone(&counters)));
        Self {
            tx,
            counters,
            task: Arc::new(Mutex::new(Some(task))),
            direct,
        }
    }

    /// Hands a record to the writer. Returns at once unless the channel is full, in which
    /// case it waits for room: records are never dropped.
    pub async fn record(&self, record: AuditRecord) -> Result<(), AuditClosed> {
        self.tx
            .send(Msg::Record(record))
            .await
            .map_err(|_| AuditClosed)?;
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Hands a record to the writer and waits until it is durable (see the module docs).
    /// Err if the writer shut down first or gave the record up during shutdown.
    pub async fn record_durable(&self, record: AuditRecord) -> Result<(), AuditClosed> {
        self.durable(AuditEntry::Record(record)).await
    }

    /// Makes a write's intent durable, through the same path (and group commit) as
    /// [`AuditWriter::record_durable`]: the write may be sent once this returns `Ok`.
    pub async fn record_intent_durable(&self, intent: AuditIntent) -> Result<(), AuditClosed> {
        self.durable(AuditEntry::Intent(Box::new(intent))).await
    }

    async fn durable(&self, record: AuditEntry) -> Result<(), AuditClosed> {
        let (ack, done) = oneshot::channel();
        if let Some(direct) = &self.direct {
            match direct.route(record, ack)? {
                Route::Lead => {
                    self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                    direct.lead();
                }
                Route::Wait => {
                    self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                }
                Route::Background(record, ack) => {
                    self.counters.handed_off.fetch_add(1, Ordering::Relaxed);
                    self.tx
                        .send(Msg::Durable(*record, ack))
                        .await
                        .map_err(|_| AuditClosed)?;
                    self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
            return done.await.map_err(|_| AuditClosed);
        }
        self.tx
            .send(Msg::Durable(record, ack))
            .await
            .map_err(|_| AuditClosed)?;
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        done.await.map_err(|_| AuditClosed)
    }

    /// Waits until every record accepted before this call is written (or, during shutdown,
    /// given up on).
    pub async fn flush(&self) -> Result<(), AuditClosed> {
        if let Some(direct) = &self.direct {
            direct.wait_idle().await;
            direct.sink.settle().await;
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Flush(ack))
            .await
            .map_err(|_| AuditClosed)?;
        done.await.map_err(|_| AuditClosed)
    }

    /// Waits until every durable record acknowledged before this call is in the audit table
    /// (on SQLite they reach it from the spool a moment after their callers are answered).
    /// Unlike [`AuditWriter::flush`], it neither waits for plain records nor for the stream
    /// of durable ones to pause: meant for reading one's own audit trail.
    pub async fn settle(&self) {
        if let Some(direct) = &self.direct {
            direct.sink.settle().await;
        }
    }

    /// Current counters.
    pub fn stats(&self) -> AuditStats {
        self.counters.snapshot()
    }

    /// Stops accepting records, writes every record accepted so far, stops the task and
    /// returns the final counters. Safe to call more than once and from several clones.
    pub async fn shutdown(&self) -> AuditStats {
        if let Some(direct) = &self.direct {
            direct.lock().closed = true;
            direct.wait_idle().await;
            // Durable records are safe already; what is not in the table by then is
            // imported by the sink later (or at the next start).
            if tokio::time::timeout(SETTLE_AT_SHUTDOWN, direct.sink.settle())
                .await
                .is_err()
            {
                tracing::warn!(
                    "audit records are still being imported at shutdown; they are safe and imported at the next start"
                );
            }
        }
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(ack)).await.is_ok() {
            // An error here means the task ended anyway; the join below tells the rest.
            let _ = done.await;
        }
        if let Some(task) = self.task.lock().await.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "audit writer task failed");
        }
        self.counters.snapshot()
    }
}

/// The records of the batch being filled, and the callers waiting for its commit.
struct Batch {
    records: Vec<AuditEntry>,
    waiters: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn take(&mut self, msg: Msg) -> Option<Msg> {
        match msg {
            Msg::Record(r) => self.records.push(AuditEntry::Record(r)),
            Msg::Durable(r, ack) => {
                self.records.push(r);
                self.waiters.push(ack);
            }
            other => return Some(other),
        }
        None
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Msg>,
    config: AuditWriterConfig,
    counters: Arc<Counters>,
) {
    let batch_size = config.batch_size.max(1);
    let mut batch = Batch {
        records: Vec::with_capacity(batch_size),
        waiters: Vec::new(),
    };
    let mut inbox: Vec<Msg> = Vec::with_capacity(batch_size);
    let mut batch_started = Instant::now();
    let writer = BatchWriter {
        store,
        config: &config,
        counters: &counters,
    };
    loop {
        let room = batch_size.saturating_sub(batch.records.len()).max(1);
        let received = if batch.records.is_empty() {
            rx.recv_many(&mut inbox, room).await
        } else {
            match tokio::time::timeout_at(
                batch_started + config.flush_interval,
                rx.recv_many(&mut inbox, room),
            )
            .await
            {
                Ok(n) => n,
                Err(_) => {
                    writer.write(&mut batch, false).await;
                    continue;
                }
            }
        };
        if received == 0 {
            // Every sender is gone without a shutdown: write what is left and stop.
            writer.write(&mut batch, true).await;
            return;
        }
        let mut shutdown_acks = Vec::new();
        for msg in inbox.drain(..) {
            if batch.records.is_empty() {
                batch_started = Instant::now();
            }
            writer
                .accept(&mut batch, msg, batch_size, false, &mut shutdown_acks)
                .await;
        }
        if !shutdown_acks.is_empty() {
            // No new messages after this; drain what was accepted before the close.
            rx.close();
            while let Some(msg) = rx.recv().await {
                writer
                    .accept(&mut batch, msg, batch_size, true, &mut shutdown_acks)
                    .await;
            }
            writer.write(&mut batch, true).await;
            for ack in shutdown_acks {
                let _ = ack.send(());
            }
            return;
        }
        if !batch.waiters.is_empty() {
            // Someone waits for this batch's commit: write it now (group commit).
            writer.write(&mut batch, false).await;
        }
    }
}

struct BatchWriter<'a> {
    store: Arc<dyn Store>,
    config: &'a AuditWriterConfig,
    counters: &'a Counters,
}

impl BatchWriter<'_> {
    /// Takes one message: a record joins the batch (written once the batch is full), a
    /// flush writes the batch and answers, a shutdown's answer waits for the last write.
    async fn accept(
        &self,
        batch: &mut Batch,
        msg: Msg,
        batch_size: usize,
        closing: bool,
        shutdown_acks: &mut Vec<oneshot::Sender<()>>,
    ) {
        match batch.take(msg) {
            None => {
                if batch.records.len() >= batch_size {
                    self.write(batch, closing).await;
                }
            }
            Some(Msg::Flush(ack)) => {
                self.write(batch, closing).await;
                let _ = ack.send(());
            }
            Some(Msg::Shutdown(ack)) => shutdown_acks.push(ack),
            Some(Msg::Record(_) | Msg::Durable(..)) => unreachable!("taken by the batch"),
        }
    }

    /// Writes and clears the batch, retrying failures (without limit unless `closing`), then
    /// tells its waiters (dropped unanswered if the batch is given up on).
    async fn write(&self, batch: &mut Batch, closing: bool) {
        if batch.records.is_empty() {
            return;
        }
        let n = batch.records.len() as u64;
        let mut pause = self.config.retry_initial;
        let mut attempts = 0u32;
        loop {
            match self.store.append_audit_entries(&batch.records).await {
                Ok(()) => {
                    self.counters.written.fetch_add(n, Ordering::Relaxed);
                    self.counters.batches.fetch_add(1, Ordering::Relaxed);
                    batch.records.clear();
                    for ack in batch.waiters.drain(..) {
                        let _ = ack.send(());
                    }
                    return;
                }
                Err(e) => {
                    attempts += 1;
                    self.counters.failed.fetch_add(n, Ordering::Relaxed);
                    if closing && attempts >= self.config.shutdown_attempts {
                        tracing::error!(error = %e, records = n, attempts, "audit batch could not be written during shutdown; giving up");
                        self.counters.lost.fetch_add(n, Ordering::Relaxed);
                        batch.records.clear();
                        batch.waiters.clear();
                        return;
                    }
                    tracing::warn!(error = %e, records = n, attempts, "audit batch failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.config.retry_max);
                }
            }
        }
    }
}
