//! Comments: list, add (a new discussion or a reply), update, delete.
//!
//! - `GET /api/v1/notion/pages/{id}/comments` ([`list`])
//! - `POST /api/v1/notion/comments` ([`add`])
//! - `PATCH /api/v1/notion/comments/{id}` ([`update`])
//! - `DELETE /api/v1/notion/comments/{id}` ([`delete`])
//!
//! Tests: `tests.rs` (with views over REST), `super::tests` (every endpoint by maturity, bad
//! input) and `routes/tools/tests/endpoint.rs` (comment actions).

mod add;
mod delete;
mod list;
mod update;

pub use add::*;
pub use delete::*;
pub use list::*;
pub use update::*;

use std::future::Future;

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

/// The answer for a comment as Notion returned it.
pub(crate) fn comment_out(c: &Comment) -> CommentOut {
    CommentOut {
        id: c.id.as_str().to_owned(),
        discussion_id: c.discussion_id.as_ref().map(|d| d.as_str().to_owned()),
        text: c
            .rich_text
            .as_deref()
            .map(|rt| notion_markdown::rich_text_to_markdown(rt, &RenderOptions::default()))
            .unwrap_or_default(),
        created_time: c.created_time.clone(),
        created_by: c.created_by.as_ref().map(|u| u.id.as_str().to_owned()),
    }
}

/// Runs a comment write that is one Notion request: `req` is the typed builder's body, held
/// as it is when the caller's writes wait for a human; otherwise `send` sends the builder.
async fn write_comment<Fut>(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    req: NotionRequest,
    send: impl FnOnce(Connection) -> Fut,
) -> Result<CommentOut, ApiError>
where
    Fut: Future<Output = Result<Comment, notion_client::Error>>,
{
    let op = Op::open_single_write(gate, caller, surface, req).await?;
    let result = send(op.conn().clone()).await;
    op.end(result.map(|c| comment_out(&c)).map_err(upstream))
        .await
}

#[cfg(test)]
mod tests;
