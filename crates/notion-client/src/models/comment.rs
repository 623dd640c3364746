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

/// A comment attachment: `{category, file: {url, expiry_time}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CommentAttachment {
    /// `audio`, `image`, `pdf`, `productivity` or `video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The hosted file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<HostedFile>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(CommentAttachment { category, file });

/// A comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Comment {
    /// The comment ID.
    pub id: CommentId,
    /// The page or block commented on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// The discussion thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discussion_id: Option<DiscussionId>,
    /// When created (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// When last edited (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_time: Option<String>,
    /// The author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rich_text: Option<Vec<RichText>>,
    /// How the author is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<CommentAttachment>>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(Comment {
    id: required,
    parent,
    discussion_id,
    created_time,
    last_edited_time,
    created_by,
    rich_text,
    display_name,
    attachments,
    request_id
});

impl Comment {
    /// The plain text of the comment.
    pub fn plain_text(&self) -> String {
        self.rich_text
            .as_deref()
            .map(plain_text)
            .unwrap_or_default()
    }
}
