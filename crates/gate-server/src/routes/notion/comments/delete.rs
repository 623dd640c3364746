//! `DELETE /api/v1/notion/comments/{id}`: a comment deleted (delete class).

use super::*;

/// A deleted comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentDeleted {
    /// The comment id.
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// Deletes a comment (delete class).
pub async fn delete_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
) -> Result<CommentDeleted, ApiError> {
    let comment_id = parse_id("comment_id", id, CommentId::parse)?;
    let path = comment_path(&comment_id).map_err(|e| ApiError::internal(&e))?;
    let op = Op::open_single_write(gate, caller, surface, NotionRequest::delete(path)).await?;
    let result = async {
        op.conn()
            .comments()
            .delete(&comment_id)
            .await
            .map_err(upstream)?;
        Ok(CommentDeleted {
            id: comment_id.canonical(),
            deleted: true,
        })
    }
    .await;
    op.end(result).await
}

/// Delete a comment.
#[utoipa::path(delete, path = "/api/v1/notion/comments/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, body = CommentDeleted), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<CommentDeleted>, ApiError> {
    delete_comment(&st.gate, &caller, Surface::Rest, &id)
        .await
        .map(Json)
}
