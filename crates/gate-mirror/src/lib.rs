//! The local mirror of a Notion connection: every page it can see kept as Markdown on disk
//! (one human-readable `.md` per page with a small front matter), a full-text index
//! (SQLite FTS5, BM25 ranking, snippets), and the sync engine that fills and refreshes it
//! through the connection's limiter (tree fetcher, watermark, resumable, reconciliation).
//!
//! - [`MirrorStore`] (`store.rs`): one connection's mirror under
//!   `<data dir>/mirror/<connection id>/`.
//! - [`sync()`](sync::sync) (`sync.rs`): one sync run; [`sync::refresh_pages`] refetches
//!   named pages.
//! - [`RefreshQueue`] (`refresh.rs`): pages and data sources that webhooks named, refreshed
//!   once each after a short debounce.
//! - [`Mirrors`]: the mirrors of a data folder, opened once and shared.
//! - `document.rs`: the `.md` file of a page, and ids and parents.
//!
//! This crate depends on `notion-client`, `notion-markdown` and its index library; never on
//! the gate crates: `gate-core` asks it for mirrored pages after its own governance.

mod document;
mod error;
mod refresh;
mod store;
pub mod sync;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use document::{compact_id, dashed_id, page_file, parent_ids, parents_of, render_markdown};
pub use error::{MirrorError, Result};
pub use refresh::{RefreshQueue, RefreshStats};
pub use store::{
    EDIT_GRANULARITY_MS, ListedObject, MirrorStatus, MirrorStore, MirroredPage, SearchHit,
    StoredChildren, parse_ms, rfc3339,
};
pub use sync::{SyncOptions, SyncProgress, SyncReport, refresh_pages, sync};

/// The mirrors under one data folder (`<data dir>/mirror/<connection id>/`), each opened
/// once and shared.
#[derive(Debug, Clone)]
pub struct Mirrors {
    root: PathBuf,
    open: Arc<Mutex<HashMap<String, Arc<MirrorStore>>>>,
}

/// A connection id as a folder name: letters, digits, `-` and `_` only.
fn folder_name(connection: &str) -> Result<&str> {
    let ok = !connection.is_empty()
        && connection.len() <= 100
        && connection
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(connection)
    } else {
        Err(MirrorError::InvalidConnection(connection.to_owned()))
    }
}

impl Mirrors {
    /// The mirrors of the data folder `data_dir` (in its `mirror/` subfolder).
    pub fn new(data_dir: impl AsRef<Path>) -> Self {
        Self {
            root: data_dir.as_ref().join("mirror"),
            open: Arc::default(),
        }
    }

    /// The `mirror/` folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a connection's mirror.
    pub fn dir(&self, connection: &str) -> Result<PathBuf> {
        Ok(self.root.join(folder_name(connection)?))
    }

    fn cached(&self, connection: &str) -> Option<Arc<MirrorStore>> {
        let map = self.open.lock().unwrap_or_else(|p| p.into_inner());
        map.get(connection).cloned()
    }

    fn insert(&self, connection: &str, store: MirrorStore) -> Arc<MirrorStore> {
        let mut map = self.open.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(connection.to_owned())
            .or_insert_with(|| Arc::new(store))
            .clone()
    }

    /// A connection's mirror, created if needed (for syncing).
    pub fn open(&self, connection: &str) -> Result<Arc<MirrorStore>> {
        if let Some(s) = self.cached(connection) {
            return Ok(s);
        }
        let store = MirrorStore::open(self.dir(connection)?)?;
        Ok(self.insert(connection, store))
    }

    /// A connection's mirror if a sync created it (for reading).
    pub fn get(&self, connection: &str) -> Result<Option<Arc<MirrorStore>>> {
        if let Some(s) = self.cached(connection) {
            return Ok(Some(s));
        }
        match MirrorStore::open_existing(self.dir(connection)?)? {
            Some(store) => Ok(Some(self.insert(connection, store))),
            None => Ok(None),
        }
    }

    /// The connections that have a mirror folder.
    pub fn connections(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join("index.sqlite").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        out.sort();
        out
    }
}
