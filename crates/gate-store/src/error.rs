//! The crate's one error type, [`StoreError`].

use std::path::PathBuf;

use crate::ids::ConnectionId;

/// Everything that can go wrong in `gate-store`.
///
/// Messages never contain secrets: no tokens, no API keys, no key material and no database
/// password (URLs are reported by scheme only).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up (`"user"`, `"agent"`, …).
        what: &'static str,
    },
    /// The change collides with existing state: a duplicate name, or a transition from a
    /// state that no longer allows it (an approval already decided, for example).
    #[error("conflict: {what}")]
    Conflict {
        /// A short, safe description of the collision.
        what: String,
    },
    /// A value given by the caller was rejected before reaching the database.
    #[error("invalid {what}")]
    Invalid {
        /// What was wrong, without echoing secret input.
        what: String,
    },
    /// The database URL has a scheme this crate does not handle.
    #[error(
        "unsupported database URL scheme {scheme:?}: use sqlite://, postgres:// or postgresql://"
    )]
    UnsupportedUrl {
        /// The scheme found (everything before `:`).
        scheme: String,
    },
    /// An error from the database driver.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// An error from the synchronous SQLite connection that commits audit records on the
    /// call path ([`DirectAudit`](crate::DirectAudit)).
    #[error("database error (audit connection): {0}")]
    AuditSqlite(#[source] rusqlite::Error),
    /// Running the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A stored value could not be understood (an unknown enum string, a bad timestamp).
    #[error("stored data is corrupt: {what}")]
    Corrupt {
        /// Which value, and why.
        what: String,
    },
    /// An encryption key was malformed or missing.
    #[error("encryption key error: {reason}")]
    Crypto {
        /// Why the key was refused (never the key itself).
        reason: String,
    },
    /// The key file can be read by the group or by others, so it is refused.
    #[error(
        "key file {} is readable by group or others (mode {mode:o}); run `chmod 600 {}` and restart",
        path.display(),
        path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A stored token could not be decrypted with any configured key. The stored value is
    /// never used in its place: the workspace has to be connected again.
    #[error("stored Notion token cannot be decrypted with the configured keys: reconnect required")]
    ReconnectRequired {
        /// The connection whose token failed, when known.
        connection_id: Option<ConnectionId>,
    },
    /// A file-system error (key file, data folder, export target).
    #[error("I/O error on {what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound { what: "row" };
        }
        if let Some(db) = e.as_database_error() {
            if db.is_unique_violation() {
                return StoreError::Conflict {
                    what: format!(
                        "already exists ({})",
                        db.constraint().unwrap_or("unique constraint")
                    ),
                };
            }
            if db.is_foreign_key_violation() {
                return StoreError::Conflict {
                    what: "refers to a row that does not exist".to_owned(),
                };
            }
        }
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(e)
    }
}

impl StoreError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::Corrupt { what: what.into() }
    }

    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        StoreError::Invalid { what: what.into() }
    }

    pub(crate) fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }

    /// Whether this is [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Whether this is [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Whether this is [`StoreError::ReconnectRequired`].
    pub fn is_reconnect_required(&self) -> bool {
        matches!(self, StoreError::ReconnectRequired { .. })
    }
}
