//! Users: partial users (`{object, id}`), people, bots (with owner and workspace fields), groups.

use super::union::{Extra, Maybe};
use crate::ids::UserId;

notion_object! {
    /// The `person` part of a user: `{email?}`.
    #[derive(Default)]
    pub struct Person {
        /// The e-mail address (with the user-information capability).
        pub email: Option<String>,
    }
}

notion_union! {
    /// Who owns a bot.
    pub enum BotOwnerKind {
        /// `workspace: true`
        Workspace = "workspace" (bool),
        /// `user`: the owning user.
        User = "user" (Box<User>),
    }
}

notion_object! {
    /// A bot's owner: `{type: "workspace", workspace: true}` or `{type: "user", user}`.
    pub struct BotOwner {
        @required
        /// The kind of owner.
        pub kind: BotOwnerKind,
    }
}

notion_object! {
    /// Workspace limits of a bot: `{max_file_upload_size_in_bytes}`.
    pub struct WorkspaceLimits {
        /// The largest file upload allowed.
        pub max_file_upload_size_in_bytes: Option<u64>,
    }
}

notion_object! {
    /// The `bot` part of a user: `{}` or `{owner, workspace_id, workspace_name, workspace_limits}`.
    #[derive(Default)]
    pub struct Bot {
        /// The owner.
        pub owner: Option<BotOwner>,
        /// The workspace ID.
        pub workspace_id: Maybe<String>,
        /// The workspace name.
        pub workspace_name: Maybe<String>,
        /// Workspace limits.
        pub workspace_limits: Option<WorkspaceLimits>,
    }
}

notion_union! {
    /// The kind of a user.
    pub enum UserKind {
        /// `person`
        Person = "person" (Person),
        /// `bot`
        Bot = "bot" (Box<Bot>),
    }
}

notion_object! {
    /// A user, bot or group; partial users (`{object: "user", id}`) have only `id`.
    ///
    /// `extra`: every other field (`object`, `request_id`, …), kept verbatim.
    pub struct User {
        /// The user ID.
        pub id: UserId => required,
        /// The display name.
        pub name: Maybe<String>,
        /// The avatar URL.
        pub avatar_url: Maybe<String>,
        @optional
        /// Person or bot; `None` for a partial user.
        pub kind: UserKind,
    }
}

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
