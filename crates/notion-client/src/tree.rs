//! Fetching a page (or any block) with all its descendants, in the fewest requests, keeping
//! the connection's limiter busy, and returning whatever was fetched when something fails.
//!
//! # Algorithm
//!
//! [`fetch_tree`] runs a work queue of *list jobs* (one `GET /v1/blocks/{id}/children` page
//! each) with at most [`TreeOptions::concurrency`] requests in flight:
//!
//! - a job is created only for a block whose `has_children` is `true` (never a request for a
//!   block without children, never a `GET /v1/blocks/{id}` for a block already listed);
//!   `child_page` and `child_database` blocks are separate documents and are not descended
//!   into unless [`TreeOptions::include_child_pages`] asks for child pages;
//! - every page asks for 100 children (Notion's maximum), or fewer when a block cap leaves
//!   room for fewer, so that no request fetches rows nobody asked for;
//! - as soon as a response arrives, the next-cursor page of the same block goes to the
//!   *front* of the queue (a cursor chain is sequential, so it is on the critical path) and
//!   the children that have children go to the back (breadth first: shallow blocks have the
//!   longest chains below them and reveal the most work, which keeps the queue from running
//!   dry while the limiter still has budget);
//! - a block's pages are requested one after the other, so concatenating them in arrival order
//!   keeps Notion's order exactly.
//!
//! With a rate limit the fetch takes about `(requests − burst) / rate`: the limiter is never
//! idle while there is known work. Without one it takes about the critical path (depth plus
//! cursor pages) times the latency, provided the concurrency covers the widest level.
//!
//! A request that finally fails (the client's retry loop already waits out 429s) stops the
//! fetch: nothing new is sent, the requests in flight are awaited and kept, and the result
//! carries the error and the ids whose children are missing ([`PageTree::unexpanded`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::client::{Connection, StatsSnapshot};
use crate::config::NotionVersion;
use crate::error::{Error, Result};
use crate::ids::{BlockId, PageId};
use crate::models::{Block, BlockKind, PageMarkdown};
use crate::pagination::{MAX_PAGE_SIZE, Paging};

/// The default number of requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// A progress callback; called after every response (from the fetching task, so keep it
/// short).
pub type ProgressHook = Arc<dyn Fn(&TreeProgress) + Send + Sync>;

/// Progress of a running fetch, passed to [`TreeOptions::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct TreeProgress {
    /// Blocks fetched so far.
    pub blocks: usize,
    /// List requests made so far (each counted once, whatever its retries).
    pub requests: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Jobs known but not yet sent.
    pub queued: usize,
    /// Time spent waiting for the connection's limiter since the fetch began (every caller
    /// of the connection counts; the requests of this fetch wait in parallel, so this can
    /// exceed the elapsed time).
    pub limiter_wait: Duration,
    /// 429/529 answers received on the connection since the fetch began.
    pub rate_limited: u64,
}

/// How far and how fast [`fetch_tree`] goes.
#[derive(Clone)]
#[non_exhaustive]
pub struct TreeOptions {
    /// Deepest level fetched: 1 = the root's children only. `None`: no cap.
    pub max_depth: Option<usize>,
    /// Most blocks in the result. `None`: no cap.
    pub max_blocks: Option<usize>,
    /// Requests in flight at most (at least 1). Enough to cover `rate × latency` plus the
    /// burst keeps a rate-limited connection busy; more only queues in the limiter. Without a
    /// rate limit, the width of the widest level of the tree is the most that helps.
    pub concurrency: usize,
    /// Descend into `child_page` blocks (separate documents; off by default). Child databases
    /// are never descended into.
    pub include_child_pages: bool,
    /// Called after every response.
    pub progress: Option<ProgressHook>,
}

impl Default for TreeOptions {
    fn default() -> Self {
        Self {
            max_depth: None,
            max_blocks: None,
            concurrency: DEFAULT_CONCURRENCY,
            include_child_pages: false,
            progress: None,
        }
    }
}

