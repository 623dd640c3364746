//! `GET /api/v1/notion/pages/{id}/comments`: comments on a page (or block), one page at a
//! time.

use super::*;

/// Comments on a page (or block), one page at a time.
pub async fn list_comments(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: ListInput,
) -> Result<CommentList, ApiError> {
    let block_id = parse_id("page_id", id, BlockId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get("/v1/comments").query("block_id", block_id.canonical()),
        false,
    )
    .await?;
    let result = async {
        let list = op
            .conn()
            .comments()
            .list(&block_id, &paging(input.cursor.as_deref(), size))
            .await
            .map_err(upstream)?;
        let results = list.results.iter().map(comment_out).collect();
        Ok(CommentList {
            results,
            next_cursor: list.next_cursor,
            has_more: list.has_more,
        })
    }
    .await;
    op.end(result).await
}

/// Comments on a page (or block), one page at a time.
#[utoipa::path(get, path = "/api/v1/notion/pages/{id}/comments", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page or block id"), ListInput),
    responses((status = 200, body = CommentList), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn list_comments_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(input): ApiQuery<ListInput>,
) -> Result<Json<CommentList>, ApiError> {
    list_comments(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}
