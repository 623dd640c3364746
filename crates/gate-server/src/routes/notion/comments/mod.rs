//! Comments: list, add (a new discussion or a reply), update, delete.
//!
//! - `GET /api/v1/notion/pages/{id}/comments` ([`list`])
//! - `POST /api/v1/notion/comments` ([`add`])
//! - `PATCH /api/v1/notion/comments/{id}` ([`update`])
//! - `DELETE /api/v1/notion/comments/{id}` ([`delete`])
//!
//! Tests: `crates/gate-server/tests/api/notion.rs` and `tools.rs` (comment actions).

mod add;
mod delete;
mod list;
mod update;

pub use add::*;
pub use delete::*;
pub use list::*;
pub use update::*;

use super::*;

/// The routes of this resource, each registered with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_comments_handler))
        .routes(routes!(add_comment_handler))
        .routes(routes!(update_comment_handler, delete_comment_handler))
}

/// A comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentOut {
    /// The comment id.
    pub id: String,
    /// Its discussion.
    pub discussion_id: Option<String>,
    /// The text (Markdown).
    pub text: String,
    /// When it was created.
    pub created_time: Option<String>,
    /// The author's user id.
    pub created_by: Option<String>,
}

/// Comments with a cursor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentList {
    /// The comments, oldest first.
    pub results: Vec<CommentOut>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

pub(crate) fn comment_out(v: &Value) -> CommentOut {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let text = v
        .get("rich_text")
        .and_then(|rt| {
            serde_json::from_value::<Vec<notion_client::models::RichText>>(rt.clone()).ok()
        })
        .map(|rt| notion_markdown::rich_text_to_markdown(&rt, &RenderOptions::default()))
        .unwrap_or_default();
    CommentOut {
        id: s("id").unwrap_or_default(),
        discussion_id: s("discussion_id"),
        text,
        created_time: s("created_time"),
        created_by: v
            .get("created_by")
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}
