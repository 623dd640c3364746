//! The Markdown endpoints: `GET` and `PATCH /v1/pages/{id}/markdown`, and the `markdown`
//! body of page creation. Rendering and parsing go through `notion-markdown` on JSON blocks
//! (the emulator's storage stays `serde_json::Value`).
//!
//! A `PATCH` edits the page's Markdown as text (insert, replace a range, search and replace,
//! replace everything) and rebuilds the page body from the result: blocks are re-created,
//! except child pages and child databases, which are kept when their link line
//! (`[title](https://www.notion.so/<id>)`) is still in the new Markdown. An edit that would
//! delete one answers 400 unless `allow_deleting_content` is true.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use notion_markdown::{RenderOptions, parse_markdown_json, render_json};
use serde_json::{Value, json};

use super::{Call, lock, q_get, query_pairs, respond};
use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::model::{NewBlock, block_type_of, normalize_children};
use crate::pipeline::{JsonBody, ReqCtx};
use crate::state::EmulatorHandle;
use crate::store::{Position, Store};
use crate::util::path_id;

/// Whether the version has the Markdown endpoints (2025-09-03 and later).
fn supported(v: ApiVersion) -> bool {
    v != ApiVersion::V2022_06_28
}

/// Renders the visible children of `id` (a page or a block) as Notion's `page_markdown`.
fn page_markdown(s: &Store, id: &str, v: ApiVersion, limit: usize, transcript: bool) -> Value {
    let render = |cid: &str| super::blocks::render_any_block(s, cid, v).unwrap_or(Value::Null);
    let top: Vec<Value> = s.visible_children(id).iter().map(|c| render(c)).collect();
    let children = |parent: &str| -> Vec<Value> {
        s.visible_children(parent)
            .iter()
            .map(|c| render(c))
            .collect()
    };
    let opts = RenderOptions::default()
        .empty_paragraphs(true)
        .include_transcript(transcript)
        .max_blocks(limit);
    let r = render_json(&top, &children, &opts);
    let unknown: Vec<String> = r.unknown_block_ids.iter().map(|b| b.to_string()).collect();
    json!({
        "object": "page_markdown",
        "id": id,
        "markdown": r.markdown,
        "truncated": r.truncated,
        "unknown_block_ids": unknown,
    })
}

fn check_target(s: &Store, id: &str) -> ApiResult<()> {
    if s.pages.contains_key(id) || s.blocks.contains_key(id) {
        if s.is_trashed(id) {
            return Err(ApiError::validation(
                "Can't edit block that is archived. You must unarchive the block before editing.",
            ));
        }
        Ok(())
    } else {
        Err(ApiError::not_found("page", id))
    }
}

/// `GET /v1/pages/{id}/markdown`.
pub async fn retrieve(c: Call, Path(raw): Path<String>, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, ctx| {
        if !supported(ctx.version) {
            return Err(ApiError::invalid_request_url());
        }
        let id = path_id(&raw, "page_id")?;
        let pairs = query_pairs(q.as_deref());
        let transcript = q_get(&pairs, "include_transcript") == Some("true");
        if !s.pages.contains_key(&id) && !s.blocks.contains_key(&id) {
            return Err(ApiError::not_found("page", &id));
        }
        Ok(page_markdown(
            s,
            &id,
            ctx.version,
            c.h.0.markdown_block_limit,
            transcript,
        ))
    })
}

/// `PATCH /v1/pages/{id}/markdown`.
pub async fn update(
    State(h): State<EmulatorHandle>,
    Extension(ctx): Extension<ReqCtx>,
    Path(raw): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let allow_async = b.get("allow_async").and_then(Value::as_bool) == Some(true);
    let result = update_inner(&h, &ctx, &raw, &b);
    if allow_async && supported(ctx.version) {
        // Applied at once; the task answers its outcome on the first poll.
        return super::tasks::accepted(&h, &ctx, "PATCH /v1/pages/:page_id/markdown", result);
    }
    respond(result)
}