impl fmt::Debug for TreeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeOptions")
            .field("max_depth", &self.max_depth)
            .field("max_blocks", &self.max_blocks)
            .field("concurrency", &self.concurrency)
            .field("include_child_pages", &self.include_child_pages)
            .field("progress", &self.progress.as_ref().map(|_| "…"))
            .finish()
    }
}

impl TreeOptions {
    /// No caps, [`DEFAULT_CONCURRENCY`] requests in flight, child pages not descended into.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the depth (1 = the root's children only; `None` removes the cap).
    pub fn max_depth(mut self, depth: impl Into<Option<usize>>) -> Self {
        self.max_depth = depth.into();
        self
    }

    /// Caps the number of blocks (`None` removes the cap).
    pub fn max_blocks(mut self, blocks: impl Into<Option<usize>>) -> Self {
        self.max_blocks = blocks.into();
        self
    }

    /// Sets the number of requests in flight (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Descends into child pages too.
    pub fn include_child_pages(mut self, include: bool) -> Self {
        self.include_child_pages = include;
        self
    }

    /// Sets the progress callback.
    pub fn progress(mut self, hook: impl Fn(&TreeProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(hook));
        self
    }

    /// A concurrency that keeps a limiter of `rate_per_second` busy over round trips of
    /// `latency` without queueing in it for nothing: twice the requests that fit in one round
    /// trip, plus one (at least 2, at most `max`). In-flight capacity is then at least twice
    /// the rate, so the initial burst is spent within a few round trips (an unspent burst is
    /// not lost: the bucket only wastes refills while full), and about one request at a time
    /// waits in the limiter. `None` (no rate limit) gives `max`.
    pub fn concurrency_for(rate_per_second: Option<f64>, latency: Duration, max: usize) -> usize {
        match rate_per_second {
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                let per_round_trip = (2.0 * rate * latency.as_secs_f64()).ceil() as usize;
                (per_round_trip + 1).clamp(2, max.max(2))
            }
            _ => max.max(1),
        }
    }

    fn descends_into(&self, block: &Block) -> bool {
        block.has_children
            && match block.kind {
                BlockKind::ChildPage(_) => self.include_child_pages,
                BlockKind::ChildDatabase(_) => false,
                _ => true,
            }
    }
}

/// Why a fetch stopped before the whole tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum Truncation {
    /// Blocks at the depth cap have children that were not fetched.
    MaxDepth(usize),
    /// The block cap was reached with work left.
    MaxBlocks(usize),
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MaxDepth(d) => write!(f, "depth cap of {d} reached"),
            Self::MaxBlocks(n) => write!(f, "block cap of {n} reached"),
        }
    }
}

/// A fetched block tree: the children of every expanded block, keyed by the parent's id.
///
/// `children` can be borrowed directly (for example by `notion-markdown`'s `ChildSource`).
#[derive(Debug)]
#[non_exhaustive]
pub struct PageTree {
    /// The page or block the fetch started from.
    pub root: BlockId,
    /// The children of every expanded block, in Notion's order, keyed by the parent's id as
    /// Notion sent it in the child's `id` (the root under [`Self::root`]).
    pub children: HashMap<BlockId, Vec<Block>>,
    /// Whether a cap stopped the fetch ([`Self::truncation`] says which).
    pub truncated: bool,
    /// The caps that stopped the fetch (empty unless `truncated`).
    pub truncation: Vec<Truncation>,
    /// Blocks with children whose children are missing or incomplete in this tree (because of
    /// a cap or an error), in document order; the root comes first when it is one of them.
    /// Child pages and child databases that were deliberately not descended into are not
    /// listed.
    pub unexpanded: Vec<BlockId>,
    /// List requests made (each counted once, whatever its retries).
    pub requests: u64,
    /// How the connection's counters moved during the fetch (attempts, retries, 429s, limiter
    /// waits; other callers of the same connection count too).
    pub stats: StatsSnapshot,
    /// The error that stopped the fetch, if any; what was fetched before it is kept.
    pub error: Option<Error>,
}

