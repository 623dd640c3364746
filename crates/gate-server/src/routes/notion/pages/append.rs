//! `POST /api/v1/notion/pages/{id}/blocks`: Markdown or blocks appended to a page (or
//! block), split into requests within Notion's limits; a failure part-way reports what was
//! written.

use super::*;

/// Where appended blocks go: `"start"`, `"end"` or `{"after_block": id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PositionInput {
    /// `"start"` or `"end"`.
    Named(#[schema(inline)] NamedPosition),
    /// After this child block.
    After {
        /// The block to append after.
        after_block: String,
    },
}

/// `"start"` or `"end"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NamedPosition {
    /// Before the first child.
    Start,
    /// After the last child.
    End,
}

/// `POST /notion/pages/{id}/blocks`: exactly one of `markdown` and `blocks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendInput {
    /// Markdown to append.
    pub markdown: Option<String>,
    /// Notion blocks to append (nested children allowed at any depth).
    #[schema(value_type = Option<Vec<Object>>)]
    pub blocks: Option<Vec<Value>>,
    /// Where (default: the end).
    #[schema(inline)]
    pub position: Option<PositionInput>,
}

/// What an append wrote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Appended {
    /// The new top-level blocks, in order.
    pub block_ids: Vec<String>,
    /// Blocks written at every level.
    pub written: usize,
    /// Notion requests it took.
    pub requests: usize,
}

/// Appends Markdown or blocks to a page (or block), split into requests within Notion's
/// limits; a failure part-way reports what was written.
pub async fn append_blocks(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: AppendInput,
) -> Result<Appended, ApiError> {
    let block_id = parse_id("page_id", id, BlockId::parse)?;
    if input.markdown.is_none() && input.blocks.is_none() {
        return Err(ApiError::invalid_field(
            "markdown",
            "give `markdown` or `blocks` to append",
        ));
    }
    let position = match &input.position {
        None | Some(PositionInput::Named(NamedPosition::End)) => None,
        Some(PositionInput::Named(NamedPosition::Start)) => Some(Position::Start),
        Some(PositionInput::After { after_block }) => Some(Position::AfterBlock(parse_id(
            "position.after_block",
            after_block,
            BlockId::parse,
        )?)),
    };
    let plan = plan_content(input.markdown.as_deref(), input.blocks.as_deref())?;
    let Some(first) = plan.steps.first() else {
        return Err(ApiError::invalid_field(
            "markdown",
            "there is nothing to append",
        ));
    };
    let first_append = append_at(&first.children, position.clone());
    let path = format!("/v1/blocks/{}/children", block_id.canonical());
    let first_req = NotionRequest::patch(&path, first_append.body(false));
    let op = Op::open(gate, caller, surface, first_req.clone(), true).await?;
    if op.session.awaiting_approval() {
        if plan.steps.len() > 1 {
            return Err(op.session.refuse_multi(plan.steps.len()).await.into());
        }
        return Err(op.session.hold(first_req).await.into());
    }
    let result = match run_plan(&op, &plan, block_id, position, None).await {
        Ok((block_ids, written)) => Ok(Appended {
            block_ids,
            written,
            requests: plan.steps.len(),
        }),
        Err((error, block_ids, written)) => Err(WriteFail::Partial {
            error,
            block_ids,
            written,
            page_id: None,
        }),
    };
    op.end_write(result).await
}

/// Append Markdown or blocks to a page.
#[utoipa::path(post, path = "/api/v1/notion/pages/{id}/blocks", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page or block id")),
    request_body = AppendInput,
    responses((status = 200, body = Appended), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404),
              (status = 502, description = "Failed; `details.written` and `details.block_ids` say what was written")))]
pub async fn append_blocks_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AppendInput>,
) -> Result<Json<Appended>, ApiError> {
    append_blocks(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}
