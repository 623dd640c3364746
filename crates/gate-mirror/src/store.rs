//! [`MirrorStore`]: the mirror of one connection under `<data dir>/mirror/<connection id>/`.
//!
//! ```text
//! <data dir>/mirror/<connection id>/
//!   index.sqlite         objects (one row per page or data source: title, url, parents,
//!                        last_edited_time, sync state, the stored page and block tree as
//!                        JSON), fts (FTS5: title, body), meta (watermark, last syncs, errors)
//!   pages/<slug>--<id>.md  one human-readable file per page (front matter + Markdown)
//! ```
//!
//! Every page row is `pending` (listed, content not fetched yet) or `done`; a sync fetches
//! only `pending` rows, so a sync stopped part-way resumes without refetching what is done.
//! A page is written (file, then its row and index entry in one transaction) only once its
//! whole tree was fetched. Calls are blocking (SQLite), short, and serialised by a mutex.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use notion_client::ids::BlockId;
use notion_client::models::{Block, Page};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document;
use crate::error::{MirrorError, Result};

const SCHEMA: &str = r#"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA mmap_size = 268435456;
PRAGMA cache_size = -32768;
CREATE TABLE IF NOT EXISTS objects (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    parents TEXT NOT NULL,
    last_edited_time TEXT NOT NULL,
    listed TEXT NOT NULL,
    doc TEXT,
    file TEXT,
    state TEXT NOT NULL,
    fetched_at INTEGER,
    seen_run INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS objects_state ON objects (state);
CREATE INDEX IF NOT EXISTS objects_edited ON objects (last_edited_time);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_n ON blocks (n);
"#;

/// `meta` key: set once every stored page's blocks are in the `blocks` table (mirrors made
/// before it existed are indexed when opened).
const META_BLOCKS_INDEXED: &str = "blocks_indexed";

/// Notion's `last_edited_time` has minute granularity: a page fetched within the minute of
/// its last edit may have been edited again since with the same timestamp.
pub const EDIT_GRANULARITY_MS: i64 = 60_000;

/// One object found by a listing (a search result).
#[derive(Debug, Clone)]
pub struct Listed {
    /// Dashed id.
    pub id: String,
    /// `page` or `data_source` (`database` on 2022-06-28).
    pub kind: String,
    /// Plain title.
    pub title: String,
    /// Notion URL.
    pub url: Option<String>,
    /// Parents, nearest first (dashed ids).
    pub parents: Vec<String>,
    /// As Notion says it (RFC 3339).
    pub last_edited_time: String,
    /// The search result object, as Notion sent it.
    pub json: Value,
}

/// A mirrored page with its block tree, as fetched.
#[derive(Debug, Clone)]
pub struct MirroredPage {
    /// The page object.
    pub page: Page,
    /// The page's id as a block id (the tree's root).
    pub root: BlockId,
    /// The children of every fetched block, keyed by parent.
    pub children: HashMap<BlockId, Vec<Block>>,
    /// Whether the fetch hit a cap.
    pub truncated: bool,
    /// Blocks whose children are missing.
    pub unexpanded: Vec<BlockId>,
    /// When the content was fetched (RFC 3339, UTC).
    pub mirrored_at: String,
    /// The page's `.md` file.
    pub file: PathBuf,
}

impl MirroredPage {
    /// Blocks in the tree.
    pub fn block_count(&self) -> usize {
        self.children.values().map(Vec::len).sum()
    }
}

/// What is stored in `objects.doc`.
#[derive(Serialize, Deserialize)]
struct Doc {
    page: Page,
    root: BlockId,
    children: Vec<(BlockId, Vec<Block>)>,
    truncated: bool,
    unexpanded: Vec<BlockId>,
}

/// [`Doc`] borrowed, for writing.
#[derive(Serialize)]
struct DocRef<'a> {
    page: &'a Page,
    root: &'a BlockId,
    children: &'a [(BlockId, Vec<Block>)],
    truncated: bool,
    unexpanded: &'a [BlockId],
}

