//! The sync engine: list what the connection can see (search, newest edit first), mark what
//! changed as pending, fetch each pending page's block tree with the tree fetcher, store it.
//!
//! - **First sync**: lists everything (⌈objects/100⌉ search requests), then one tree fetch
//!   per page (one children list per block with children): the minimum a mirror of Notion
//!   content needs, since search results already carry each page object.
//! - **Resumable**: a page's row is `pending` until its whole tree is stored; a sync that
//!   stops (crash, Ctrl-C) leaves finished pages `done`, and the next run fetches only the
//!   pending ones (its listing is repeated: a few requests).
//! - **Incremental**: later runs stop listing at the watermark (the start of the last
//!   complete sync, less [`WATERMARK_MARGIN_MS`] for clock skew and Notion's minute
//!   granularity), so an unchanged workspace costs one search request.
//! - **Reconciliation**: a run that lists everything (the first, `reconcile`, or when the
//!   last full listing is older than [`SyncOptions::reconcile_every`]) removes what it did
//!   not see: trashed pages and pages no longer shared with the connection.
//!
//! Every request goes through the connection's `Connection::execute`, hence its shared
//! limiter. The limiter has no priorities; a background sync yields to agents by pacing
//! itself instead ([`SyncOptions::pace`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use notion_client::Connection;
use notion_client::Paging;
use notion_client::endpoints::Search;
use notion_client::ids::BlockId;
use notion_client::models::{Page, SearchResult};
use notion_client::tree::{TreeOptions, fetch_tree};
use serde::Serialize;
use serde_json::Value;

use crate::document;
use crate::error::{MirrorError, Result};
use crate::store::{Listed, MirrorStore, now_ms, parse_ms};

/// `meta` key: the watermark (ms since the epoch).
pub const META_WATERMARK: &str = "watermark_ms";
/// `meta` key: when the last sync ended (ms).
pub const META_LAST_SYNC: &str = "last_sync_ms";
/// `meta` key: when the last full listing ended (ms).
pub const META_LAST_FULL: &str = "last_full_sync_ms";
/// `meta` key: the last sync's error.
pub const META_LAST_ERROR: &str = "last_error";
/// `meta` key: the id of the last listing run.
pub const META_RUN: &str = "run";
/// `meta` key: the `Notion-Version` the mirror's objects were fetched with (their shape).
pub const META_NOTION_VERSION: &str = "notion_version";

/// Margin below the last sync's start where an incremental listing still looks: clock skew
/// between this host and Notion, plus Notion's minute granularity.
pub const WATERMARK_MARGIN_MS: i64 = 3 * 60_000;

/// Blocks one page may hold in the mirror.
pub const MAX_BLOCKS_PER_PAGE: usize = 20_000;

/// The progress of a sync, for a progress bar.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct SyncProgress {
    /// `listing`, `fetching` or `done`.
    pub phase: &'static str,
    /// Objects listed so far.
    pub listed: u64,
    /// Pages to fetch in this run.
    pub to_fetch: u64,
    /// Pages fetched and stored so far.
    pub fetched: u64,
    /// Notion requests made so far.
    pub requests: u64,
    /// Pages whose fetch failed.
    pub errors: u64,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&SyncProgress) + Send + Sync>;

/// How a sync runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Pages fetched at once.
    pub pages_in_flight: usize,
    /// Requests in flight within one page's tree.
    pub tree_concurrency: usize,
    /// List everything and remove what is gone, whatever the watermark.
    pub reconcile: bool,
    /// A listing that stops at the watermark becomes a full one when the last full listing
    /// is older than this.
    pub reconcile_every: Duration,
    /// Wait this long before each request-spending step (background syncs: leave the
    /// connection's rate to agents).
    pub pace: Option<Duration>,
    /// Called as the sync advances.
    pub progress: Option<ProgressFn>,
    /// Set to stop the sync after the pages in flight (what is done stays done).
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            pages_in_flight: 4,
            tree_concurrency: 4,
            reconcile: false,
            reconcile_every: Duration::from_secs(3600),
            pace: None,
            progress: None,
            stop: None,
        }
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("pages_in_flight", &self.pages_in_flight)
            .field("tree_concurrency", &self.tree_concurrency)
            .field("reconcile", &self.reconcile)
            .field("reconcile_every", &self.reconcile_every)
            .field("pace", &self.pace)
            .finish_non_exhaustive()
    }
}

impl SyncOptions {
    /// Defaults: 4 pages at once, 4 requests per tree, reconciliation hourly.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces a full listing (reconciliation).
    pub fn reconcile(mut self, on: bool) -> Self {
        self.reconcile = on;
        self
    }

    /// Sets how often an incremental sync lists everything instead.
    pub fn reconcile_every(mut self, every: Duration) -> Self {
        self.reconcile_every = every;
        self
    }

    /// Paces the sync (see [`SyncOptions::pace`]); also fetches one page at a time.
    pub fn pace(mut self, pace: Option<Duration>) -> Self {
        self.pace = pace;
        if pace.is_some() {
            self.pages_in_flight = 1;
            self.tree_concurrency = 1;
        }
        self
    }

