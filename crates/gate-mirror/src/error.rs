//! The mirror's one error type.

/// What can go wrong in the mirror.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// The index database failed.
    #[error("mirror index: {0}")]
    Index(#[from] rusqlite::Error),
    /// A file of the mirror could not be read or written.
    #[error("mirror file {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored document could not be decoded (or encoded).
    #[error("mirror document: {0}")]
    Json(#[from] serde_json::Error),
    /// Notion answered an error (or could not be reached) during a sync.
    #[error("notion: {0}")]
    Notion(#[from] notion_client::Error),
    /// There is no mirror for this connection yet.
    #[error("no mirror for connection {0}: run `notion-gate mirror sync` first")]
    NotSynced(String),
    /// A connection id that cannot name a folder.
    #[error("invalid connection id for a mirror folder: {0:?}")]
    InvalidConnection(String),
}

impl MirrorError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The mirror's result type.
pub type Result<T, E = MirrorError> = std::result::Result<T, E>;
