//! Blocks: retrieve, update, delete, list children, append children.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, q_get, query_pairs};
use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::model::{block_type_of, normalize_children, normalize_content};
use crate::pipeline::JsonBody;
use crate::store::{Position, Store, page_title};
use crate::util::parse_id;

const ARCHIVED_MSG: &str =
    "Can't edit block that is archived. You must unarchive the block before editing.";

/// Renders a block; pages without a block entry (workspace pages, rows) render as `child_page`.
pub(crate) fn render_any_block(s: &Store, id: &str, v: ApiVersion) -> Option<Value> {
    if let Some(b) = s.render_block(id, v) {
        return Some(b);
    }
    let p = s.pages.get(id)?;
    let parent = if p["parent"]["type"] == "data_source_id" {
        json!({ "type": "database_id", "database_id": p["parent"]["database_id"] })
    } else {
        p["parent"].clone()
    };
    let mut b = json!({
        "object": "block",
        "id": id,
        "parent": parent,
        "created_time": p["created_time"],
        "last_edited_time": p["last_edited_time"],
        "created_by": p["created_by"],
        "last_edited_by": p["last_edited_by"],
        "has_children": !s.visible_children(id).is_empty(),
        "archived": p["archived"],
        "in_trash": p["in_trash"],
        "type": "child_page",
        "child_page": { "title": page_title(p) }
    });
    if !v.has_archived() {
        crate::store::strip_archived(&mut b);
    }
    Some(b)
}

/// `GET /v1/blocks/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "block_id", |s, id, ctx| {
        render_any_block(s, &id, ctx.version).ok_or_else(|| ApiError::not_found("block", &id))
    })
}

/// `PATCH /v1/blocks/{id}`.
pub async fn update(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_id(&raw, "block_id", |s, id, ctx| {
        let block = crate::util::get_or_404(&s.blocks, &id, "block")?.clone();
        let trash = super::pages::trash_flag(&b, ctx.version)?;
        let stored_ty = block["type"].as_str().unwrap_or_default().to_string();
        // Accept the version's name of the meeting-notes type.
        let req_ty = block_type_of(&b).filter(|t| t != "in_trash" && t != "archived");
        if let Some(t) = &req_ty {
            let same = t == &stored_ty
                || (stored_ty == "meeting_notes"
                    && t == "transcription"
                    && ctx.version != ApiVersion::V2026_03_11);
            if !same {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.{t} should be not present, instead was `{}`. The block is of type `{stored_ty}`.",
                    crate::util::short_json(&b[t])
                )));
            }
            if block["in_trash"] == json!(true) && trash != Some(false) {
                return Err(ApiError::validation(ARCHIVED_MSG));
            }
            let given = &b[t.as_str()];
            let content = normalize_content(
                &stored_ty,
                given,
                &format!("body.{t}"),
                &*s,
                Some(&block[&stored_ty]),
            )?;
            if let Some(blk) = s.blocks.get_mut(&id) {
                blk[&stored_ty] = content;
            }
        }
        if let Some(t) = trash {
            s.set_trash(&id, t);
        }
        s.touch(&id, &ctx.bot_id);
        render_any_block(s, &id, ctx.version).ok_or_else(|| ApiError::not_found("block", &id))
    })
}

/// `DELETE /v1/blocks/{id}`: moves the block (or page) to the trash.
pub async fn delete(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "block_id", |s, id, ctx| {
        if !s.blocks.contains_key(&id) && !s.pages.contains_key(&id) {
            return Err(ApiError::not_found("block", &id));
        }
        if s.is_trashed(&id) {
            return Err(ApiError::validation(ARCHIVED_MSG));
        }
        s.set_trash(&id, true);
        s.touch(&id, &ctx.bot_id);
        render_any_block(s, &id, ctx.version).ok_or_else(|| ApiError::not_found("block", &id))
    })
}