    /// Sets the pages fetched at once and the requests in flight within a tree.
    pub fn concurrency(mut self, pages: usize, tree: usize) -> Self {
        self.pages_in_flight = pages.max(1);
        self.tree_concurrency = tree.max(1);
        self
    }

    /// Sets the progress callback.
    pub fn progress(mut self, f: impl Fn(&SyncProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Sets the stop flag.
    pub fn stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct SyncReport {
    /// Whether the listing covered everything (and removed what was gone).
    pub full: bool,
    /// Objects the listing returned.
    pub listed: u64,
    /// Pages fetched and stored.
    pub fetched: u64,
    /// Objects removed (trashed or unshared).
    pub removed: u64,
    /// Pages whose fetch failed (they stay pending).
    pub errors: u64,
    /// Notion requests made (search pages and block lists; retries not counted).
    pub requests: u64,
    /// Whether the sync was stopped before the end.
    pub stopped: bool,
}

struct Counters {
    listed: AtomicU64,
    to_fetch: AtomicU64,
    fetched: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    fn progress(&self, phase: &'static str) -> SyncProgress {
        SyncProgress {
            phase,
            listed: self.listed.load(Ordering::Relaxed),
            to_fetch: self.to_fetch.load(Ordering::Relaxed),
            fetched: self.fetched.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

fn plain_title(v: &Value) -> String {
    v.get("title")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("plain_text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// A search result as a listing entry (`None` for one in the trash).
fn listed(result: &SearchResult) -> Result<Option<Listed>> {
    let json = serde_json::to_value(result)?;
    if json.get("in_trash") == Some(&Value::Bool(true))
        || json.get("archived") == Some(&Value::Bool(true))
    {
        return Ok(None);
    }
    let Some(id) = json
        .get("id")
        .and_then(Value::as_str)
        .and_then(document::dashed_id)
    else {
        return Ok(None);
    };
    let (kind, title) = match result {
        SearchResult::Page(p) => ("page".to_owned(), p.title()),
        _ => (
            json.get("object")
                .and_then(Value::as_str)
                .unwrap_or("data_source")
                .to_owned(),
            plain_title(&json),
        ),
    };
    Ok(Some(Listed {
        id,
        kind,
        title,
        url: json.get("url").and_then(Value::as_str).map(str::to_owned),
        parents: document::parents_of(&json),
        last_edited_time: json
            .get("last_edited_time")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        json,
    }))
}

async fn pace(options: &SyncOptions) {
    if let Some(d) = options.pace {
        tokio::time::sleep(d).await;
    }
}

fn stopped(options: &SyncOptions) -> bool {
    options
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::SeqCst))
}

/// Runs one sync of `store` from `conn`.
pub async fn sync(
    conn: &Connection,
    store: &MirrorStore,
    options: &SyncOptions,
) -> Result<SyncReport> {
    let result = sync_inner(conn, store, options).await;
    match &result {
        Ok(r) if r.errors == 0 => store.set_meta(META_LAST_ERROR, None)?,
        Ok(r) => store.set_meta(
            META_LAST_ERROR,
            Some(&format!(
                "{} page(s) could not be fetched; they stay pending",
                r.errors
            )),
        )?,
        Err(e) => store.set_meta(META_LAST_ERROR, Some(&e.to_string()))?,
    }
    result
}

async fn sync_inner(
    conn: &Connection,
    store: &MirrorStore,
    options: &SyncOptions,
) -> Result<SyncReport> {
    let started = now_ms();
    let counters = Arc::new(Counters {
        listed: AtomicU64::new(0),
        to_fetch: AtomicU64::new(0),
        fetched: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let report_progress = |phase: &'static str| {
        if let Some(p) = &options.progress {
            p(&counters.progress(phase));
        }
    };
    let ms_meta =
        |k: &str| -> Result<Option<i64>> { Ok(store.meta(k)?.and_then(|v| v.parse::<i64>().ok())) };
    let watermark = ms_meta(META_WATERMARK)?;
    let last_full = ms_meta(META_LAST_FULL)?;
    let full = options.reconcile
        || watermark.is_none()
        || last_full.is_none_or(|t| {
            started.saturating_sub(t) >= options.reconcile_every.as_millis() as i64
        });
    let run = ms_meta(META_RUN)?.unwrap_or(0) + 1;
    store.set_meta(META_RUN, Some(&run.to_string()))?;
    store.set_meta(META_NOTION_VERSION, Some(conn.version().as_str()))?;

    // ---- listing ----
    report_progress("listing");
    let search = Search::new().sort_by_last_edited(false);
    let mut cursor: Option<String> = None;
    let mut complete = false;
    let mut stopped_early = false;
    loop {
        if stopped(options) {
            stopped_early = true;
            break;
        }
        pace(options).await;
        let paging = match cursor.as_deref() {
            Some(c) => Paging::after(c),
            None => Paging::first(),
        }
        .size(100);
        let page = conn.search(&search, &paging).await?;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let mut below_watermark = false;
        for result in &page.results {
            let Some(obj) = listed(result)? else {
                continue;
            };
            counters.listed.fetch_add(1, Ordering::Relaxed);
            if !full
                && let (Some(w), Some(t)) = (watermark, parse_ms(&obj.last_edited_time))
                && t < w
            {
                below_watermark = true;
                break;
            }
            store.listed(&obj, run)?;
        }
        report_progress("listing");
        if below_watermark {
            complete = true;
            break;
        }
        match (page.has_more, page.next_cursor) {
            (true, Some(c)) => cursor = Some(c),
            _ => {
                complete = true;
                break;
            }
        }
    }
    let mut removed = 0;
    if full && complete {
        removed = store.remove_unseen(run)?.len() as u64;
    }

    // ---- fetching ----
    let pending = store.pending()?;
    counters
        .to_fetch
        .store(pending.len() as u64, Ordering::Relaxed);
    report_progress("fetching");
    let tree_options = TreeOptions::new()
        .max_blocks(MAX_BLOCKS_PER_PAGE)
        .concurrency(options.tree_concurrency);
    let fetches = futures::stream::iter(pending.into_iter().map(|(id, listed)| {
        let counters = counters.clone();
        let tree_options = tree_options.clone();
        async move {
            if stopped(options) {
                return Ok::<bool, MirrorError>(false);
            }
            pace(options).await;
            let outcome = fetch_one(conn, store, &id, listed, &tree_options, &counters).await;
            if let Err(e) = outcome {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(page_id = %id, error = %e, "mirror: fetching a page failed");
                store.page_failed(&id, &e.to_string())?;
            } else {
                counters.fetched.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(p) = &options.progress {
                p(&counters.progress("fetching"));
            }
            Ok(true)
        }
    }))
    .buffer_unordered(options.pages_in_flight.max(1));
    futures::pin_mut!(fetches);
    while let Some(r) = fetches.next().await {
        if !r? {
            stopped_early = true;
        }
    }
    stopped_early |= stopped(options);

    let ended = now_ms();
    if complete && !stopped_early {
        // Edits from here on are found by the next incremental listing. Pages that failed
        // stay pending and are fetched by the next run whatever the watermark.
        store.set_meta(
            META_WATERMARK,
            Some(&(started - WATERMARK_MARGIN_MS).to_string()),
        )?;
        if full {
            store.set_meta(META_LAST_FULL, Some(&ended.to_string()))?;
        }
    }
    store.set_meta(META_LAST_SYNC, Some(&ended.to_string()))?;
    report_progress("done");
    Ok(SyncReport {
        full: full && complete,
        listed: counters.listed.load(Ordering::Relaxed),
        fetched: counters.fetched.load(Ordering::Relaxed),
        removed,
        errors: counters.errors.load(Ordering::Relaxed),
        requests: counters.requests.load(Ordering::Relaxed),
        stopped: stopped_early,
    })
}

async fn fetch_one(
    conn: &Connection,
    store: &MirrorStore,
    id: &str,
    listed: Value,
    tree_options: &TreeOptions,
    counters: &Counters,
) -> Result<()> {
    let page: Page = serde_json::from_value(listed)?;
    let root = BlockId::parse(page.id.as_str()).map_err(notion_client::Error::from)?;
    let fetched_at = now_ms();
    let tree = fetch_tree(conn, &root, tree_options).await;
    counters
        .requests
        .fetch_add(tree.requests, Ordering::Relaxed);
    if let Some(e) = tree.error {
        return Err(e.into());
    }
    tracing::debug!(page_id = %id, blocks = tree.len(), "mirror: page fetched");
    let unexpanded = tree.unexpanded.clone();
    store.store_page(&page, tree.children, tree.truncated, unexpanded, fetched_at)
}

/// Fetches the given pages again (a webhook or an edit announced them), whatever the
/// watermark: each is retrieved and its tree stored; a page Notion no longer shows (404, in
/// the trash) is removed. Answers the requests made.
pub async fn refresh_pages(
    conn: &Connection,
    store: &MirrorStore,
    ids: &[String],
    options: &SyncOptions,
) -> Result<u64> {
    let counters = Counters {
        listed: AtomicU64::new(0),
        to_fetch: AtomicU64::new(ids.len() as u64),
        fetched: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    };
    let tree_options = TreeOptions::new()
        .max_blocks(MAX_BLOCKS_PER_PAGE)
        .concurrency(options.tree_concurrency);
    for id in ids {
        let Ok(page_id) = notion_client::ids::PageId::parse(id) else {
            continue;
        };
        pace(options).await;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        match conn.pages().retrieve(&page_id).await {
            Ok(page) if page.in_trash == Some(true) => {
                store.remove(id)?;
            }
            Ok(page) => {
                let listed = serde_json::to_value(&page)?;
                fetch_one(conn, store, id, listed, &tree_options, &counters).await?;
            }
            Err(e) if e.status() == Some(404) => {
                store.remove(id)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(counters.requests.load(Ordering::Relaxed))
}
