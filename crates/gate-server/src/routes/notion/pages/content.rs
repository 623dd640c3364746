//! Content to write: Notion blocks (JSON) or Markdown as a write plan within Notion's limits,
//! and the executor that runs a plan (shared by create and append).

use super::*;

// ---- writes -------------------------------------------------------------------------------

/// Notion blocks (JSON, children nested at any depth) as drafts the planner can split.
pub(crate) fn drafts_from_json(blocks: &[Value], field: &str) -> Result<Vec<BlockDraft>, ApiError> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, b)| draft_from_json(b, &format!("{field}[{i}]"), 0))
        .collect()
}

pub(crate) fn draft_from_json(
    v: &Value,
    field: &str,
    depth: usize,
) -> Result<BlockDraft, ApiError> {
    if depth > 32 {
        return Err(ApiError::invalid_field(field, "blocks nest too deeply"));
    }
    let Some(obj) = v.as_object() else {
        return Err(ApiError::invalid_field(
            field,
            "must be a Notion block object",
        ));
    };
    let ty = match obj.get("type").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None => {
            let keys: Vec<&String> = obj.keys().filter(|k| k.as_str() != "object").collect();
            match keys.as_slice() {
                [k] => (*k).clone(),
                _ => {
                    return Err(ApiError::invalid_field(
                        field,
                        "a block needs `type` and its content object (e.g. {\"type\": \"paragraph\", \"paragraph\": {…}})",
                    ));
                }
            }
        }
    };
    let mut block = obj.clone();
    block.insert("type".into(), Value::String(ty.clone()));
    let kids = block
        .get_mut(&ty)
        .and_then(Value::as_object_mut)
        .and_then(|c| c.remove("children"));
    let children = match kids {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, c)| draft_from_json(c, &format!("{field}.children[{i}]"), depth + 1))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_field(
                field,
                "`children` must be an array",
            ));
        }
    };
    let block: NewBlock = serde_json::from_value(Value::Object(block))
        .map_err(|e| ApiError::invalid_field(field, format!("not a valid `{ty}` block: {e}")))?;
    Ok(BlockDraft { block, children })
}

/// The write plan of Markdown or blocks (exactly one may be given).
pub(crate) fn plan_content(
    markdown: Option<&str>,
    blocks: Option<&[Value]>,
) -> Result<WritePlan, ApiError> {
    let drafts = match (markdown, blocks) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "blocks",
                "give either `markdown` or `blocks`, not both",
            ));
        }
        (Some(md), None) => notion_markdown::parse_markdown(md),
        (None, Some(b)) => drafts_from_json(b, "blocks")?,
        (None, None) => Vec::new(),
    };
    let count: usize = drafts.iter().map(BlockDraft::count).sum();
    if count > MAX_WRITE_BLOCKS {
        return Err(ApiError::invalid_field(
            if markdown.is_some() {
                "markdown"
            } else {
                "blocks"
            },
            format!("{count} blocks; one write takes at most {MAX_WRITE_BLOCKS}"),
        ));
    }
    Ok(plan_writes(drafts, &Limits::default()))
}

/// An append of `children` at `position` (the end when `None`).
pub(crate) fn append_at(children: &[NewBlock], position: Option<Position>) -> AppendChildren {
    let append = AppendChildren::new(children);
    match position {
        Some(p) => append.position(p),
        None => append,
    }
}

/// Runs the steps of `plan` after `skip` steps already done (whose created ids are given),
/// appending under `root`; the first root-level append goes at `position`, later ones follow
/// the blocks written before them. Answers the top-level ids written and the blocks written,
/// or the error with what was written before it.
pub(crate) async fn run_plan(
    op: &Op,
    plan: &WritePlan,
    root: BlockId,
    position: Option<Position>,
    done: Option<Vec<Block>>,
) -> Result<(Vec<String>, usize), (GateError, Vec<String>, usize)> {
    let done = Arc::new(Mutex::new(done));
    let after: Arc<Mutex<Option<Position>>> = Arc::new(Mutex::new(position));
    let result = notion_markdown::execute_plan(plan, root.clone(), |parent, children| {
        let done = Arc::clone(&done);
        let after = Arc::clone(&after);
        let is_root = parent == root;
        async move {
            if let Some(blocks) = done.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Ok::<_, AppendError>(blocks);
            }
            let pos = if is_root {
                let st = after.lock().unwrap_or_else(|p| p.into_inner());
                st.clone()
            } else {
                None
            };
            let append = append_at(children.as_slice(), pos);
            let answer = op
                .conn()
                .blocks()
                .append(&parent, &append)
                .await
                .map_err(AppendError)?;
            if is_root {
                let mut st = after.lock().unwrap_or_else(|p| p.into_inner());
                let last = answer.results.get(children.len().saturating_sub(1));
                // Later root-level appends go right after these blocks, unless appending at
                // the end anyway.
                if !matches!(*st, None | Some(Position::End))
                    && let Some(b) = last
                {
                    *st = Some(Position::AfterBlock(b.id.clone()));
                }
            }
            Ok(answer.results)
        }
    })
    .await;
    match result {
        Ok(report) => Ok((
            transform::block_ids(&report.top_level),
            report.blocks_written,
        )),
        Err(partial) => {
            let e = match &partial.error {
                notion_markdown::ExecuteError::Append(AppendError(e)) => {
                    GovernedSession::map_error(e)
                }
                other => GateError::Upstream {
                    status: None,
                    code: None,
                    message: other.to_string(),
                    request_id: None,
                    write_state: notion_client::WriteState::Unknown,
                },
            };
            Err((
                e,
                transform::block_ids(&partial.top_level),
                partial.blocks_written,
            ))
        }
    }
}

/// A client error as a `std::error::Error` for the plan executor.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct AppendError(notion_client::Error);

/// The error answer of a write that stopped part-way.
pub(crate) fn partial_error(e: GateError, block_ids: Vec<String>, written: usize) -> ApiError {
    let step_state = match &e {
        GateError::Upstream { write_state, .. } => {
            serde_json::to_value(write_state).unwrap_or(Value::Null)
        }
        _ => json!("not_applied"),
    };
    let mut err = ApiError::from(e).detail("written", written);
    if written > 0 {
        err.message = format!(
            "{} ({written} blocks were written before the failure; see details.block_ids)",
            err.message
        );
        err = err
            .detail("write_state", "partial")
            .detail("failed_request_write_state", step_state);
    }
    err.detail("block_ids", block_ids)
}
