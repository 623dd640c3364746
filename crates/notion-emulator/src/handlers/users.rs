//! Users: the token's bot (`/v1/users/me`), list, retrieve.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{lock, paginate, q_get, query_pairs, respond};
use crate::error::ApiError;
use crate::pipeline::ReqCtx;
use crate::state::EmulatorHandle;
use crate::util::path_id;

/// Users appear in lists and lookups with an empty `bot` object, as recorded.
fn listed(u: &Value) -> Value {
    let mut u = u.clone();
    if u["type"] == "bot" {
        u["bot"] = json!({});
    }
    u
}

/// `GET /v1/users/me`.
pub async fn me(State(h): State<EmulatorHandle>, Extension(ctx): Extension<ReqCtx>) -> Response {
    respond((|| {
        let s = lock(&h.0.store);
        s.users
            .iter()
            .find(|u| u["id"] == json!(ctx.bot_id))
            .cloned()
            .ok_or_else(|| ApiError::not_found("user", &ctx.bot_id))
    })())
}

/// `GET /v1/users`.
pub async fn list(
    State(h): State<EmulatorHandle>,
    Extension(_ctx): Extension<ReqCtx>,
    RawQuery(q): RawQuery,
) -> Response {
    respond((|| {
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        let s = lock(&h.0.store);
        let items: Vec<Value> = s.users.iter().map(listed).collect();
        let (res, next, more) = paginate(items, q_get(&pairs, "start_cursor"), size)?;
        Ok(super::list(res, next, more, "user"))
    })())
}

/// `GET /v1/users/{id}`.
pub async fn retrieve(
    State(h): State<EmulatorHandle>,
    Extension(_ctx): Extension<ReqCtx>,
    Path(raw): Path<String>,
) -> Response {
    respond((|| {
        let id = path_id(&raw, "user_id")?;
        let s = lock(&h.0.store);
        s.users
            .iter()
            .find(|u| u["id"] == json!(id))
            .map(listed)
            .ok_or_else(|| ApiError::not_found("user", &id))
    })())
}
