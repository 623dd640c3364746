//! Users: the token's bot (`/v1/users/me`), list, retrieve.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, lock, query_pairs, respond};
use crate::error::ApiError;
use crate::pipeline::ReqCtx;
use crate::state::EmulatorHandle;

/// Users as listed: bots keep their `owner`/`workspace_*` details, as recorded for some bots
/// in `RM/retrieve_users_all.json`.
fn listed(u: &Value) -> Value {
    u.clone()
}

/// `GET /v1/users/me`.
pub async fn me(State(h): State<EmulatorHandle>, Extension(ctx): Extension<ReqCtx>) -> Response {
    let s = lock(&h.0.store);
    let me = s
        .users
        .iter()
        .find(|u| u["id"] == json!(ctx.bot_id))
        .cloned()
        .map(|mut u| {
            if u["bot"]["workspace_limits"].is_object() {
                u["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"] =
                    json!(s.max_file_upload_size);
            }
            u
        })
        .ok_or_else(|| ApiError::not_found("user", &ctx.bot_id));
    respond(me)
}

/// `GET /v1/users`.
pub async fn list(c: Call, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, _ctx| {
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        let items: Vec<Value> = s.users.iter().map(listed).collect();
        super::list_page(items, &pairs, size, "user")
    })
}

/// `GET /v1/users/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "user_id", |s, id, _ctx| {
        s.users
            .iter()
            .find(|u| u["id"] == json!(id))
            .map(listed)
            .ok_or_else(|| ApiError::not_found("user", &id))
    })
}