impl PageTree {
    /// A tree assembled from stored children (a local mirror), cut as [`fetch_tree`] with
    /// `options`' depth and block caps would cut it (document order; no request is made).
    /// `unexpanded` lists blocks whose children were already missing from the store.
    pub fn from_parts(
        root: BlockId,
        children: &HashMap<BlockId, Vec<Block>>,
        unexpanded: &[BlockId],
        options: &TreeOptions,
    ) -> Self {
        let mut out: HashMap<BlockId, Vec<Block>> = HashMap::new();
        let mut missing: Vec<BlockId> = Vec::new();
        let mut truncation: Vec<Truncation> = Vec::new();
        let mut count = 0usize;
        // (parent, depth of its children)
        let mut stack: Vec<(BlockId, usize)> = vec![(root.clone(), 1)];
        while let Some((parent, depth)) = stack.pop() {
            let Some(kids) = children.get(&parent) else {
                continue;
            };
            let room = options
                .max_blocks
                .map_or(kids.len(), |m| m.saturating_sub(count));
            if room < kids.len() {
                if !truncation
                    .iter()
                    .any(|t| matches!(t, Truncation::MaxBlocks(_)))
                {
                    truncation.push(Truncation::MaxBlocks(options.max_blocks.unwrap_or(0)));
                }
                missing.push(parent.clone());
            }
            let taken: Vec<Block> = kids.iter().take(room).cloned().collect();
            count += taken.len();
            let mut next = Vec::new();
            for b in &taken {
                if !options.descends_into(b) {
                    continue;
                }
                if options.max_depth.is_some_and(|d| depth >= d) {
                    if !truncation
                        .iter()
                        .any(|t| matches!(t, Truncation::MaxDepth(_)))
                    {
                        truncation.push(Truncation::MaxDepth(options.max_depth.unwrap_or(0)));
                    }
                    missing.push(b.id.clone());
                } else {
                    next.push((b.id.clone(), depth + 1));
                }
            }
            out.insert(parent, taken);
            stack.extend(next.into_iter().rev());
        }
        for id in unexpanded {
            if !missing.contains(id) {
                missing.push(id.clone());
            }
        }
        Self {
            root,
            children: out,
            truncated: !truncation.is_empty(),
            truncation,
            unexpanded: missing,
            requests: 0,
            stats: StatsSnapshot::default(),
            error: None,
        }
    }

    /// The root's children (empty if they were not fetched).
    pub fn top_level(&self) -> &[Block] {
        self.children_of(&self.root)
    }

    /// The children of a block, or an empty slice when it has none or they were not fetched.
    pub fn children_of(&self, id: &BlockId) -> &[Block] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    /// The children of a block, or `None` when they were not fetched.
    pub fn get(&self, id: &BlockId) -> Option<&[Block]> {
        self.children.get(id).map(Vec::as_slice)
    }

    /// The number of blocks in the tree (the root not counted).
    pub fn len(&self) -> usize {
        self.children.values().map(Vec::len).sum()
    }

    /// Whether the tree holds no block.
    pub fn is_empty(&self) -> bool {
        self.children.values().all(Vec::is_empty)
    }

    /// Whether everything was fetched: no cap stopped it, no error, nothing unexpanded.
    pub fn is_complete(&self) -> bool {
        !self.truncated && self.error.is_none() && self.unexpanded.is_empty()
    }

    /// Every block in document order (depth first, parents before children), with its
    /// depth (1 for the root's children).
    pub fn iter(&self) -> DepthFirst<'_> {
        DepthFirst {
            tree: self,
            stack: vec![self.top_level().iter()],
        }
    }

    /// Turns a tree that ended in an error into that error (dropping the partial result).
    pub fn into_result(mut self) -> Result<Self> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }
}

impl<'a> IntoIterator for &'a PageTree {
    type Item = (usize, &'a Block);
    type IntoIter = DepthFirst<'a>;
    fn into_iter(self) -> DepthFirst<'a> {
        self.iter()
    }
}