fn update_inner(h: &EmulatorHandle, ctx: &ReqCtx, raw: &str, b: &Value) -> ApiResult<Value> {
    (|| {
        if !supported(ctx.version) {
            return Err(ApiError::invalid_request_url());
        }
        let id = path_id(raw, "page_id")?;
        let mut s = lock(&h.0.store);
        check_target(&s, &id)?;
        let limit = h.0.markdown_block_limit;
        let current = page_markdown(&s, &id, ctx.version, usize::MAX, true);
        let current = current["markdown"].as_str().unwrap_or_default().to_string();
        let ty = b.get("type").and_then(Value::as_str).ok_or_else(|| {
            ApiError::validation(
                "body failed validation: body.type should be one of `insert_content`, `replace_content_range`, `update_content`, `replace_content`, instead was `undefined`.",
            )
        })?;
        let op = b.get(ty).cloned().unwrap_or(Value::Null);
        if !op.is_object() {
            return Err(ApiError::body_undefined(&format!("body.{ty}")));
        }
        let allow_delete = op
            .get("allow_deleting_content")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let new_md = match ty {
            "insert_content" => insert_content(&current, &op)?,
            "replace_content_range" => replace_range(&current, &op)?,
            "update_content" => update_content(&current, &op)?,
            "replace_content" => {
                str_field(&op, "new_str", "body.replace_content.new_str")?.to_string()
            }
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.type should be one of `insert_content`, `replace_content_range`, `update_content`, `replace_content`, instead was `{}`.",
                    serde_json::to_string(other).unwrap_or_default()
                )));
            }
        };
        rebuild(&mut s, &id, &new_md, allow_delete, &ctx.bot_id)?;
        Ok(page_markdown(&s, &id, ctx.version, limit, false))
    })()
}

fn str_field<'a>(op: &'a Value, key: &str, path: &str) -> ApiResult<&'a str> {
    match op.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ApiError::validation(format!(
            "body failed validation: {path} should be a string, instead was `{}`.",
            crate::util::short_json(other)
        ))),
        None => Err(ApiError::body_undefined(path)),
    }
}

/// Finds a selection `"start...end"` (or a plain text) in the Markdown: the byte range from
/// the start of `start` to the end of the first `end` after it.
fn find_selection(md: &str, selection: &str, path: &str) -> ApiResult<(usize, usize)> {
    let not_found = || {
        ApiError::validation(format!(
            "body failed validation: {path} does not match any content of the page: `{}`.",
            serde_json::to_string(selection).unwrap_or_default()
        ))
    };
    match selection.split_once("...") {
        Some((start, end)) => {
            let s = md.find(start).ok_or_else(not_found)?;
            let after = s + start.len();
            let e = md[after..].find(end).ok_or_else(not_found)? + after + end.len();
            Ok((s, e))
        }
        None => {
            let s = md.find(selection).ok_or_else(not_found)?;
            Ok((s, s + selection.len()))
        }
    }
}

fn insert_content(md: &str, op: &Value) -> ApiResult<String> {
    let content = str_field(op, "content", "body.insert_content.content")?;
    let after = op.get("after").and_then(Value::as_str);
    let position = op
        .get("position")
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str);
    if after.is_some() && position.is_some() {
        return Err(ApiError::validation(
            "body failed validation: body.insert_content.after and body.insert_content.position should not be present together.",
        ));
    }
    let body = md.trim_end();
    Ok(match (after, position) {
        (Some(sel), _) => {
            let (_, end) = find_selection(body, sel, "body.insert_content.after")?;
            let eol = body[end..].find('\n').map_or(body.len(), |i| end + i);
            format!("{}\n{}{}", &body[..eol], content.trim_end(), &body[eol..])
        }
        (None, Some("start")) => format!("{}\n\n{body}", content.trim_end()),
        (None, Some("end") | None) => {
            if body.is_empty() {
                content.to_string()
            } else {
                format!("{body}\n\n{content}")
            }
        }
        (None, Some(other)) => {
            return Err(ApiError::validation(format!(
                "body failed validation: body.insert_content.position.type should be `start` or `end`, instead was `{}`.",
                serde_json::to_string(other).unwrap_or_default()
            )));
        }
    })
}

fn replace_range(md: &str, op: &Value) -> ApiResult<String> {
    let content = str_field(op, "content", "body.replace_content_range.content")?;
    let range = str_field(
        op,
        "content_range",
        "body.replace_content_range.content_range",
    )?;
    let (s, e) = find_selection(md, range, "body.replace_content_range.content_range")?;
    Ok(format!("{}{}{}", &md[..s], content, &md[e..]))
}

