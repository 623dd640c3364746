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
"#;

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

/// One full-text hit.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Dashed id.
    pub id: String,
    /// `page` or `data_source`.
    pub object: String,
    /// Plain title.
    pub title: String,
    /// Notion URL.
    pub url: Option<String>,
    /// A few words around the matches, matches in `**…**`.
    pub snippet: String,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// As Notion said it.
    pub last_edited_time: String,
    /// When the content was fetched (RFC 3339), for pages.
    pub mirrored_at: Option<String>,
    /// Parents, nearest first.
    #[serde(skip)]
    pub parents: Vec<String>,
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

/// Counts and times of the mirror.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MirrorStatus {
    /// Pages with content.
    pub pages: u64,
    /// Pages listed whose content is not fetched yet (or failed).
    pub pending: u64,
    /// Data sources (titles only).
    pub data_sources: u64,
    /// Pages whose last fetch failed.
    pub errors: u64,
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
        Ok(Self {
            dir,
            db: Mutex::new(db),
        })
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
        let doc = serde_json::to_string(&Doc {
            page: page.clone(),
            root,
            children: children.into_iter().collect(),
            truncated,
            unexpanded,
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

    /// The parents of an object (nearest first), if the mirror knows it.
    pub fn parents(&self, id: &str) -> Result<Option<Vec<String>>> {
        let Some(id) = document::dashed_id(id) else {
            return Ok(None);
        };
        let row: Option<String> = self
            .db()
            .query_row("SELECT parents FROM objects WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(match row {
            Some(p) => Some(serde_json::from_str(&p)?),
            None => None,
        })
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

    /// Ranked full-text search over titles (weighted ×10) and content: at most `limit` hits,
    /// best first, each with a snippet.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(q) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT o.id, o.kind, o.title, o.url, o.last_edited_time, o.fetched_at, o.parents,
                    snippet(fts, -1, '**', '**', '…', 12), bm25(fts, 10.0, 1.0) AS rank
             FROM fts JOIN objects o ON o.n = fts.rowid
             WHERE fts MATCH ?1 ORDER BY rank LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![q, limit as i64], |r| {
            Ok(SearchHit {
                id: r.get(0)?,
                object: r.get(1)?,
                title: r.get(2)?,
                url: r.get(3)?,
                last_edited_time: r.get(4)?,
                mirrored_at: r.get::<_, Option<i64>>(5)?.map(rfc3339),
                parents: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                snippet: r.get(7)?,
                score: -r.get::<_, f64>(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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
        let db = self.db();
        let pattern = format!(
            "%{}%",
            query
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = db.prepare_cached(
            "SELECT id, listed, parents FROM objects
             WHERE lower(title) LIKE ?1 ESCAPE '\\' AND (?2 IS NULL OR kind = ?2)
             ORDER BY last_edited_time DESC, n DESC LIMIT ?3 OFFSET ?4",
        )?;
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
