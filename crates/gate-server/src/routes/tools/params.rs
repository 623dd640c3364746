//! The params of each action of the `notion` tool: the ones it shares with a REST route are
//! that route's input (`input_struct!` field lists), the others are declared here. Each
//! refuses unknown fields, so a misspelt param is a 400 naming it.

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::routes::notion::{AttachAs, ParentInput, PositionInput, input_struct};

input_struct! { query:
    /// `query_database`.
    pub struct QueryParams {
        /// Database or data source id.
        pub database_id: String,
    }
}

/// `get_schema`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaParams {
    /// Database or data source id.
    pub database_id: String,
}

/// `get_page`, `get_blocks`, `get_page_markdown`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// The page id.
    pub page_id: String,
    /// Levels of nested blocks, 1–64 (default: all).
    pub depth: Option<usize>,
    /// Blocks at most, 1–10000 (default 1000).
    pub max_blocks: Option<usize>,
}

input_struct! { create_page:
    /// `create_page`.
    pub struct CreateParams {
        /// Where: `{page_id}`, `{database_id}` or `{data_source_id}` (or give `database_id`).
        #[schema(inline)]
        pub parent: Option<ParentInput>,
        /// Shorthand for `parent: {database_id}` (the original's parameter).
        pub database_id: Option<String>,
    }
}

input_struct! { update_page:
    /// `update_page`.
    pub struct UpdateParams {
        /// The page id.
        pub page_id: String,
    }
}

/// `append_blocks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendBlocksParams {
    /// The page (or block) id.
    pub page_id: String,
    /// Notion blocks.
    #[schema(value_type = Vec<Object>)]
    pub blocks: Vec<Value>,
    /// `"start"`, `"end"` or `{"after_block": id}`.
    #[schema(inline)]
    pub position: Option<PositionInput>,
}

/// `append_markdown`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendMarkdownParams {
    /// The page (or block) id.
    pub page_id: String,
    /// Markdown to append.
    pub markdown: String,
    /// `"start"`, `"end"` or `{"after_block": id}`.
    #[schema(inline)]
    pub position: Option<PositionInput>,
}

/// `trash_page`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrashParams {
    /// The page id.
    pub page_id: String,
}

/// `upload_file`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadFileParams {
    /// The page to attach the file to.
    pub page_id: String,
    /// A public `https://` URL that Notion imports. Give this or `content`.
    pub url: Option<String>,
    /// The file's bytes as base64, at most 1 MiB decoded.
    pub content: Option<String>,
    /// The file name with its extension (default: the URL's last segment).
    pub filename: Option<String>,
    /// The MIME type.
    pub content_type: Option<String>,
    /// `file` (default), `image`, `video`, `audio`, `pdf`, `property`, `icon` or `cover`.
    #[schema(inline)]
    pub attach_as: Option<AttachAs>,
    /// The files property to set (with `attach_as: "property"`).
    pub property: Option<String>,
}

/// `update_comment`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentParams {
    /// The comment id.
    pub comment_id: String,
    /// The comment's new text.
    pub text: String,
}

/// `delete_comment`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteCommentParams {
    /// The comment id.
    pub comment_id: String,
}

/// `query_view`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryViewParams {
    /// The view id (from `list_views`).
    pub view_id: String,
    /// Cursor of a previous answer.
    pub cursor: Option<String>,
    /// Rows, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// `list_comments`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCommentsParams {
    /// The page (or block) id.
    pub page_id: String,
    /// Cursor of a previous answer.
    pub cursor: Option<String>,
    /// Comments, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// `get_approval`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetApprovalParams {
    /// The `approval_id` of a held call of yours.
    pub approval_id: String,
    /// Seconds (0–60) to wait for it to become final; the answer comes as soon as it is.
    #[schema(minimum = 0, maximum = 60)]
    pub wait: Option<u32>,
}

/// `list_approvals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListApprovalsParams {
    /// Only this status: `pending`, `approved`, `executing`, `executed`, `failed`, `denied`,
    /// `expired` or `withdrawn` (default: all).
    pub status: Option<String>,
    /// At most this many, newest first (1–100, default 20).
    pub limit: Option<u32>,
}

/// `withdraw_approval`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawApprovalParams {
    /// The `approval_id` of a pending held call of yours.
    pub approval_id: String,
}