/// A depth-first (document order) walk over a [`PageTree`], yielding `(depth, block)`.
#[derive(Debug)]
pub struct DepthFirst<'a> {
    tree: &'a PageTree,
    stack: Vec<std::slice::Iter<'a, Block>>,
}

impl<'a> Iterator for DepthFirst<'a> {
    type Item = (usize, &'a Block);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                Some(block) => {
                    let depth = self.stack.len();
                    if let Some(children) = self.tree.children.get(&block.id) {
                        self.stack.push(children.iter());
                    }
                    return Some((depth, block));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

/// One list request: a page of a block's children.
struct Job {
    parent: BlockId,
    /// The depth of the children this job lists (1 for the root's).
    depth: usize,
    cursor: Option<String>,
}

fn push_once(list: &mut Vec<Truncation>, t: Truncation) {
    if !list.contains(&t) {
        list.push(t);
    }
}

fn stats_delta(now: StatsSnapshot, start: StatsSnapshot) -> StatsSnapshot {
    StatsSnapshot {
        requests: now.requests.saturating_sub(start.requests),
        retries: now.retries.saturating_sub(start.retries),
        rate_limited: now.rate_limited.saturating_sub(start.rate_limited),
        limiter_wait: now.limiter_wait.saturating_sub(start.limiter_wait),
        coalesced: now.coalesced.saturating_sub(start.coalesced),
    }
}

/// Fetches `root` (a page or a block) and its descendants. Never fails as a whole: an error
/// is returned inside the [`PageTree`] with everything fetched before it.
pub async fn fetch_tree(conn: &Connection, root: &BlockId, options: &TreeOptions) -> PageTree {
    let start_stats = conn.stats();
    let concurrency = options.concurrency.max(1);
    let mut children: HashMap<BlockId, Vec<Block>> = HashMap::new();
    let mut incomplete: HashSet<BlockId> = HashSet::new();
    let mut truncation: Vec<Truncation> = Vec::new();
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let (mut fetched, mut reserved, mut requests) = (0usize, 0usize, 0u64);
    let mut error: Option<Error> = None;

    if options.max_depth == Some(0) {
        incomplete.insert(root.clone());
        truncation.push(Truncation::MaxDepth(0));
    } else {
        queue.push_back(Job {
            parent: root.clone(),
            depth: 1,
            cursor: None,
        });
    }

    loop {
        // Fill the free slots. After an error nothing new is sent.
        while error.is_none() && in_flight.len() < concurrency && !queue.is_empty() {
            let room = options
                .max_blocks
                .map_or(MAX_PAGE_SIZE as usize, |cap| {
                    cap.saturating_sub(fetched + reserved)
                })
                .min(MAX_PAGE_SIZE as usize);
            if room == 0 {
                break;
            }
            let Some(job) = queue.pop_front() else { break };
            reserved += room;
            requests += 1;
            let paging = Paging {
                start_cursor: job.cursor.clone(),
                page_size: Some(room as u32),
            };
            in_flight.push(async move {
                let result = conn.blocks().children(&job.parent, &paging).await;
                (job, room, result)
            });
        }

        let Some((job, room, result)) = in_flight.next().await else {
            break;
        };
        reserved -= room;
        match result {
            Ok(mut list) => {
                if list.results.len() > room {
                    // A server that ignored `page_size`: keep no more than the cap allows, and
                    // the rest of this block is missing.
                    list.results.truncate(room);
                    list.has_more = false;
                    incomplete.insert(job.parent.clone());
                    if let Some(cap) = options.max_blocks {
                        push_once(&mut truncation, Truncation::MaxBlocks(cap));
                    }
                }
                fetched += list.results.len();
                if list.has_more {
                    match list.next_cursor.take() {
                        Some(cursor) => queue.push_front(Job {
                            parent: job.parent.clone(),
                            depth: job.depth,
                            cursor: Some(cursor),
                        }),
                        None => {
                            incomplete.insert(job.parent.clone());
                        }
                    }
                }
                for block in &list.results {
                    if !options.descends_into(block) {
                        continue;
                    }
                    if let Some(max) = options.max_depth.filter(|max| job.depth >= *max) {
                        incomplete.insert(block.id.clone());
                        push_once(&mut truncation, Truncation::MaxDepth(max));
                    } else {
                        queue.push_back(Job {
                            parent: block.id.clone(),
                            depth: job.depth + 1,
                            cursor: None,
                        });
                    }
                }
                children.entry(job.parent).or_default().extend(list.results);
            }
            Err(e) => {
                tracing::debug!(parent = %job.parent, error = %e, "listing children failed");
                incomplete.insert(job.parent);
                if error.is_none() {
                    error = Some(e);
                }
            }
        }

        if let Some(hook) = &options.progress {
            let delta = stats_delta(conn.stats(), start_stats);
            hook(&TreeProgress {
                blocks: fetched,
                requests,
                in_flight: in_flight.len(),
                queued: queue.len(),
                limiter_wait: delta.limiter_wait,
                rate_limited: delta.rate_limited,
            });
        }
    }

    // Whatever is still queued was stopped by the error or by the block cap.
    if !queue.is_empty()
        && error.is_none()
        && let Some(cap) = options.max_blocks
    {
        push_once(&mut truncation, Truncation::MaxBlocks(cap));
    }
    for job in queue {
        incomplete.insert(job.parent);
    }

    let mut tree = PageTree {
        root: root.clone(),
        children,
        truncated: !truncation.is_empty(),
        truncation,
        unexpanded: Vec::new(),
        requests,
        stats: stats_delta(conn.stats(), start_stats),
        error,
    };
    if !incomplete.is_empty() {
        let mut ordered = Vec::with_capacity(incomplete.len());
        if incomplete.contains(&tree.root) {
            ordered.push(tree.root.clone());
        }
        ordered.extend(
            tree.iter()
                .filter(|(_, b)| incomplete.contains(&b.id))
                .map(|(_, b)| b.id.clone()),
        );
        tree.unexpanded = ordered;
    }
    tree
}

/// How [`fetch_markdown`] fetches the pieces.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MarkdownOptions {
    /// Requests in flight at most for the unknown blocks' subtrees (at least 1).
    pub concurrency: usize,
    /// Most subtree requests (the page's own request not counted).
    pub max_pieces: usize,
    /// Asks for meeting-note transcripts.
    pub include_transcript: bool,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            max_pieces: 1_000,
            include_transcript: false,
        }
    }
}

