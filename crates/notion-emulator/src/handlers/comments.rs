//! Comments: create (page/block parent or discussion), list by block, retrieve, update, delete.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, q_get, query_pairs};
use crate::error::{ApiError, ApiResult};
use crate::pipeline::JsonBody;
use crate::store::{Store, partial_user};
use crate::util::{new_id, normalize_rich_text, now_minute, parse_id, rt};

/// `POST /v1/comments`.
pub async fn create(c: Call, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        let parent = b.get("parent").filter(|p| !p.is_null());
        let discussion = b.get("discussion_id").filter(|p| !p.is_null());
        let (parent_v, discussion_id) = match (parent, discussion) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "body failed validation: body.parent and body.discussion_id should not be present together.",
                ));
            }
            (None, None) => return Err(ApiError::body_undefined("body.parent")),
            (Some(p), None) => {
                let (key, raw) = if let Some(r) = p.get("page_id").and_then(Value::as_str) {
                    ("page_id", r)
                } else if let Some(r) = p.get("block_id").and_then(Value::as_str) {
                    ("block_id", r)
                } else {
                    return Err(ApiError::body_undefined("body.parent.page_id"));
                };
                let id = parse_id(raw).ok_or_else(|| {
                    ApiError::validation(format!(
                        "body failed validation: body.parent.{key} should be a valid uuid, instead was `\"{raw}\"`."
                    ))
                })?;
                let exists = if key == "page_id" {
                    s.pages.contains_key(&id)
                } else {
                    s.blocks.contains_key(&id)
                };
                if !exists {
                    return Err(ApiError::not_found(
                        if key == "page_id" { "page" } else { "block" },
                        &id,
                    ));
                }
                let mut pv = json!({ "type": key });
                pv[key] = json!(id);
                (pv, new_id())
            }
            (None, Some(d)) => {
                let raw = d.as_str().unwrap_or_default();
                let did = parse_id(raw).ok_or_else(|| {
                    ApiError::validation(format!(
                        "body failed validation: body.discussion_id should be a valid uuid, instead was `\"{raw}\"`."
                    ))
                })?;
                let first = s
                    .comments
                    .iter()
                    .find(|c| c["discussion_id"] == json!(did))
                    .ok_or_else(|| ApiError::not_found("discussion", &did))?;
                (first["parent"].clone(), did)
            }
        };
        let rich = match (b.get("rich_text"), b.get("markdown")) {
            (Some(r), None) => normalize_rich_text(r, "body.rich_text", &*s)?,
            // No Markdown converter yet: the Markdown source becomes one plain text run.
            (None, Some(Value::String(m))) => rt(m),
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "body failed validation: body.rich_text and body.markdown should not be present together.",
                ));
            }
            _ => return Err(ApiError::body_undefined("body.rich_text")),
        };
        let name = s
            .users
            .iter()
            .find(|u| u["id"] == json!(ctx.bot_id))
            .and_then(|u| u["name"].as_str())
            .unwrap_or("Integration")
            .to_string();
        let now = now_minute();
        let c = json!({
            "object": "comment",
            "id": new_id(),
            "parent": parent_v,
            "discussion_id": discussion_id,
            "created_time": now,
            "last_edited_time": now,
            "created_by": partial_user(&ctx.bot_id),
            "rich_text": rich,
            "display_name": { "type": "integration", "resolved_name": name },
        });
        s.comments.push(c.clone());
        Ok(c)
    })
}

/// `GET /v1/comments?block_id=…`.
pub async fn list(c: Call, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, _ctx| {
        let pairs = query_pairs(q.as_deref());
        let raw = q_get(&pairs, "block_id").ok_or_else(|| {
            ApiError::validation("query failed validation: query.block_id should be defined, instead was `undefined`.")
        })?;
        let id = parse_id(raw).ok_or_else(|| {
            ApiError::validation(format!(
                "query failed validation: query.block_id should be a valid uuid, instead was `\"{raw}\"`."
            ))
        })?;
        let size = super::page_size_query(&pairs)?;
        if !s.pages.contains_key(&id) && !s.blocks.contains_key(&id) {
            return Err(ApiError::not_found("block", &id));
        }
        let items: Vec<Value> = s
            .comments
            .iter()
            .filter(|c| c["parent"]["page_id"] == json!(id) || c["parent"]["block_id"] == json!(id))
            .cloned()
            .collect();
        super::list_page(items, &pairs, size, "comment")
    })
}

/// `GET /v1/comments/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "comment_id", |s, id, _ctx| {
        s.comments
            .iter()
            .find(|c| c["id"] == json!(id))
            .cloned()
            .ok_or_else(|| ApiError::not_found("comment", &id))
    })
}

/// `PATCH /v1/comments/{id}`: replaces the text (`rich_text` or `markdown`).
pub async fn update(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_id(&raw, "comment_id", |s, id, _ctx| {
        let pos = comment_pos(s, &id)?;
        let rich = match (b.get("rich_text"), b.get("markdown")) {
            (Some(r), None) => normalize_rich_text(r, "body.rich_text", &*s)?,
            (None, Some(Value::String(m))) => rt(m),
            (None, Some(v)) => {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.markdown should be a string, instead was `{v}`."
                )));
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "body failed validation: body.rich_text and body.markdown should not be present together.",
                ));
            }
            (None, None) => return Err(ApiError::body_undefined("body.rich_text")),
        };
        let c = &mut s.comments[pos];
        c["rich_text"] = rich;
        c["last_edited_time"] = json!(now_minute());
        Ok(c.clone())
    })
}

/// `DELETE /v1/comments/{id}`: removes the comment and answers it.
pub async fn delete(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "comment_id", |s, id, _ctx| {
        let pos = comment_pos(s, &id)?;
        Ok(s.comments.remove(pos))
    })
}

/// Where the comment `id` stands in the store, or Notion's 404.
fn comment_pos(s: &Store, id: &str) -> ApiResult<usize> {
    s.comments
        .iter()
        .position(|c| c["id"] == json!(id))
        .ok_or_else(|| ApiError::not_found("comment", id))
}
