//! Comments: parent, discussion, rich text, display name and attachments.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{HostedFile, Parent};
use super::rich_text::{RichText, plain_text};
use super::union::Maybe;
use super::user::User;
use crate::ids::{CommentId, DiscussionId};

/// How a comment's author is shown: `{type: "custom" | "user" | "integration", resolved_name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DisplayName {
    /// `custom`, `user` or `integration`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub name_type: Option<String>,
    /// The name shown.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub resolved_name: Maybe<String>,
    /// Every other field (such as `custom: {name}` in requests), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

notion_object! {
    /// A comment attachment: `{category, file: {url, expiry_time}}`.
    pub struct CommentAttachment {
        /// `audio`, `image`, `pdf`, `productivity` or `video`.
        pub category: Option<String>,
        /// The hosted file.
        pub file: Option<HostedFile>,
    }
}

notion_object! {
    /// A comment.
    ///
    /// `extra`: every other field (`object`, …), kept verbatim.
    pub struct Comment {
        /// The comment ID.
        pub id: CommentId => required,
        /// The page or block commented on.
        pub parent: Option<Parent>,
        /// The discussion thread.
        pub discussion_id: Option<DiscussionId>,
        /// When created (kept as sent).
        pub created_time: Option<String>,
        /// When last edited (kept as sent).
        pub last_edited_time: Option<String>,
        /// The author.
        pub created_by: Option<User>,
        /// The text.
        pub rich_text: Option<Vec<RichText>>,
        /// How the author is shown.
        pub display_name: Option<DisplayName>,
        /// Attachments.
        pub attachments: Option<Vec<CommentAttachment>>,
        /// The request ID (top-level responses).
        pub request_id: Option<String>,
    }
}

impl Comment {
    /// The plain text of the comment.
    pub fn plain_text(&self) -> String {
        self.rich_text
            .as_deref()
            .map(plain_text)
            .unwrap_or_default()
    }
}
