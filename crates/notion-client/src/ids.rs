//! Typed Notion object IDs: 32 hex digits, dashes optional, validated before any request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a Notion ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {value:?}: expected 32 hex digits, with or without dashes (8-4-4-4-12)")]
pub struct InvalidId {
    /// The kind of ID that was expected, such as `page`.
    pub kind: &'static str,
    /// The rejected input, shortened to 64 characters.
    pub value: String,
}

/// The 16 bytes of a Notion ID: 32 hex digits, plain or dashed 8-4-4-4-12, any case.
///
/// Only those two forms: `uuid` would also take the braced and `urn:uuid:` forms, which
/// Notion never sends and a path must not carry. Nothing is allocated.
fn uuid_of(input: &str) -> Option<uuid::Uuid> {
    match input.len() {
        32 | 36 => uuid::Uuid::try_parse(input).ok(),
        _ => None,
    }
}

/// The IDs [`is_uuid`] accepts, as a regular expression (for OpenAPI `pattern`s): 32 hex
/// digits, or the dashed 8-4-4-4-12 form, in either case.
pub const ID_PATTERN: &str = "^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$";

/// Whether `input` is a Notion ID (see [`canonical_uuid`]), without allocating.
pub fn is_uuid(input: &str) -> bool {
    uuid_of(input).is_some()
}

/// Checks the 32-hex form (`0123…`) or the dashed 8-4-4-4-12 form, case-insensitively, and
/// returns the canonical dashed lower-case form.
pub fn canonical_uuid(input: &str) -> Option<String> {
    uuid_of(input).map(|u| {
        let mut buf = uuid::Uuid::encode_buffer();
        u.hyphenated().encode_lower(&mut buf).to_owned()
    })
}

macro_rules! notion_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        ///
        /// Parsing accepts 32 hex digits with or without dashes and stores the canonical dashed
        /// lower-case form. Deserializing a response keeps the string exactly as Notion sent it
        /// (after the same validation), so that a round trip loses nothing.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises an ID; anything but 32 hex digits (dashes optional) is refused.
            pub fn parse(input: &str) -> Result<Self, InvalidId> {
                canonical_uuid(input.trim()).map(Self).ok_or_else(|| InvalidId {
                    kind: $kind,
                    value: input.chars().take(64).collect(),
                })
            }

            /// The ID as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The canonical dashed lower-case form.
            pub fn canonical(&self) -> String {
                canonical_uuid(&self.0).unwrap_or_else(|| self.0.clone())
            }

            /// The 32-hex form without dashes, as used in Notion URLs.
            pub fn simple(&self) -> String {
                self.canonical().replace('-', "")
            }

            /// Reinterprets this ID as another kind (a page ID is also a block ID, for example).
            pub fn cast<T: From<String>>(&self) -> T {
                T::from(self.0.clone())
            }
        }

        impl From<String> for $name {
            /// Wraps a string without validation; prefer [`Self::parse`] for user input.
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidId;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                if !is_uuid(&raw) {
                    return Err(serde::de::Error::custom(format!(
                        "invalid {} id {:?}: expected 32 hex digits",
                        $kind, raw
                    )));
                }
                Ok(Self(raw))
            }
        }

        /// A plain model field: always serialized.
        impl $crate::models::object::Omit for $name {}
    };
}

notion_id!(
    /// The ID of a page (also usable as a block ID for content endpoints).
    PageId,
    "page"
);
notion_id!(
    /// The ID of a block.
    BlockId,
    "block"
);
notion_id!(
    /// The ID of a database container.
    DatabaseId,
    "database"
);
notion_id!(
    /// The ID of a data source (2025-09-03 and later).
    DataSourceId,
    "data_source"
);
notion_id!(
    /// The ID of a user or bot.
    UserId,
    "user"
);
notion_id!(
    /// The ID of a comment.
    CommentId,
    "comment"
);
notion_id!(
    /// The ID of a discussion thread of comments.
    DiscussionId,
    "discussion"
);
notion_id!(
    /// The ID of a workspace.
    WorkspaceId,
    "workspace"
);
notion_id!(
    /// The ID of a file upload.
    FileUploadId,
    "file_upload"
);
notion_id!(
    /// The ID of a database view (2025-09-03 and later).
    ViewId,
    "view"
);
notion_id!(
    /// The ID of a view query (a view's results, kept by Notion for a while).
    ViewQueryId,
    "view_query"
);
notion_id!(
    /// The ID of a custom emoji.
    CustomEmojiId,
    "custom_emoji"
);
notion_id!(
    /// Any Notion object ID whose kind is not known statically.
    ObjectId,
    "object"
);

