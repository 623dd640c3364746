//! Typed row ids, the SHA-256 [`TokenHash`] used for API keys and OAuth states, and small
//! hashing and time helpers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::{Result, StoreError};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh id: a UUIDv7, time-ordered and monotonic within the process, so that
            /// rows made in the same millisecond still sort in creation order
            /// (`ORDER BY created_at, id`).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            /// Parses the hyphenated form stored in the database.
            pub(crate) fn parse_stored(s: &str) -> Result<Self> {
                s.parse().map_err(|_| StoreError::corrupt(format!("{} id {s:?}", $what)))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            fn from_str(s: &str) -> Result<Self> {
                uuid::Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| StoreError::invalid(format!("{} id", $what)))
            }
        }
    };
}

uuid_id!(
    /// Id of a user.
    UserId,
    "user"
);
uuid_id!(
    /// Id of an agent.
    AgentId,
    "agent"
);
uuid_id!(
    /// Id of a Notion connection (one workspace bot for one user).
    ConnectionId,
    "connection"
);
uuid_id!(
    /// Id of an API key (not the key itself).
    ApiKeyId,
    "api key"
);
uuid_id!(
    /// Id of an approval request.
    ApprovalId,
    "approval"
);
uuid_id!(
    /// Id of a web console session (not its token).
    ConsoleSessionId,
    "console session"
);
uuid_id!(
    /// Id of an audit intent: the durable "about to send" record of a write, completed by the
    /// call's audit record (which names it).
    IntentId,
    "intent"
);
uuid_id!(
    /// Id of one webhook delivery (one approval event for one configured hook).
    WebhookDeliveryId,
    "webhook delivery"
);

/// Id of an audit event: a monotonic integer assigned by the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditEventId(pub i64);

impl fmt::Display for AuditEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Lowercase hex SHA-256 of a high-entropy secret (an API key or an OAuth `state`).
///
/// The secrets are random 256-bit values, so a fast unsalted hash is the right tool: it
/// cannot be brute-forced and it allows lookup by hash. Equality is constant-time (`subtle`).
#[derive(Clone, Debug)]
pub struct TokenHash(String);

impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with the constant-time `eq`: equal digests hash alike.
        self.0.hash(state);
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for TokenHash {}

impl TokenHash {
    /// Hashes a secret.
    pub fn of(secret: &str) -> Self {
        Self(sha256_hex(secret.as_bytes()))
    }

    /// Wraps a hash that is already lowercase hex (64 characters).
    pub fn from_hex(hex: &str) -> Result<Self> {
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(hex.to_owned()))
        } else {
            Err(StoreError::invalid(
                "token hash (want 64 lowercase hex digits)",
            ))
        }
    }

    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// UTC milliseconds since the Unix epoch: how every time is stored.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_ms`].
pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::corrupt(format!("timestamp {ms}")))
}

/// The current time truncated to milliseconds, the storage precision.
pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    from_ms(to_ms(t)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_hash() {
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(TokenHash::from_hex("xyz").is_err());
    }

    #[test]
    fn token_hashes_compare_by_every_byte() {
        assert_eq!(TokenHash::of("abc"), TokenHash::of("abc"));
        assert_ne!(TokenHash::of("abc"), TokenHash::of("abd"));
        let h = TokenHash::of("abc");
        let mut last = h.as_str().to_owned();
        let flipped = if last.ends_with('0') { "1" } else { "0" };
        last.replace_range(63.., flipped);
        assert_ne!(h, TokenHash::from_hex(&last).unwrap());
    }

    #[test]
    fn ms_round_trip() {
        let t = now();
        assert_eq!(from_ms(to_ms(t)).ok(), Some(t));
    }

    #[test]
    fn ids_parse_and_print() {
        let id = AgentId::new();
        let back: AgentId = id.to_string().parse().expect("parses");
        assert_eq!(id, back);
        assert!("nope".parse::<UserId>().is_err());
    }

    #[test]
    fn ids_made_one_after_another_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| ApprovalId::new().to_string()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