/// `GET /v1/blocks/{id}/children`.
pub async fn children(c: Call, Path(raw): Path<String>, RawQuery(q): RawQuery) -> Response {
    c.with_id(&raw, "block_id", |s, id, ctx| {
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        if !s.blocks.contains_key(&id) && !s.pages.contains_key(&id) {
            return Err(ApiError::not_found("block", &id));
        }
        let (ids, next, more) =
            s.visible_children_page(&id, q_get(&pairs, "start_cursor"), size)?;
        let res: Vec<Value> = ids
            .iter()
            .filter_map(|c| s.render_block(c, ctx.version))
            .collect();
        Ok(super::list(res, next, more, "block"))
    })
}

fn append_position(s: &Store, b: &Value, v: ApiVersion, parent: &str) -> ApiResult<Position> {
    let after = b.get("after").filter(|a| !a.is_null());
    let position = b.get("position").filter(|p| !p.is_null());
    if let Some(a) = after {
        if v == ApiVersion::V2026_03_11 {
            return Err(ApiError::validation(format!(
                "body failed validation: body.after should be not present, instead was `{a}`."
            )));
        }
        if position.is_some() {
            return Err(ApiError::validation(
                "body failed validation: body.after and body.position should not be present together.",
            ));
        }
        let raw = a.as_str().unwrap_or_default();
        let id = parse_id(raw).ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: body.after should be a valid uuid, instead was `{a}`."
            ))
        })?;
        return check_sibling(s, parent, id);
    }
    let Some(p) = position else {
        return Ok(Position::End);
    };
    match p["type"].as_str() {
        Some("start") => Ok(Position::Start),
        Some("end") => Ok(Position::End),
        Some("after_block") => {
            let id = after_block_id(p)?;
            check_sibling(s, parent, id)
        }
        _ => Err(ApiError::validation(format!(
            "body failed validation: body.position.type should be `start`, `end` or `after_block`, instead was `{}`.",
            p["type"]
        ))),
    }
}

/// The id of `body.position.after_block.id`, or Notion's 400 for a malformed one.
pub(crate) fn after_block_id(position: &Value) -> ApiResult<String> {
    let raw = position["after_block"]["id"].as_str().unwrap_or_default();
    parse_id(raw).ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: body.position.after_block.id should be a valid uuid, instead was `{}`.",
            serde_json::to_string(raw).unwrap_or_default()
        ))
    })
}

fn check_sibling(s: &Store, parent: &str, id: String) -> ApiResult<Position> {
    if s.children.get(parent).is_some_and(|c| c.contains(&id)) {
        Ok(Position::After(id))
    } else if s.blocks.contains_key(&id) {
        Err(ApiError::validation(format!(
            "Block {id} is not a child of block {parent}."
        )))
    } else {
        Err(ApiError::not_found("block", &id))
    }
}

/// Appends normalised children (shared by the HTTP handler and test access). Returns the
/// rendered blocks from the first new one to the end of the parent's list, as Notion does.
pub(crate) fn append_inner(
    s: &mut Store,
    parent: &str,
    children: &Value,
    pos_body: &Value,
    v: ApiVersion,
    by: &str,
) -> ApiResult<(Vec<String>, Vec<Value>)> {
    if !s.blocks.contains_key(parent) && !s.pages.contains_key(parent) {
        return Err(ApiError::not_found("block", parent));
    }
    let pos = append_position(s, pos_body, v, parent)?;
    if s.is_trashed(parent) {
        return Err(ApiError::validation(ARCHIVED_MSG));
    }
    let mut count = 0;
    let blocks = normalize_children(children, "body.children", 1, &mut count, &*s)?;
    let ids = s.insert_blocks(parent, blocks, pos, by)?;
    let visible = s.visible_children(parent);
    let first = ids
        .first()
        .and_then(|f| visible.iter().position(|c| c == f))
        .unwrap_or(visible.len());
    let results: Vec<Value> = visible[first..]
        .iter()
        .take(100)
        .filter_map(|c| s.render_block(c, v))
        .collect();
    Ok((ids, results))
}

/// `PATCH /v1/blocks/{id}/children`.
pub async fn append(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_id(&raw, "block_id", |s, id, ctx| {
        let children = b
            .get("children")
            .ok_or_else(|| ApiError::body_undefined("body.children"))?;
        let (_, results) = append_inner(s, &id, children, &b, ctx.version, &ctx.bot_id)?;
        Ok(super::list(results, None, false, "block"))
    })
}
