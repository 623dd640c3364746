//! `POST /v1/search`: title search over pages and data sources (databases on 2022-06-28).

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::{cursor_body, lock, page_size_body, paginate, respond};
use crate::error::{ApiError, ApiResult};
use crate::pipeline::{JsonBody, ReqCtx};
use crate::state::EmulatorHandle;
use crate::store::page_title;
use crate::util::plain_text;

/// `POST /v1/search`.
pub async fn search(
    State(h): State<EmulatorHandle>,
    Extension(ctx): Extension<ReqCtx>,
    JsonBody(b): JsonBody,
) -> Response {
    respond(search_inner(&h, &ctx, &b))
}

fn search_inner(h: &EmulatorHandle, ctx: &ReqCtx, b: &Value) -> ApiResult<Value> {
    let legacy = ctx.version.is_legacy();
    let query = match b.get("query") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.to_lowercase(),
        Some(v) => {
            return Err(ApiError::validation(format!(
                "body failed validation: body.query should be a string, instead was `{v}`."
            )));
        }
    };
    let (want_pages, want_sources) = match b.get("filter").filter(|f| !f.is_null()) {
        None => (true, true),
        Some(f) => match f.get("value").and_then(Value::as_str) {
            None => (true, true),
            Some(val) => {
                if f.get("property").and_then(Value::as_str) != Some("object") {
                    return Err(ApiError::validation(
                        "body failed validation: body.filter.property should be `\"object\"`.",
                    ));
                }
                let source_word = if legacy { "database" } else { "data_source" };
                if val == "page" {
                    (true, false)
                } else if val == source_word {
                    (false, true)
                } else {
                    return Err(ApiError::validation(format!(
                        "body failed validation: body.filter.value should be `\"page\"` or `\"{source_word}\"`, instead was `{}`.",
                        serde_json::to_string(val).unwrap_or_default()
                    )));
                }
            }
        },
    };
    let ascending = match b.get("sort").filter(|s| !s.is_null()) {
        None => false,
        Some(s) => match s.get("direction").and_then(Value::as_str) {
            Some("ascending") => true,
            Some("descending") | None => false,
            Some(d) => {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.sort.direction should be `ascending` or `descending`, instead was `\"{d}\"`."
                )));
            }
        },
    };
    let size = page_size_body(b)?;
    let cursor = cursor_body(b)?;
    let s = lock(&h.0.store);
    // (last_edited_time, sequence, id, is_page)
    let mut hits: Vec<(String, u64, String, bool)> = Vec::new();
    if want_pages {
        for (id, p) in &s.pages {
            if p["in_trash"] == json!(true) {
                continue;
            }
            if query.is_empty() || page_title(p).to_lowercase().contains(&query) {
                let t = p["last_edited_time"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                hits.push((t, s.order.get(id).copied().unwrap_or(0), id.clone(), true));
            }
        }
    }
    if want_sources {
        if legacy {
            for (id, db) in &s.databases {
                if db["in_trash"] == json!(true)
                    || db["data_sources"].as_array().is_some_and(|d| d.len() > 1)
                {
                    continue;
                }
                if query.is_empty() || plain_text(&db["title"]).to_lowercase().contains(&query) {
                    let t = crate::store::minute_of(&db["last_edited_time"]);
                    hits.push((
                        t.as_str().unwrap_or_default().to_string(),
                        s.order.get(id).copied().unwrap_or(0),
                        id.clone(),
                        false,
                    ));
                }
            }
        } else {
            for (id, ds) in &s.data_sources {
                if ds["in_trash"] == json!(true) {
                    continue;
                }
                let db_title = s
                    .databases
                    .get(ds["parent"]["database_id"].as_str().unwrap_or_default())
                    .map(|d| plain_text(&d["title"]).to_lowercase())
                    .unwrap_or_default();
                if query.is_empty()
                    || plain_text(&ds["title"]).to_lowercase().contains(&query)
                    || db_title.contains(&query)
                {
                    let t = ds["last_edited_time"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    hits.push((t, s.order.get(id).copied().unwrap_or(0), id.clone(), false));
                }
            }
        }
    }
    hits.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    if !ascending {
        hits.reverse();
    }
    let capped = hits.len() > h.0.query_cap;
    hits.truncate(h.0.query_cap);
    let items: Vec<Value> = hits
        .iter()
        .map(|(_, _, id, is_page)| json!({ "id": id, "page": is_page }))
        .collect();
    let (page, next, more) = paginate(items, cursor.as_deref(), size)?;
    let mut results = Vec::new();
    for it in page {
        let id = it["id"].as_str().unwrap_or_default();
        let v = if it["page"] == json!(true) {
            s.render_page(id, ctx.version, None, true)
        } else if legacy {
            s.render_database(id, ctx.version).ok()
        } else {
            s.render_data_source(id, ctx.version)
        };
        if let Some(v) = v {
            results.push(v);
        }
    }
    Ok(super::query_list(results, next, more, legacy, capped))
}