/// Records which page (row `n`) holds each block of its tree: the tree's root, every block
/// with stored children and every listed block.
fn index_blocks<'a>(
    tx: &rusqlite::Transaction<'_>,
    n: i64,
    root: &BlockId,
    children: impl Iterator<Item = (&'a BlockId, &'a Vec<Block>)>,
) -> Result<()> {
    tx.execute("DELETE FROM blocks WHERE n = ?1", [n])?;
    // A page's own tree wins over the `child_page` block naming it in its parent's tree.
    tx.execute(
        "INSERT OR REPLACE INTO blocks (id, n) VALUES (?1, ?2)",
        params![root.canonical(), n],
    )?;
    let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO blocks (id, n) VALUES (?1, ?2)")?;
    for (parent, kids) in children {
        insert.execute(params![parent.canonical(), n])?;
        for b in kids {
            insert.execute(params![b.id.canonical(), n])?;
        }
    }
    Ok(())
}

/// The stored children of one block, for answering `GET /v1/blocks/{id}/children`.
#[derive(Debug, Clone)]
pub struct StoredChildren {
    /// The page whose tree holds the block (dashed id).
    pub page_id: String,
    /// The children as Notion listed them, in order (empty for a block without children).
    pub children: Vec<Block>,
    /// When the page's content was fetched (RFC 3339).
    pub mirrored_at: String,
}

/// One hit of `search_local`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LocalHit)]
pub struct SearchHit {
    /// The page's (or data source's) id.
    pub id: String,
    /// `page` or `data_source`.
    pub object: String,
    /// The title.
    pub title: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// Words around the matches, each match in `**…**`.
    pub snippet: String,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// As Notion said it.
    pub last_edited_time: String,
    /// When the mirror fetched the page's content.
    pub mirrored_at: Option<String>,
    /// Parents, nearest first.
    #[serde(skip)]
    pub parents: Vec<String>,
    /// The index row (for [`MirrorStore::snippets`]).
    #[serde(skip)]
    row: i64,
}

/// A listed object as Notion's search returned it, for answering a title search.
#[derive(Debug, Clone)]
pub struct ListedObject {
    /// Dashed id.
    pub id: String,
    /// The search result object.
    pub json: Value,
    /// Parents, nearest first.
    pub parents: Vec<String>,
}

/// Times and counts of the mirror: when it last synced, then what it holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MirrorStatus {
    /// When the last sync ended (RFC 3339).
    pub last_sync_at: Option<String>,
    /// When the last sync that listed everything (reconciliation) ended.
    pub last_full_sync_at: Option<String>,
    /// Edits after this time (less a margin) are found by the next incremental sync.
    pub watermark: Option<String>,
    /// The last sync's error, if it failed.
    pub last_error: Option<String>,
    /// The newest `last_edited_time` in the mirror.
    pub newest_edit: Option<String>,
    /// Pages with content.
    pub pages: u64,
    /// Pages listed whose content is not fetched yet (or failed).
    pub pending: u64,
    /// Data sources (titles only).
    pub data_sources: u64,
    /// Pages whose last fetch failed.
    pub errors: u64,
}

/// The mirror of one connection.
#[derive(Debug)]
pub struct MirrorStore {
    dir: PathBuf,
    db: Mutex<Connection>,
}

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// RFC 3339 as milliseconds since the epoch.
pub fn parse_ms(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// An FTS5 query from free text: every word must match, the last one as a prefix.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"", w.to_lowercase()))
        .collect();
    let last = words.len().checked_sub(1)?;
    let mut q = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            q.push(' ');
        }
        q.push_str(w);
        if i == last {
            q.push('*');
        }
    }
    Some(q)
}

