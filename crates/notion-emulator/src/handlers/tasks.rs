//! Async tasks (`GET /v1/async_tasks/{id}`, answered 202 by a Markdown update sent with
//! `allow_async: true`) and custom emojis (`GET /v1/custom_emojis`).
//!
//! The emulator applies an async update at once: a request that fails validation is answered
//! with its error as a synchronous call would be; one that succeeds answers 202 with a `queued`
//! task, and the first poll finds it `succeeded` with the `result` the synchronous call would
//! have returned.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Call, lock, paginate, q_get, query_pairs, respond};
use crate::error::{ApiError, ApiResult};
use crate::pipeline::ReqCtx;
use crate::state::EmulatorHandle;
use crate::util::{new_id, now_millis};

/// Seconds a client is told to wait before polling a queued task.
pub const POLL_AFTER_SECONDS: u64 = 1;

/// Answers 202 with a queued task for an operation already applied (`result`), or the error
/// of a failed one as it is.
pub fn accepted(
    h: &EmulatorHandle,
    ctx: &ReqCtx,
    operation: &str,
    result: ApiResult<Value>,
) -> Response {
    let result = match result {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let id = format!("task_{}", new_id().replace('-', ""));
    let common = json!({
        "object": "async_task",
        "id": id,
        "status_url": format!("{}/v1/async_tasks/{id}", ctx.origin),
        "created_time": now_millis(),
        "operation": { "surface": "rest", "name": operation },
    });
    let mut queued = common.clone();
    queued["status"] = json!("queued");
    queued["poll_after_seconds"] = json!(POLL_AFTER_SECONDS);
    let mut done = common;
    done["status"] = json!("succeeded");
    done["result"] = result;
    lock(&h.0.store).async_tasks.insert(id, done);
    let mut resp = crate::pipeline::ok(queued);
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

/// `GET /v1/async_tasks/{id}`.
pub async fn retrieve(
    State(h): State<EmulatorHandle>,
    Extension(_ctx): Extension<ReqCtx>,
    Path(raw): Path<String>,
) -> Response {
    let s = lock(&h.0.store);
    respond(
        s.async_tasks
            .get(raw.trim())
            .cloned()
            .ok_or_else(|| ApiError::not_found("async_task", raw.trim())),
    )
}

/// `GET /v1/custom_emojis?name=…`: the workspace's custom emojis (`name` matches exactly).
pub async fn custom_emojis(c: Call, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, _ctx| {
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        let name = q_get(&pairs, "name");
        let items: Vec<Value> = s
            .custom_emojis
            .iter()
            .filter(|e| name.is_none_or(|n| e["name"] == json!(n)))
            .cloned()
            .collect();
        let (res, next, more) = paginate(items, q_get(&pairs, "start_cursor"), size)?;
        Ok(json!({
            "object": "list",
            "type": "custom_emoji",
            "results": res,
            "has_more": more,
            "next_cursor": next,
        }))
    })
}
