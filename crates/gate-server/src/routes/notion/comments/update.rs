//! `PATCH /api/v1/notion/comments/{id}`: a comment's new text (update class).

use super::*;

/// `PATCH /notion/comments/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentInput {
    /// The comment's new text.
    pub text: String,
}

/// Replaces a comment's text (update class).
pub async fn update_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    text: &str,
) -> Result<CommentOut, ApiError> {
    let comment_id = parse_id("comment_id", id, CommentId::parse)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid_field("text", "must not be empty"));
    }
    let update = UpdateComment::text(text);
    let path = comment_path(&comment_id).map_err(|e| ApiError::internal(&e))?;
    let req = NotionRequest::patch(path, update.body());
    write_comment(gate, caller, surface, req, |conn| async move {
        conn.comments().update(&comment_id, &update).await
    })
    .await
}

/// Replace a comment's text.
#[utoipa::path(patch, path = "/api/v1/notion/comments/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Comment id")),
    request_body = UpdateCommentInput,
    responses((status = 200, body = CommentOut), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateCommentInput>,
) -> Result<Json<CommentOut>, ApiError> {
    update_comment(&st.gate, &caller, Surface::Rest, &id, &input.text)
        .await
        .map(Json)
}
