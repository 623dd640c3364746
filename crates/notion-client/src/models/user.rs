//! Users: partial users (`{object, id}`), people, bots (with owner and workspace fields), groups.

use serde::Serialize;
use serde_json::{Map, Value};

use super::union::{Extra, Maybe};
use crate::ids::UserId;

/// The `person` part of a user: `{email?}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct Person {
    /// The e-mail address (with the user-information capability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(Person { email });

notion_union! {
    /// Who owns a bot.
    pub enum BotOwnerKind {
        /// `workspace: true`
        Workspace = "workspace" (bool),
        /// `user`: the owning user.
        User = "user" (Box<User>),
    }
}

/// A bot's owner: `{type: "workspace", workspace: true}` or `{type: "user", user}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BotOwner {
    /// The kind of owner.
    #[serde(flatten)]
    pub kind: BotOwnerKind,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<BotOwnerKind>,
}

de_object!(BotOwner {} kind: required BotOwnerKind);

/// Workspace limits of a bot: `{max_file_upload_size_in_bytes}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WorkspaceLimits {
    /// The largest file upload allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_upload_size_in_bytes: Option<u64>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(WorkspaceLimits {
    max_file_upload_size_in_bytes
});

/// The `bot` part of a user: `{}` or `{owner, workspace_id, workspace_name, workspace_limits}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct Bot {
    /// The owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<BotOwner>,
    /// The workspace ID.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub workspace_id: Maybe<String>,
    /// The workspace name.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub workspace_name: Maybe<String>,
    /// Workspace limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_limits: Option<WorkspaceLimits>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

de_object!(Bot {
    owner,
    workspace_id,
    workspace_name,
    workspace_limits
});

notion_union! {
    /// The kind of a user.
    pub enum UserKind {
        /// `person`
        Person = "person" (Person),
        /// `bot`
        Bot = "bot" (Box<Bot>),
    }
}

/// A user, bot or group; partial users (`{object: "user", id}`) have only `id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct User {
    /// The user ID.
    pub id: UserId,
    /// The display name.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub name: Maybe<String>,
    /// The avatar URL.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub avatar_url: Maybe<String>,
    /// Person or bot; `None` for a partial user.
    #[serde(flatten)]
    pub kind: Option<UserKind>,
    /// Every other field (`object`, `request_id`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Extra<UserKind>,
}

de_object!(User { id: required, name, avatar_url } kind: optional UserKind);

impl User {
    /// A partial user for requests: `{id}`.
    pub fn partial(id: UserId) -> Self {
        Self {
            id,
            name: Maybe::Absent,
            avatar_url: Maybe::Absent,
            kind: None,
            extra: Extra::default(),
        }
    }

    /// Whether this is a bot.
    pub fn is_bot(&self) -> bool {
        matches!(self.kind, Some(UserKind::Bot(_)))
    }

    /// The e-mail address of a person, if shared.
    pub fn email(&self) -> Option<&str> {
        match &self.kind {
            Some(UserKind::Person(p)) => p.email.as_deref(),
            _ => None,
        }
    }
}
