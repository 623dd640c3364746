//! The refresh queue of a mirror: the pages and data sources that Notion's webhooks say
//! changed, refreshed soon and once each.
//!
//! [`RefreshQueue::spawn`] starts one worker per mirror. [`RefreshQueue::touch`] and
//! [`RefreshQueue::data_source_changed`] only record an id in a set (a burst of events for one
//! page is one refetch); the worker waits [`RefreshQueue::DEBOUNCE`] after the first id of a
//! batch so that a burst coalesces, then refetches the batch through
//! [`refresh_pages`](crate::sync::refresh_pages) (the same code path as any named refetch: the
//! page retrieved, its tree fetched, a page gone or in the trash removed) and, when a data
//! source changed, runs one incremental [`sync`](crate::sync::sync) (new and edited rows are
//! the newest edits, found above the watermark). Ids recorded while a batch runs make the next
//! batch. Every request goes through the connection the worker is handed for each batch (the
//! registry's, hence its shared limiter).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notion_client::Connection;
use tokio::sync::Notify;

use crate::store::MirrorStore;
use crate::sync::{SyncOptions, refresh_pages, sync};

/// What the queue has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshStats {
    /// Ids recorded (before deduplication).
    pub touched: u64,
    /// Batches run.
    pub batches: u64,
    /// Pages refetched (after deduplication).
    pub pages_refreshed: u64,
    /// Incremental syncs run for data source changes.
    pub data_source_syncs: u64,
    /// Notion requests made.
    pub requests: u64,
    /// Batches that failed (their ids are recorded again for the next batch).
    pub errors: u64,
}

#[derive(Default)]
struct Pending {
    pages: BTreeSet<String>,
    data_sources: BTreeSet<String>,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Notify,
    touched: AtomicU64,
    batches: AtomicU64,
    pages_refreshed: AtomicU64,
    data_source_syncs: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Shared {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A mirror's refresh queue (cheap to clone; the worker stops when every clone is dropped).
#[derive(Clone)]
pub struct RefreshQueue {
    shared: Arc<Shared>,
    _worker: Arc<WorkerGuard>,
}

struct WorkerGuard(tokio::task::AbortHandle);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for RefreshQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshQueue")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RefreshQueue {
    /// How long the worker waits after the first id of a batch, so that a burst of events
    /// (Notion sends several per edit) is one refetch.
    pub const DEBOUNCE: Duration = Duration::from_millis(250);

    /// Starts the worker of `store` (needs a Tokio runtime). `connect` is asked for the
    /// connection before each batch; `None` (the connection is unusable, or the gateway is
    /// local-only) drops the batch.
    pub fn spawn<F, Fut>(store: Arc<MirrorStore>, debounce: Duration, connect: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<Connection>> + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let worker = tokio::spawn(run(shared.clone(), store, debounce, connect));
        Self {
            shared,
            _worker: Arc::new(WorkerGuard(worker.abort_handle())),
        }
    }

    /// Records that a page changed (created, edited, moved, restored or deleted: the refetch
    /// finds out which, and removes a page Notion no longer shows).
    pub fn touch(&self, page_id: &str) {
        self.record(|p| p.pages.insert(page_id.to_owned()));
    }

    /// Records that a data source's rows changed.
    pub fn data_source_changed(&self, data_source_id: &str) {
        self.record(|p| p.data_sources.insert(data_source_id.to_owned()));
    }

    fn record(&self, f: impl FnOnce(&mut Pending) -> bool) {
        self.shared.touched.fetch_add(1, Ordering::Relaxed);
        f(&mut self.shared.pending());
        self.shared.wake.notify_one();
    }

    /// What the queue has done so far.
    pub fn stats(&self) -> RefreshStats {
        let s = &self.shared;
        RefreshStats {
            touched: s.touched.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
            pages_refreshed: s.pages_refreshed.load(Ordering::Relaxed),
            data_source_syncs: s.data_source_syncs.load(Ordering::Relaxed),
            requests: s.requests.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
        }
    }
}

async fn run<F, Fut>(shared: Arc<Shared>, store: Arc<MirrorStore>, debounce: Duration, connect: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Connection>> + Send + 'static,
{
    loop {
        shared.wake.notified().await;
        tokio::time::sleep(debounce).await;
        let batch = std::mem::take(&mut *shared.pending());
        if batch.pages.is_empty() && batch.data_sources.is_empty() {
            continue;
        }
        shared.batches.fetch_add(1, Ordering::Relaxed);
        let Some(conn) = connect().await else {
            tracing::debug!("mirror refresh: connection unusable, batch dropped");
            continue;
        };
        let pages: Vec<String> = batch.pages.iter().cloned().collect();
        let options = SyncOptions::new();
        let mut failed = false;
        if !pages.is_empty() {
            match refresh_pages(&conn, &store, &pages, &options).await {
                Ok(requests) => {
                    shared
                        .pages_refreshed
                        .fetch_add(pages.len() as u64, Ordering::Relaxed);
                    shared.requests.fetch_add(requests, Ordering::Relaxed);
                    tracing::debug!(pages = pages.len(), requests, "mirror refreshed");
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(error = %e, pages = pages.len(), "mirror refresh failed");
                }
            }
        }
        if !batch.data_sources.is_empty() {
            match sync(&conn, &store, &options).await {
                Ok(r) => {
                    shared.data_source_syncs.fetch_add(1, Ordering::Relaxed);
                    shared.requests.fetch_add(r.requests, Ordering::Relaxed);
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(error = %e, "mirror refresh (data source rows) failed");
                }
            }
        }
        if failed {
            // Keep the ids for the next batch (a later event or the background sync retries).
            shared.errors.fetch_add(1, Ordering::Relaxed);
            let mut p = shared.pending();
            p.pages.extend(batch.pages);
            p.data_sources.extend(batch.data_sources);
        }
    }
}