impl MarkdownOptions {
    /// The defaults: [`DEFAULT_CONCURRENCY`] in flight, at most 1,000 pieces, no transcripts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of requests in flight (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Caps the number of subtree requests.
    pub fn max_pieces(mut self, max: usize) -> Self {
        self.max_pieces = max;
        self
    }

    /// Asks for meeting-note transcripts.
    pub fn include_transcript(mut self, include: bool) -> Self {
        self.include_transcript = include;
        self
    }
}

/// The Markdown of an unknown block's subtree.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MarkdownPiece {
    /// The unknown block.
    pub id: BlockId,
    /// The page or piece whose `unknown_block_ids` named it.
    pub parent: BlockId,
    /// Notion's answer for it (its own `unknown_block_ids` are fetched as further pieces).
    pub markdown: PageMarkdown,
}

/// A page through Notion's Markdown endpoint, with the subtrees Notion could not render
/// inline fetched as separate pieces.
#[derive(Debug)]
#[non_exhaustive]
pub struct MarkdownPieces {
    /// The page's own answer.
    pub page: PageMarkdown,
    /// The unknown blocks' subtrees, in the order they were named (breadth first).
    pub pieces: Vec<MarkdownPiece>,
    /// Unknown blocks not fetched (because of `max_pieces` or an error), in order.
    pub unfetched: Vec<BlockId>,
    /// Requests made, the page's included.
    pub requests: u64,
    /// The first error on a piece, if any (the page's own error fails the whole call).
    pub error: Option<Error>,
}