impl MirrorStore {
    /// Opens (creating if needed) the mirror in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let pages = dir.join("pages");
        std::fs::create_dir_all(&pages).map_err(|e| MirrorError::io(&pages, e))?;
        let db = Connection::open(dir.join("index.sqlite"))?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.execute_batch(SCHEMA)?;
        let store = Self {
            dir,
            db: Mutex::new(db),
        };
        store.index_blocks_once()?;
        Ok(store)
    }

    /// Fills the `blocks` table from the stored trees of a mirror made before it existed.
    fn index_blocks_once(&self) -> Result<()> {
        if self.meta(META_BLOCKS_INDEXED)?.is_some() {
            return Ok(());
        }
        let mut db = self.db();
        let tx = db.transaction()?;
        let docs: Vec<(i64, String)> = {
            let mut stmt = tx.prepare("SELECT n, doc FROM objects WHERE doc IS NOT NULL")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        for (n, doc) in docs {
            let doc: Doc = serde_json::from_str(&doc)?;
            index_blocks(&tx, n, &doc.root, doc.children.iter().map(|(k, v)| (k, v)))?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, '1')",
            [META_BLOCKS_INDEXED],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Opens the mirror in `dir` only if a sync created it.
    pub fn open_existing(dir: impl Into<PathBuf>) -> Result<Option<Self>> {
        let dir = dir.into();
        if !dir.join("index.sqlite").is_file() {
            return Ok(None);
        }
        Self::open(dir).map(Some)
    }

    /// The mirror's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .db()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets (or with `None` removes) a value of the `meta` table.
    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        let db = self.db();
        match value {
            Some(v) => db.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => db.execute("DELETE FROM meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// Records an object seen by the listing of run `run`. Answers whether its content must
    /// be fetched: a page that is new, edited since its fetch, not fetched yet, or fetched
    /// within the minute of its last edit (see [`EDIT_GRANULARITY_MS`]).
    pub fn listed(&self, obj: &Listed, run: i64) -> Result<bool> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let existing: Option<(i64, String, String, Option<i64>)> = tx
            .query_row(
                "SELECT n, last_edited_time, state, fetched_at FROM objects WHERE id = ?1",
                [&obj.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let parents = serde_json::to_string(&obj.parents)?;
        let listed = serde_json::to_string(&obj.json)?;
        let is_page = obj.kind == "page";
        let unchanged = match &existing {
            Some((_, edited, state, fetched)) => {
                let settled = match (parse_ms(&obj.last_edited_time), fetched) {
                    (Some(t), Some(f)) => *f >= t + EDIT_GRANULARITY_MS,
                    _ => false,
                };
                *edited == obj.last_edited_time && (state == "done") && (settled || !is_page)
            }
            None => false,
        };
        if unchanged {
            tx.execute(
                "UPDATE objects SET seen_run = ?2 WHERE id = ?1",
                params![obj.id, run],
            )?;
            tx.commit()?;
            return Ok(false);
        }
        let state = if is_page { "pending" } else { "done" };
        tx.execute(
            "INSERT INTO objects (id, kind, title, url, parents, last_edited_time, listed, state, seen_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title,
               url = excluded.url, parents = excluded.parents,
               last_edited_time = excluded.last_edited_time, listed = excluded.listed,
               state = excluded.state, seen_run = excluded.seen_run",
            params![
                obj.id,
                obj.kind,
                obj.title,
                obj.url,
                parents,
                obj.last_edited_time,
                listed,
                state,
                run
            ],
        )?;
        if !is_page {
            let n: i64 = tx.query_row("SELECT n FROM objects WHERE id = ?1", [&obj.id], |r| {
                r.get(0)
            })?;
            tx.execute("DELETE FROM fts WHERE rowid = ?1", [n])?;
            tx.execute(
                "INSERT INTO fts (rowid, title, body) VALUES (?1, ?2, '')",
                params![n, obj.title],
            )?;
        }
        tx.commit()?;
        Ok(is_page)
    }

    /// Pages listed whose content is still to be fetched: (id, the listed page object).
    pub fn pending(&self) -> Result<Vec<(String, Value)>> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT id, listed FROM objects WHERE state = 'pending' ORDER BY last_edited_time DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, listed) = row?;
            out.push((id, serde_json::from_str(&listed)?));
        }
        Ok(out)
    }

    /// Stores a fetched page: its `.md` file, then its row and index entry.
    pub fn store_page(
        &self,
        page: &Page,
        children: HashMap<BlockId, Vec<Block>>,
        truncated: bool,
        unexpanded: Vec<BlockId>,
        fetched_at_ms: i64,
    ) -> Result<()> {
        let id = page.id.canonical();
        let root = BlockId::parse(page.id.as_str())
            .map_err(|e| MirrorError::Notion(notion_client::Error::from(e)))?;
        let mirrored_at = rfc3339(fetched_at_ms);
        let markdown = document::render_markdown(&root, &children);
        let mut body = document::render_text(&root, &children);
        for (name, text) in notion_markdown::flatten_page_text(page) {
            body.push('\n');
            body.push_str(&name);
            body.push_str(": ");
            body.push_str(&text);
        }
        let title = page.title();
        let file_name = format!(
            "{}--{}.md",
            document::slug(&title),
            document::compact_id(&id).unwrap_or_default()
        );
        let path = self.dir.join("pages").join(&file_name);
        let text = document::page_file(page, &markdown, &mirrored_at);
        let tmp = path.with_extension("md.tmp");
        std::fs::write(&tmp, text.as_bytes()).map_err(|e| MirrorError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| MirrorError::io(&path, e))?;

        let page_json = serde_json::to_value(page)?;
        let parents = serde_json::to_string(&document::parents_of(&page_json))?;
        let children: Vec<(BlockId, Vec<Block>)> = children.into_iter().collect();
        let doc = serde_json::to_string(&DocRef {
            page,
            root: &root,
            children: &children,
            truncated,
            unexpanded: &unexpanded,
        })?;
        let edited = page.last_edited_time.clone().unwrap_or_default();
        let mut db = self.db();
        let tx = db.transaction()?;
        let old_file: Option<Option<String>> = tx
            .query_row("SELECT file FROM objects WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()?;
        tx.execute(
            "INSERT INTO objects (id, kind, title, url, parents, last_edited_time, listed, doc, file,
                                  state, fetched_at, seen_run, error)
             VALUES (?1, 'page', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'done', ?9, 0, NULL)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, url = excluded.url,
               parents = excluded.parents, last_edited_time = excluded.last_edited_time,
               doc = excluded.doc, file = excluded.file, state = 'done',
               fetched_at = excluded.fetched_at, error = NULL",
            params![
                id,
                title,
                page.url,
                parents,
                edited,
                page_json.to_string(),
                doc,
                file_name,
                fetched_at_ms
            ],
        )?;
        let n: i64 = tx.query_row("SELECT n FROM objects WHERE id = ?1", [&id], |r| r.get(0))?;
        tx.execute("DELETE FROM fts WHERE rowid = ?1", [n])?;
        tx.execute(
            "INSERT INTO fts (rowid, title, body) VALUES (?1, ?2, ?3)",
            params![n, title, body],
        )?;
        index_blocks(&tx, n, &root, children.iter().map(|(k, v)| (k, v)))?;
        tx.commit()?;
        drop(db);
        if let Some(Some(old)) = old_file
            && old != file_name
        {
            let _ = std::fs::remove_file(self.dir.join("pages").join(old));
        }
        Ok(())
    }

    /// Records that fetching a page failed (it stays pending).
    pub fn page_failed(&self, id: &str, error: &str) -> Result<()> {
        self.db().execute(
            "UPDATE objects SET error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// Removes objects the listing of run `run` did not see (trashed or unshared); answers
    /// their ids.
    pub fn remove_unseen(&self, run: i64) -> Result<Vec<String>> {
        let ids: Vec<String> = {
            let db = self.db();
            let mut stmt = db.prepare("SELECT id FROM objects WHERE seen_run <> ?1")?;
            stmt.query_map([run], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for id in &ids {
            self.remove(id)?;
        }
        Ok(ids)
    }

    /// Removes one object (its row, index entry and file).
    pub fn remove(&self, id: &str) -> Result<bool> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(false);
        };
        let mut db = self.db();
        let tx = db.transaction()?;
        let row: Option<(i64, Option<String>)> = tx
            .query_row("SELECT n, file FROM objects WHERE id = ?1", [&id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((n, file)) = row else {
            return Ok(false);
        };
        tx.execute("DELETE FROM fts WHERE rowid = ?1", [n])?;
        tx.execute("DELETE FROM objects WHERE n = ?1", [n])?;
        tx.execute("DELETE FROM blocks WHERE n = ?1", [n])?;
        tx.commit()?;
        if let Some(f) = file {
            let _ = std::fs::remove_file(self.dir.join("pages").join(f));
        }
        Ok(true)
    }

    /// A mirrored page with its tree, if its content is in the mirror.
    pub fn page(&self, id: &str) -> Result<Option<MirroredPage>> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(None);
        };
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = self
            .db()
            .query_row(
                "SELECT doc, file, fetched_at FROM objects WHERE id = ?1 AND kind = 'page'",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((Some(doc), file, Some(fetched))) = row else {
            return Ok(None);
        };
        let doc: Doc = serde_json::from_str(&doc)?;
        Ok(Some(MirroredPage {
            page: doc.page,
            root: doc.root,
            children: doc.children.into_iter().collect(),
            truncated: doc.truncated,
            unexpanded: doc.unexpanded,
            mirrored_at: rfc3339(fetched),
            file: self.dir.join("pages").join(file.unwrap_or_default()),
        }))
    }

    /// The parents of an object (nearest first), if the mirror knows it; for a block of a
    /// stored tree, the page holding it.
    pub fn parents(&self, id: &str) -> Result<Option<Vec<String>>> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(None);
        };
        let db = self.db();
        let row: Option<String> = db
            .query_row("SELECT parents FROM objects WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(p) = row {
            return Ok(Some(serde_json::from_str(&p)?));
        }
        // A block of a stored tree: the page holding it (enough for root-page checks).
        let page: Option<String> = db
            .query_row(
                "SELECT o.id FROM blocks b JOIN objects o ON o.n = b.n WHERE b.id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(page.map(|p| vec![p]))
    }

    /// Every ancestor of `id` the mirror knows (nearest first), walking at most `max_depth`
    /// levels; `None` when `id` itself is unknown.
    pub fn ancestors(&self, id: &str, max_depth: usize) -> Result<Option<Vec<String>>> {
        let Some(first) = self.parents(id)? else {
            return Ok(None);
        };
        let mut out: Vec<String> = Vec::new();
        let mut next = first;
        for _ in 0..max_depth {
            let Some(nearest) = next.first().cloned() else {
                break;
            };
            for p in &next {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            match self.parents(&nearest)? {
                Some(p) => next = p,
                None => break,
            }
        }
        Ok(Some(out))
    }

    /// The stored children of block (or page) `id`, if the mirror holds them completely:
    /// `None` for a block it does not know, or whose children it did not fetch (a truncated
    /// tree, an unexpanded block).
    pub fn block_children(&self, id: &str) -> Result<Option<StoredChildren>> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(None);
        };
        let row: Option<(String, Option<String>, Option<i64>)> = self
            .db()
            .query_row(
                "SELECT o.id, o.doc, o.fetched_at FROM blocks b JOIN objects o ON o.n = b.n
                 WHERE b.id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((page_id, Some(doc), Some(fetched))) = row else {
            return Ok(None);
        };
        let doc: Doc = serde_json::from_str(&doc)?;
        if doc.truncated || doc.unexpanded.iter().any(|b| b.canonical() == id) {
            return Ok(None);
        }
        let mut listed_leaf = false;
        for (parent, kids) in doc.children {
            if parent.canonical() == id {
                return Ok(Some(StoredChildren {
                    page_id,
                    children: kids,
                    mirrored_at: rfc3339(fetched),
                }));
            }
            listed_leaf |= kids
                .iter()
                .any(|b| !b.has_children && b.id.canonical() == id);
        }
        // A block without children lists none; one whose children were not fetched (a
        // `child_page` named in its parent's tree, whose own tree is not stored) is unknown.
        Ok(listed_leaf.then(|| StoredChildren {
            page_id,
            children: Vec::new(),
            mirrored_at: rfc3339(fetched),
        }))
    }

    /// Ranked full-text search over titles (weighted ×10) and content: at most `limit` hits,
    /// best first, each with a snippet.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let mut hits = self.search_ranked(text, 0, limit)?;
        self.snippets(text, &mut hits)?;
        Ok(hits)
    }

    /// [`MirrorStore::search`] from the `offset`-th hit on, without snippets: the batches of
    /// a search whose hits are filtered (an agent's root pages) before
    /// [`MirrorStore::snippets`] is asked for those kept.
    ///
    /// Ranking touches only the FTS index (BM25 in a subquery with the limit); the objects'
    /// rows are read for the hits answered only (reading them, with their stored trees, or
    /// computing a snippet for every match costs O(matches)).
    pub fn search_ranked(&self, text: &str, offset: usize, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(q) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT o.n, o.id, o.kind, o.title, o.url, o.last_edited_time, o.fetched_at,
                    o.parents, h.score
             FROM (SELECT rowid AS n, bm25(fts, 10.0, 1.0) AS score FROM fts
                   WHERE fts MATCH ?1 ORDER BY score LIMIT ?2 OFFSET ?3) h
             JOIN objects o ON o.n = h.n
             ORDER BY h.score",
        )?;
        let rows = stmt.query_map(params![q, limit as i64, offset as i64], |r| {
            Ok(SearchHit {
                row: r.get(0)?,
                id: r.get(1)?,
                object: r.get(2)?,
                title: r.get(3)?,
                url: r.get(4)?,
                last_edited_time: r.get(5)?,
                mirrored_at: r.get::<_, Option<i64>>(6)?.map(rfc3339),
                parents: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                snippet: String::new(),
                score: -r.get::<_, f64>(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Fills the snippets of hits of [`MirrorStore::search_ranked`] for the same `text`. FTS5
    /// seeks to the hit's row (the rowid constraint beside the match), so one snippet costs
    /// one document, not the whole match.
    pub fn snippets(&self, text: &str, hits: &mut [SearchHit]) -> Result<()> {
        let Some(q) = fts_query(text) else {
            return Ok(());
        };
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT snippet(fts, -1, '**', '**', '…', 12) FROM fts
             WHERE fts MATCH ?1 AND rowid = ?2",
        )?;
        for hit in hits {
            hit.snippet = stmt
                .query_row(params![q, hit.row], |r| r.get(0))
                .optional()?
                .unwrap_or_default();
        }
        Ok(())
    }

    /// Objects whose title contains `query` (case-insensitive; every object when empty), of
    /// one kind or all, newest edit first, as Notion's search returned them: what a title
    /// search answers from the mirror.
    pub fn titles(
        &self,
        query: &str,
        kind: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ListedObject>> {
        self.titles_sorted(query, kind, false, offset, limit)
    }

    /// [`MirrorStore::titles`], oldest edit first when `ascending` (Notion's search `sort`).
    pub fn titles_sorted(
        &self,
        query: &str,
        kind: Option<&str>,
        ascending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ListedObject>> {
        let db = self.db();
        let pattern = format!(
            "%{}%",
            query
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = db.prepare_cached(if ascending {
            "SELECT id, listed, parents FROM objects
             WHERE lower(title) LIKE ?1 ESCAPE '\\' AND (?2 IS NULL OR kind = ?2)
             ORDER BY last_edited_time, n LIMIT ?3 OFFSET ?4"
        } else {
            "SELECT id, listed, parents FROM objects
             WHERE lower(title) LIKE ?1 ESCAPE '\\' AND (?2 IS NULL OR kind = ?2)
             ORDER BY last_edited_time DESC, n DESC LIMIT ?3 OFFSET ?4"
        })?;
        let rows = stmt.query_map(params![pattern, kind, limit as i64, offset as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, listed, parents) = row?;
            out.push(ListedObject {
                id,
                json: serde_json::from_str(&listed)?,
                parents: serde_json::from_str(&parents)?,
            });
        }
        Ok(out)
    }

    /// The pages whose nearest parent is `parent` (a data source's rows, by its id), as
    /// Notion last listed them, newest edit first (oldest first when `ascending`), and when
    /// the mirror last saw each (RFC 3339).
    pub fn rows_of(&self, parent: &str, ascending: bool) -> Result<Vec<(Value, Option<String>)>> {
        let Some(parent) = document::dashed_id(parent) else {
            return Ok(Vec::new());
        };
        let db = self.db();
        let mut stmt = db.prepare_cached(if ascending {
            "SELECT listed, fetched_at FROM objects
             WHERE kind = 'page' AND json_extract(parents, '$[0]') = ?1
             ORDER BY last_edited_time, n"
        } else {
            "SELECT listed, fetched_at FROM objects
             WHERE kind = 'page' AND json_extract(parents, '$[0]') = ?1
             ORDER BY last_edited_time DESC, n DESC"
        })?;
        let rows = stmt.query_map([&parent], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (listed, fetched) = row?;
            out.push((serde_json::from_str(&listed)?, fetched.map(rfc3339)));
        }
        Ok(out)
    }

    /// The listed object `id` (a page or a data source) as Notion's search returned it.
    pub fn listed_object(&self, id: &str) -> Result<Option<ListedObject>> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(None);
        };
        let row: Option<(String, String)> = self
            .db()
            .query_row(
                "SELECT listed, parents FROM objects WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((listed, parents)) => Some(ListedObject {
                id,
                json: serde_json::from_str(&listed)?,
                parents: serde_json::from_str(&parents)?,
            }),
            None => None,
        })
    }

    /// The data sources whose parent is database `id` (dashed ids).
    pub fn sources_of(&self, database: &str) -> Result<Vec<String>> {
        let Some(database) = document::dashed_id(database) else {
            return Ok(Vec::new());
        };
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT id FROM objects
             WHERE kind <> 'page' AND json_extract(parents, '$[0]') = ?1 ORDER BY n",
        )?;
        let ids = stmt
            .query_map([&database], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Counts and times.
    pub fn status(&self) -> Result<MirrorStatus> {
        let (pages, pending, data_sources, errors, newest) = {
            let db = self.db();
            db.query_row(
                "SELECT
                   COALESCE(SUM(kind = 'page' AND state = 'done'), 0),
                   COALESCE(SUM(kind = 'page' AND state = 'pending'), 0),
                   COALESCE(SUM(kind <> 'page'), 0),
                   COALESCE(SUM(error IS NOT NULL), 0),
                   MAX(last_edited_time)
                 FROM objects",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )?
        };
        let ms = |k: &str| -> Result<Option<String>> {
            Ok(self
                .meta(k)?
                .and_then(|v| v.parse::<i64>().ok())
                .map(rfc3339))
        };
        Ok(MirrorStatus {
            pages: pages as u64,
            pending: pending as u64,
            data_sources: data_sources as u64,
            errors: errors as u64,
            last_sync_at: ms(crate::sync::META_LAST_SYNC)?,
            last_full_sync_at: ms(crate::sync::META_LAST_FULL)?,
            watermark: ms(crate::sync::META_WATERMARK)?,
            last_error: self.meta(crate::sync::META_LAST_ERROR)?,
            newest_edit: newest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_words() {
        assert_eq!(
            fts_query("Hello, wörld").as_deref(),
            Some("\"hello\" \"wörld\"*")
        );
        assert_eq!(fts_query(" -- "), None);
        assert_eq!(
            fts_query("a\"b OR c").as_deref(),
            Some("\"a\" \"b\" \"or\" \"c\"*")
        );
    }

    #[test]
    fn fts5_is_compiled_in() {
        let db = Connection::open_in_memory().expect("open");
        db.execute_batch("CREATE VIRTUAL TABLE t USING fts5 (x)")
            .expect("FTS5 available");
    }

    #[test]
    fn times_round_trip() {
        let ms = 1_700_000_000_000;
        assert_eq!(parse_ms(&rfc3339(ms)), Some(ms));
    }
}
