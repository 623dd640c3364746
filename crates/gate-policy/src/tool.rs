//! The gateway's own tool actions, one enum: [`ToolAction`].
//!
//! The tool endpoint, the MCP catalog, the classification and the generated documentation all
//! match on this enum exhaustively, so an action added here without its class, its
//! description, its params schema or its handler fails to compile. Names are snake_case on the
//! wire (`create_page`); parsing is trimmed and ASCII case-insensitive.

use std::fmt;

use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoEnumIterator, IntoStaticStr};

use crate::class::ActionClass;

/// One action of the single `notion` tool (tool endpoint and MCP).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    IntoStaticStr,
    Serialize,
    Deserialize,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ToolAction {
    /// Search page and database titles.
    Search,
    /// Full-text search of the local mirror (no Notion request).
    SearchLocal,
    /// The databases the connection can see.
    ListDatabases,
    /// A database's rows.
    QueryDatabase,
    /// A database's properties.
    GetSchema,
    /// A page's properties and content as Markdown.
    GetPage,
    /// A page's blocks as Notion JSON.
    GetBlocks,
    /// A page's content as Markdown.
    GetPageMarkdown,
    /// Comments on a page.
    ListComments,
    /// The views of a database.
    ListViews,
    /// A view's rows.
    QueryView,
    /// Create a page.
    CreatePage,
    /// Append Notion blocks.
    AppendBlocks,
    /// Append Markdown.
    AppendMarkdown,
    /// Comment on a page or reply in a discussion.
    AddComment,
    /// Upload a file and attach it to a page.
    UploadFile,
    /// Update a page's properties, icon, cover or trash state.
    UpdatePage,
    /// Replace a comment's text.
    UpdateComment,
    /// Move a page to the trash.
    TrashPage,
    /// Delete a comment.
    DeleteComment,
    /// Follow one of the caller's own held calls.
    GetApproval,
    /// The caller's own held calls.
    ListApprovals,
    /// Take back one of the caller's own pending held calls.
    WithdrawApproval,
}

/// How an action behaves, for clients that show or gate tools by it (MCP annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolHints {
    /// It changes nothing anywhere.
    pub read_only: bool,
    /// It may remove or overwrite something.
    pub destructive: bool,
    /// Repeating it with the same input changes nothing more.
    pub idempotent: bool,
}

impl ToolAction {
    /// Every action, in a stable order (the declaration order).
    pub fn all() -> impl Iterator<Item = ToolAction> {
        ToolAction::iter()
    }

    /// The action's wire name (`create_page`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Parses a name, trimmed and ASCII case-insensitive; `None` when unknown.
    pub fn parse(name: &str) -> Option<ToolAction> {
        let name = name.trim();
        ToolAction::all().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The action's class. `update_page` may become `delete` by its params
    /// ([`crate::classify_tool`]); this is its class without them.
    pub fn class(self) -> ActionClass {
        use ToolAction::*;
        match self {
            Search | SearchLocal | ListDatabases | QueryDatabase | GetSchema | GetPage
            | GetBlocks | GetPageMarkdown | ListComments | ListViews | QueryView => {
                ActionClass::Read
            }
            CreatePage | AppendBlocks | AppendMarkdown | AddComment | UploadFile => {
                ActionClass::Create
            }
            UpdatePage | UpdateComment => ActionClass::Update,
            TrashPage | DeleteComment => ActionClass::Delete,
            // They follow the caller's own held calls and touch no Notion object, so they are
            // read class: offered at every maturity that can read, hence at every maturity
            // whose calls can be held.
            GetApproval | ListApprovals | WithdrawApproval => ActionClass::Read,
        }
    }

    /// Whether the action follows the caller's own held calls (no Notion request; never held
    /// itself).
    pub fn follows_approvals(self) -> bool {
        use ToolAction::*;
        match self {
            GetApproval | ListApprovals | WithdrawApproval => true,
            Search | SearchLocal | ListDatabases | QueryDatabase | GetSchema | GetPage
            | GetBlocks | GetPageMarkdown | ListComments | ListViews | QueryView | CreatePage
            | AppendBlocks | AppendMarkdown | AddComment | UploadFile | UpdatePage
            | UpdateComment | TrashPage | DeleteComment => false,
        }
    }

    /// Whether a new object's parent may be absent (then the target is the workspace).
    pub(crate) fn creates_under_parent(self) -> bool {
        matches!(self, ToolAction::CreatePage | ToolAction::AddComment)
    }

    /// How the action behaves:
    /// - reads: read-only, not destructive, idempotent;
    /// - `update_page` (its `in_trash: true` is the delete class), `update_comment` (replaces
    ///   the text) and the delete class (`trash_page`, `delete_comment`): destructive,
    ///   idempotent (setting the same values or deleting twice changes nothing more);
    /// - other writes (creates, appends, comments, uploads): additive, not idempotent;
    /// - `withdraw_approval` changes the caller's own held call, no Notion object: not
    ///   read-only, not destructive, idempotent.
    pub fn hints(self) -> ToolHints {
        use ToolAction::*;
        let (read_only, destructive, idempotent) = match self {
            Search | SearchLocal | ListDatabases | QueryDatabase | GetSchema | GetPage
            | GetBlocks | GetPageMarkdown | ListComments | ListViews | QueryView | GetApproval
            | ListApprovals => (true, false, true),
            WithdrawApproval => (false, false, true),
            UpdatePage | UpdateComment | TrashPage | DeleteComment => (false, true, true),
            CreatePage | AppendBlocks | AppendMarkdown | AddComment | UploadFile => {
                (false, false, false)
            }
        };
        ToolHints {
            read_only,
            destructive,
            idempotent,
        }
    }
}

impl fmt::Display for ToolAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_parse_loosely() {
        for a in ToolAction::all() {
            assert_eq!(ToolAction::parse(a.name()), Some(a));
            assert_eq!(
                ToolAction::parse(&format!(" {} ", a.name().to_uppercase())),
                Some(a)
            );
            let json = serde_json::to_value(a).unwrap();
            assert_eq!(json, serde_json::Value::String(a.name().to_owned()));
        }
        assert_eq!(ToolAction::parse("nope"), None);
        assert_eq!(ToolAction::CreatePage.name(), "create_page");
        assert_eq!(ToolAction::all().count(), 23);
    }

    #[test]
    fn hints_agree_with_the_class() {
        for a in ToolAction::all() {
            let h = a.hints();
            if h.read_only {
                assert_eq!(a.class(), ActionClass::Read, "{a}");
            }
            if a.class() == ActionClass::Delete {
                assert!(h.destructive, "{a}");
            }
        }
    }
}