impl MarkdownPieces {
    /// Whether every piece was fetched and none was cut by Notion.
    pub fn is_complete(&self) -> bool {
        self.unfetched.is_empty()
            && self.error.is_none()
            && !self.page.truncated
            && self.pieces.iter().all(|p| !p.markdown.truncated)
    }

    /// The piece for an unknown block id.
    pub fn piece(&self, id: &BlockId) -> Option<&MarkdownPiece> {
        self.pieces.iter().find(|p| &p.id == id)
    }
}

/// Whether a `Notion-Version` has the Markdown endpoints (2025-09-03 and later).
pub fn markdown_supported(version: &NotionVersion) -> bool {
    version.has_data_sources()
}

/// Fetches a page through `GET /v1/pages/{id}/markdown` and then, for every id in
/// `unknown_block_ids` (recursively), that block's subtree through the same endpoint, with at
/// most [`MarkdownOptions::concurrency`] requests in flight. Fails without a request when the
/// connection's version lacks the endpoint ([`markdown_supported`]), and otherwise only if the
/// page's own request fails (for example with 400 `invalid_request` where the endpoint is not
/// available); a failing piece ends the fetch with what was fetched and the error.
pub async fn fetch_markdown(
    conn: &Connection,
    page: &PageId,
    options: &MarkdownOptions,
) -> Result<MarkdownPieces> {
    if !markdown_supported(conn.version()) {
        return Err(Error::InvalidRequest(format!(
            "the Markdown endpoints need Notion-Version {} or later; this connection sends {}",
            NotionVersion::V2025_09_03,
            conn.version()
        )));
    }
    let pages = conn.pages();
    let root = pages.markdown(page, options.include_transcript).await?;
    let mut requests = 1u64;
    let mut seen: HashSet<BlockId> = HashSet::new();
    let mut queue: VecDeque<(usize, BlockId, BlockId)> = VecDeque::new();
    let mut order = 0usize;
    let root_id: BlockId = page.cast();
    for id in &root.unknown_block_ids {
        if seen.insert(id.clone()) {
            queue.push_back((order, id.clone(), root_id.clone()));
            order += 1;
        }
    }
    let mut slots: Vec<Option<MarkdownPiece>> = Vec::new();
    let mut unfetched: Vec<(usize, BlockId)> = Vec::new();
    let mut error: Option<Error> = None;
    let mut in_flight = FuturesUnordered::new();
    let mut sent = 0usize;
    let include_transcript = options.include_transcript;
    loop {
        while error.is_none()
            && in_flight.len() < options.concurrency.max(1)
            && sent < options.max_pieces
        {
            let Some((index, id, parent)) = queue.pop_front() else {
                break;
            };
            sent += 1;
            requests += 1;
            in_flight.push(async move {
                let result = pages.markdown(&id.cast(), include_transcript).await;
                (index, id, parent, result)
            });
        }
        let Some((index, id, parent, result)) = in_flight.next().await else {
            break;
        };
        match result {
            Ok(markdown) => {
                for child in &markdown.unknown_block_ids {
                    if seen.insert(child.clone()) {
                        queue.push_back((order, child.clone(), id.clone()));
                        order += 1;
                    }
                }
                if slots.len() <= index {
                    slots.resize_with(index + 1, || None);
                }
                slots[index] = Some(MarkdownPiece {
                    id,
                    parent,
                    markdown,
                });
            }
            Err(e) => {
                unfetched.push((index, id));
                if error.is_none() {
                    error = Some(e);
                }
            }
        }
    }
    unfetched.extend(queue.into_iter().map(|(index, id, _)| (index, id)));
    unfetched.sort_by_key(|(index, _)| *index);
    Ok(MarkdownPieces {
        page: root,
        pieces: slots.into_iter().flatten().collect(),
        unfetched: unfetched.into_iter().map(|(_, id)| id).collect(),
        requests,
        error,
    })
}
