//! `POST /api/v1/notion/comments`: a comment on a page (a new discussion) or a reply in a
//! discussion.

use super::*;

/// Where a new comment goes: a page (a new discussion) or an existing discussion (a reply).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The page to comment on (starts a discussion). Give this or `discussion_id`.
    pub page_id: Option<String>,
    /// The discussion to reply in (the `discussion_id` of a listed comment).
    pub discussion_id: Option<String>,
    /// The comment's text.
    pub text: String,
}

/// Adds a comment to a page (a new discussion) or replies in a discussion.
pub async fn add_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: CommentInput,
) -> Result<CommentOut, ApiError> {
    if input.text.trim().is_empty() {
        return Err(ApiError::invalid_field("text", "must not be empty"));
    }
    let target = match (input.page_id.as_deref(), input.discussion_id.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "discussion_id",
                "give `page_id` or `discussion_id`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "page_id",
                "give `page_id` (a new discussion) or `discussion_id` (a reply)",
            ));
        }
        (Some(id), None) => CommentTarget::Parent(CommentParent::PageId(parse_id(
            "page_id",
            id,
            PageId::parse,
        )?)),
        (None, Some(id)) => {
            CommentTarget::Discussion(parse_id("discussion_id", id, DiscussionId::parse)?)
        }
    };
    let create = CreateComment::new(target, &input.text);
    let req = NotionRequest::post("/v1/comments", create.body());
    write_comment(gate, caller, surface, req, |conn| async move {
        conn.comments().create(&create).await
    })
    .await
}

/// Comment on a page (a new discussion) or reply in a discussion.
#[utoipa::path(post, path = "/api/v1/notion/comments", tag = "notion",
    security(("bearer" = [])), request_body = CommentInput,
    responses((status = 200, body = CommentOut), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn add_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Json<CommentOut>, ApiError> {
    add_comment(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}