fn update_content(md: &str, op: &Value) -> ApiResult<String> {
    let updates = op
        .get("content_updates")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::body_undefined("body.update_content.content_updates"))?;
    let mut md = md.to_string();
    for (i, u) in updates.iter().enumerate() {
        let path = format!("body.update_content.content_updates[{i}]");
        let old = str_field(u, "old_str", &format!("{path}.old_str"))?;
        let new = str_field(u, "new_str", &format!("{path}.new_str"))?;
        let all = u
            .get("replace_all_matches")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let n = if old.is_empty() {
            0
        } else {
            md.matches(old).count()
        };
        if n == 0 {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.old_str does not match any content of the page."
            )));
        }
        if n > 1 && !all {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.old_str matches {n} times; set replace_all_matches to replace every match."
            )));
        }
        md = if all {
            md.replace(old, new)
        } else {
            md.replacen(old, new, 1)
        };
    }
    Ok(md)
}

/// The 32-hex id of a paragraph that is exactly one link to `https://www.notion.so/<id>`.
fn notion_link_id(block: &Value) -> Option<String> {
    if block.get("type").and_then(Value::as_str) != Some("paragraph") {
        return None;
    }
    let rt = block["paragraph"]["rich_text"].as_array()?;
    if rt.len() != 1 {
        return None;
    }
    let url = rt[0]["text"]["link"]["url"].as_str()?;
    crate::util::parse_id(url.strip_prefix("https://www.notion.so/")?)
}

/// Converts request-form JSON blocks (children nested at any depth) into normalised blocks,
/// validating each block but not the per-request limits (the API applies those to the
/// Markdown body as a whole).
pub(crate) fn normalize_tree(values: &[Value], s: &Store) -> ApiResult<Vec<NewBlock>> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let ty = block_type_of(v).unwrap_or_default();
        let mut bare = v.clone();
        let kids = bare
            .get_mut(&ty)
            .and_then(Value::as_object_mut)
            .and_then(|c| c.remove("children"));
        let mut count = 0;
        let mut one = normalize_children(&json!([bare]), "body.markdown", 1, &mut count, s)?;
        let Some(mut block) = one.pop() else { continue };
        if let Some(Value::Array(kids)) = kids {
            block.children = normalize_tree(&kids, s)?;
        }
        out.push(block);
    }
    Ok(out)
}

/// The validated blocks of a Markdown text (for page creation).
pub(crate) fn markdown_blocks(md: &str, s: &Store) -> ApiResult<Vec<NewBlock>> {
    normalize_tree(&parse_markdown_json(md), s)
}

/// Replaces the body of `id` with the blocks of `md`, keeping child pages and databases whose
/// link survives.
fn rebuild(s: &mut Store, id: &str, md: &str, allow_delete: bool, by: &str) -> ApiResult<()> {
    let old = s.visible_children(id);
    let is_container = |s: &Store, c: &str| {
        matches!(
            s.blocks.get(c).and_then(|b| b["type"].as_str()),
            Some("child_page" | "child_database")
        ) || (s.pages.contains_key(c) && !s.blocks.contains_key(c))
    };
    let containers: Vec<String> = old.iter().filter(|c| is_container(s, c)).cloned().collect();
    let drafts = parse_markdown_json(md);
    let kept: Vec<String> = drafts
        .iter()
        .filter_map(notion_link_id)
        .filter(|c| containers.contains(c))
        .collect();
    let deleted: Vec<&String> = containers.iter().filter(|c| !kept.contains(c)).collect();
    if !deleted.is_empty() && !allow_delete {
        return Err(ApiError::validation(format!(
            "This edit would delete {} child page(s) or database(s) ({}). Set allow_deleting_content to true to allow it.",
            deleted.len(),
            deleted
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Validate everything before changing anything.
    let mut plan: Vec<Result<String, NewBlock>> = Vec::new();
    for d in &drafts {
        match notion_link_id(d).filter(|c| kept.contains(c)) {
            Some(c) => plan.push(Ok(c)),
            None => {
                let mut blocks = normalize_tree(std::slice::from_ref(d), s)?;
                if let Some(b) = blocks.pop() {
                    plan.push(Err(b));
                }
            }
        }
    }
    for c in &old {
        if !kept.contains(c) {
            s.set_trash(c, true);
        }
    }
    if let Some(list) = s.children.get_mut(id) {
        list.retain(|c| !kept.contains(c));
    }
    for item in plan {
        match item {
            Ok(c) => {
                s.children.entry(id.to_string()).or_default().push(c);
            }
            Err(b) => {
                s.insert_blocks(id, vec![b], Position::End, by)?;
            }
        }
    }
    s.touch(id, by);
    Ok(())
}
