//! Web console sessions: what is stored of a signed-in browser (never the session token
//! itself, only its SHA-256) and the input to create one.

use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::ids::{ConsoleSessionId, TokenHash, UserId};

/// The longest session the store accepts (30 days).
pub const MAX_CONSOLE_SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A console session as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConsoleSession {
    /// Id (shown in the session list; not the token).
    pub id: ConsoleSessionId,
    /// The signed-in user.
    pub user_id: UserId,
    /// SHA-256 of the user key that signed in: the session acts with that key's rights and
    /// ends when it is revoked.
    pub key_hash: TokenHash,
    /// The browser's `User-Agent`, shortened (informational).
    pub user_agent: Option<String>,
    /// The client address at sign-in (informational).
    pub client_addr: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Last request seen (updated at most about once a minute).
    pub last_seen_at: OffsetDateTime,
    /// When it was ended (sign-out or revocation).
    pub revoked_at: Option<OffsetDateTime>,
}

/// Input for [`Store::create_console_session`](crate::Store::create_console_session).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewConsoleSession {
    /// The user signing in.
    pub user_id: UserId,
    /// SHA-256 of the key they signed in with.
    pub key_hash: TokenHash,
    /// How long it lasts (at most [`MAX_CONSOLE_SESSION_TTL`]).
    pub ttl: Duration,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    /// The client address.
    pub client_addr: Option<String>,
}

impl NewConsoleSession {
    /// A session for `user_id`, signed in with the key whose hash is `key_hash`.
    pub fn new(user_id: UserId, key_hash: TokenHash, ttl: Duration) -> Self {
        Self {
            user_id,
            key_hash,
            ttl,
            user_agent: None,
            client_addr: None,
        }
    }

    /// Records the browser's `User-Agent` (cut to 200 characters).
    pub fn user_agent(mut self, ua: Option<&str>) -> Self {
        self.user_agent = ua.map(|s| s.chars().filter(|c| !c.is_control()).take(200).collect());
        self
    }

    /// Records the client address.
    pub fn client_addr(mut self, addr: Option<String>) -> Self {
        self.client_addr = addr;
        self
    }
}

/// A new session with its token, which exists only here (the store keeps its hash).
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedConsoleSession {
    /// The session token for the cookie (`ngs_…`).
    pub token: SecretString,
    /// The stored session.
    pub info: ConsoleSession,
}