/// The ID of an async task (`task_…`): not a UUID, so it is checked as a safe path segment
/// (ASCII letters, digits, `_` and `-`, at most 128 characters) before it reaches the network.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AsyncTaskId(String);

impl AsyncTaskId {
    /// Parses a task ID; anything but a safe path segment is refused.
    pub fn parse(input: &str) -> Result<Self, InvalidId> {
        let t = input.trim();
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(InvalidId {
                kind: "async_task",
                value: input.chars().take(64).collect(),
            })
        }
    }

    /// The ID as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for AsyncTaskId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for AsyncTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsyncTaskId({})", self.0)
    }
}

impl fmt::Display for AsyncTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A property ID: a short opaque string such as `title` or `%7CyVi`, or a property name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PropertyId(pub String);

impl PropertyId {
    /// The property ID or name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PropertyId({})", self.0)
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PropertyId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`ID_PATTERN`] accepts exactly what parsing accepts.
    #[test]
    fn the_id_pattern_agrees_with_parsing() {
        let pattern = regex::Regex::new(ID_PATTERN).unwrap();
        let inputs = [
            "59833787-2cf9-4fdf-8782-e53db20768a5",
            "598337872cf94fdf8782e53db20768a5",
            "59833787-2CF9-4FDF-8782-E53DB20768A5",
            "598337872CF94FDF8782E53DB20768A5",
            "{59833787-2cf9-4fdf-8782-e53db20768a5}",
            "urn:uuid:59833787-2cf9-4fdf-8782-e53db20768a5",
            "59833787-2cf9-4fdf-8782-e53db20768a",
            "598337872cf94fdf8782e53db20768a",
            "598337872cf94fdf8782e53db20768a55",
            "59833787-2cf94-fdf-8782-e53db20768a5",
            "598337872-cf9-4fdf-8782-e53db20768a5",
            "59833787_2cf9_4fdf_8782_e53db20768a5",
            "59833787-2cf9-4fdf-8782-e53db20768ag",
            "598337872cf94fdf8782e53db20768g5",
            " 598337872cf94fdf8782e53db20768a5",
            "598337872cf94fdf8782e53db20768a5\n",
            "",
        ];
        for input in inputs {
            assert_eq!(pattern.is_match(input), is_uuid(input), "{input:?}");
        }
    }

    #[test]
    fn accepts_both_forms_and_normalises() {
        let a = PageId::parse("59833787-2CF9-4FDF-8782-E53DB20768A5").unwrap();
        let b = PageId::parse("598337872cf94fdf8782e53db20768a5").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "59833787-2cf9-4fdf-8782-e53db20768a5");
        assert_eq!(a.simple(), "598337872cf94fdf8782e53db20768a5");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "AAA",
            "598337872cf94fdf8782e53db20768a",
            "598337872cf94fdf8782e53db20768a5a",
            "59833787-2cf94fdf-8782-e53db20768a5-",
            "5983378-72cf9-4fdf-8782-e53db20768a5",
            "g98337872cf94fdf8782e53db20768a5",
            "../../v1/users",
            "59833787-2cf9-4fdf-8782-e53db20768a5/../x",
            // Forms other UUID parsers take, which Notion never sends.
            "{59833787-2cf9-4fdf-8782-e53db20768a5}",
            "urn:uuid:59833787-2cf9-4fdf-8782-e53db20768a5",
            "59833787_2cf9_4fdf_8782_e53db20768a5",
            " 598337872cf94fdf8782e53db20768a5 x",
        ] {
            assert!(!is_uuid(bad), "{bad}");
            let err = PageId::parse(bad).unwrap_err();
            assert_eq!(err.kind, "page", "{bad}");
        }
    }

    #[test]
    fn deserialize_keeps_verbatim_but_validates() {
        let id: BlockId = serde_json::from_str("\"598337872cf94fdf8782e53db20768a5\"").unwrap();
        assert_eq!(id.as_str(), "598337872cf94fdf8782e53db20768a5");
        assert_eq!(id.canonical(), "59833787-2cf9-4fdf-8782-e53db20768a5");
        assert!(serde_json::from_str::<BlockId>("\"nope\"").is_err());
        let braced = "\"{59833787-2cf9-4fdf-8782-e53db20768a5}\"";
        assert!(serde_json::from_str::<BlockId>(braced).is_err());
    }
}
