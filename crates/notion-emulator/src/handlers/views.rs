//! Views (API 2025-09-03 and later): create, retrieve, update, delete, list by database or
//! data source; view queries: create (the view's filter and sorts applied to its data source),
//! page through the results, delete. On 2022-06-28 every view endpoint is
//! `invalid_request_url`, as on Notion.

use std::time::Duration;

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::{Call, paginate, q_get, query_pairs};
use crate::error::{ApiError, ApiResult};
use crate::pipeline::{JsonBody, ReqCtx};
use crate::query::{eval, sort_pages, validate_filter, validate_sorts};
use crate::store::{Store, partial_user};
use crate::util::{compact, minute_after, new_id, now_minute, parse_id, path_id};

/// The view types Notion accepts.
pub const VIEW_TYPES: [&str; 10] = [
    "table",
    "board",
    "list",
    "calendar",
    "timeline",
    "gallery",
    "form",
    "chart",
    "map",
    "dashboard",
];

/// How long a view query's results stay available.
pub const VIEW_QUERY_TTL: Duration = Duration::from_secs(15 * 60);

/// A view query: the ids of the matching pages, in the view's order.
#[derive(Debug, Clone)]
pub struct ViewQuery {
    /// The view queried.
    pub view_id: String,
    /// Matching page ids.
    pub pages: Vec<String>,
    /// When the results are discarded.
    pub expires: Instant,
}

fn not_legacy(ctx: &ReqCtx) -> ApiResult<()> {
    if ctx.version.is_legacy() {
        Err(ApiError::invalid_request_url())
    } else {
        Ok(())
    }
}

fn body_uuid(b: &Value, key: &str) -> ApiResult<Option<String>> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => parse_id(raw).map(Some).ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: body.{key} should be a valid uuid, instead was `\"{raw}\"`."
            ))
        }),
        Some(v) => Err(ApiError::validation(format!(
            "body failed validation: body.{key} should be a string, instead was `{v}`."
        ))),
    }
}

fn view_type(b: &Value, required: bool) -> ApiResult<Option<String>> {
    match b.get("type") {
        None | Some(Value::Null) if required => Err(ApiError::body_undefined("body.type")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if VIEW_TYPES.contains(&t.as_str()) => Ok(Some(t.clone())),
        Some(v) => Err(ApiError::validation(format!(
            "body failed validation: body.type should be one of {}, instead was `{v}`.",
            VIEW_TYPES
                .iter()
                .map(|t| format!("`\"{t}\"`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Validates a view's `filter` and `sorts` against its data source's schema.
fn check_filter_sorts(s: &Store, ds: &str, b: &Value) -> ApiResult<()> {
    let schema = s.data_sources[ds]["properties"].clone();
    if let Some(f) = b.get("filter").filter(|f| !f.is_null()) {
        validate_filter(f, &schema, "body.filter", 0)?;
    }
    if let Some(so) = b.get("sorts").filter(|f| !f.is_null()) {
        validate_sorts(so, &schema)?;
    }
    Ok(())
}

/// Creates a view in the store (the handler and the demo seed); returns it.
pub fn insert_view(
    s: &mut Store,
    database: &str,
    data_source: &str,
    name: &str,
    ty: &str,
    b: &Value,
    by: &str,
) -> Value {
    let id = new_id();
    let now = now_minute();
    let field = |k: &str| b.get(k).cloned().unwrap_or(Value::Null);
    let view = json!({
        "object": "view",
        "id": id,
        "parent": { "type": "database_id", "database_id": database },
        "name": name,
        "type": ty,
        "created_time": now,
        "last_edited_time": now,
        "url": format!("https://www.notion.so/{}?v={}", compact(database), compact(&id)),
        "data_source_id": data_source,
        "created_by": partial_user(by),
        "last_edited_by": partial_user(by),
        "filter": field("filter"),
        "sorts": field("sorts"),
        "quick_filters": field("quick_filters"),
        "configuration": field("configuration"),
    });
    let seq = s.next_seq();
    s.order.insert(id.clone(), seq);
    s.views.insert(id, view.clone());
    view
}

/// `POST /v1/views`.
pub async fn create(c: Call, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let ds = body_uuid(&b, "data_source_id")?
            .ok_or_else(|| ApiError::body_undefined("body.data_source_id"))?;
        let name = match b.get("name") {
            Some(Value::String(n)) => n.clone(),
            None | Some(Value::Null) => return Err(ApiError::body_undefined("body.name")),
            Some(v) => {
                return Err(ApiError::validation(format!(
                    "body failed validation: body.name should be a string, instead was `{v}`."
                )));
            }
        };
        let ty = view_type(&b, true)?.unwrap_or_default();
        let db = body_uuid(&b, "database_id")?;
        let dashboard = body_uuid(&b, "view_id")?;
        let Some(source) = s.data_sources.get(&ds) else {
            return Err(ApiError::not_found("data_source", &ds));
        };
        let owner = source["parent"]["database_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let db = match (db, dashboard) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "body failed validation: body.database_id and body.view_id should not be present together.",
                ));
            }
            (Some(db), None) => {
                if !s.databases.contains_key(&db) {
                    return Err(ApiError::not_found("database", &db));
                }
                db
            }
            (None, Some(v)) => {
                let parent = s
                    .views
                    .get(&v)
                    .ok_or_else(|| ApiError::not_found("view", &v))?;
                if parent["type"] != "dashboard" {
                    return Err(ApiError::validation(format!(
                        "View {v} is not a dashboard view; widgets can only be added to a dashboard."
                    )));
                }
                parent["parent"]["database_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
            (None, None) => return Err(ApiError::body_undefined("body.database_id")),
        };
        if owner != db {
            return Err(ApiError::validation(format!(
                "Data source {ds} does not belong to database {db}; a view can only show a data source of its own database."
            )));
        }
        check_filter_sorts(s, &ds, &b)?;
        Ok(insert_view(s, &db, &ds, &name, &ty, &b, &ctx.bot_id))
    })
}

fn get_view<'a>(s: &'a Store, raw: &str) -> ApiResult<(String, &'a Value)> {
    let id = path_id(raw, "view_id")?;
    let v = s
        .views
        .get(&id)
        .ok_or_else(|| ApiError::not_found("view", &id))?;
    Ok((id, v))
}

/// `GET /v1/views/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        Ok(get_view(s, &raw)?.1.clone())
    })
}

/// `PATCH /v1/views/{id}`: `name`, `type`, `filter`, `sorts`, `quick_filters`,
/// `configuration` (a `null` clears a filter or sorts).
pub async fn update(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let (id, v) = get_view(s, &raw)?;
        let ds = v["data_source_id"].as_str().unwrap_or_default().to_string();
        let ty = view_type(&b, false)?;
        if let Some(n) = b.get("name")
            && !n.is_string()
        {
            return Err(ApiError::validation(format!(
                "body failed validation: body.name should be a string, instead was `{n}`."
            )));
        }
        if s.data_sources.contains_key(&ds) {
            check_filter_sorts(s, &ds, &b)?;
        }
        let by = ctx.bot_id.clone();
        let view = s
            .views
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("view", &id))?;
        if let Some(t) = ty {
            view["type"] = json!(t);
        }
        for key in ["name", "filter", "sorts", "quick_filters", "configuration"] {
            if let Some(x) = b.get(key) {
                view[key] = x.clone();
            }
        }
        view["last_edited_time"] = json!(now_minute());
        view["last_edited_by"] = partial_user(&by);
        Ok(view.clone())
    })
}

/// `DELETE /v1/views/{id}`: answers the partial view.
pub async fn delete(c: Call, Path(raw): Path<String>) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let (id, _) = get_view(s, &raw)?;
        let v = s
            .views
            .remove(&id)
            .ok_or_else(|| ApiError::not_found("view", &id))?;
        s.view_queries.retain(|_, q| q.view_id != id);
        Ok(json!({ "object": "view", "id": id, "parent": v["parent"], "type": v["type"] }))
    })
}

/// `GET /v1/views?database_id=…|data_source_id=…`: partial views, oldest first.
pub async fn list(c: Call, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let pairs = query_pairs(q.as_deref());
        let parse = |key: &str| -> ApiResult<Option<String>> {
            q_get(&pairs, key)
                .map(|raw| {
                    parse_id(raw).ok_or_else(|| {
                        ApiError::validation(format!(
                            "query failed validation: query.{key} should be a valid uuid, instead was `\"{raw}\"`."
                        ))
                    })
                })
                .transpose()
        };
        let db = parse("database_id")?;
        let ds = parse("data_source_id")?;
        if db.is_none() && ds.is_none() {
            return Err(ApiError::validation(
                "query failed validation: one of query.database_id or query.data_source_id should be defined.",
            ));
        }
        let size = super::page_size_query(&pairs)?;
        if let Some(d) = &db
            && !s.databases.contains_key(d)
        {
            return Err(ApiError::not_found("database", d));
        }
        if let Some(d) = &ds
            && !s.data_sources.contains_key(d)
        {
            return Err(ApiError::not_found("data_source", d));
        }
        let mut views: Vec<&Value> = s
            .views
            .values()
            .filter(|v| {
                db.as_ref()
                    .is_none_or(|d| v["parent"]["database_id"] == json!(d))
            })
            .filter(|v| ds.as_ref().is_none_or(|d| v["data_source_id"] == json!(d)))
            .collect();
        views.sort_by_key(|v| {
            s.order
                .get(v["id"].as_str().unwrap_or_default())
                .copied()
                .unwrap_or(0)
        });
        let items: Vec<Value> = views
            .into_iter()
            .map(|v| json!({ "object": "view", "id": v["id"] }))
            .collect();
        let (res, next, more) = paginate(items, q_get(&pairs, "start_cursor"), size)?;
        Ok(page_list(res, next, more))
    })
}

fn page_list(results: Vec<Value>, next: Option<String>, more: bool) -> Value {
    let mut m = Map::new();
    m.insert("object".into(), json!("list"));
    m.insert("results".into(), Value::Array(results));
    m.insert("next_cursor".into(), json!(next));
    m.insert("has_more".into(), json!(more));
    Value::Object(m)
}

fn page_refs(ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({ "object": "page", "id": id }))
        .collect()
}

/// `POST /v1/views/{id}/queries`: runs the view (its filter and sorts on its data source) and
/// answers the first page of results (`page_size` in the body, default 100).
pub async fn create_query(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let size = super::page_size_body(&b)?;
        let (view_id, view) = get_view(s, &raw)?;
        let ds = view["data_source_id"].as_str().unwrap_or_default();
        let Some(source) = s.data_sources.get(ds) else {
            return Err(ApiError::not_found("data_source", ds));
        };
        let schema = source["properties"].clone();
        let filter = view.get("filter").filter(|f| !f.is_null());
        let mut rows: Vec<Value> = s
            .rows_of(ds)
            .into_iter()
            .filter(|p| p["in_trash"] != json!(true))
            .filter(|p| filter.is_none_or(|f| eval(f, p, &schema, &ctx.bot_id)))
            .cloned()
            .collect();
        if let Some(so) = view.get("sorts").filter(|f| !f.is_null()) {
            sort_pages(&mut rows, so, &schema);
        }
        let pages: Vec<String> = rows
            .iter()
            .filter_map(|p| p["id"].as_str().map(str::to_string))
            .collect();
        let qid = new_id();
        let end = size.min(pages.len());
        let more = end < pages.len();
        let out = json!({
            "object": "view_query",
            "id": qid,
            "view_id": view_id,
            "expires_at": minute_after(VIEW_QUERY_TTL.as_secs()),
            "total_count": pages.len(),
            "results": page_refs(&pages[..end]),
            "next_cursor": if more { json!(pages[end]) } else { Value::Null },
            "has_more": more,
        });
        s.view_queries.insert(
            qid,
            ViewQuery {
                view_id,
                pages,
                expires: Instant::now() + VIEW_QUERY_TTL,
            },
        );
        Ok(out)
    })
}

fn get_query<'a>(s: &'a Store, view_raw: &str, raw: &str) -> ApiResult<(String, &'a ViewQuery)> {
    let view_id = path_id(view_raw, "view_id")?;
    let id = path_id(raw, "query_id")?;
    match s.view_queries.get(&id) {
        Some(q) if q.view_id == view_id && Instant::now() < q.expires => Ok((id, q)),
        _ => Err(ApiError::not_found("view_query", &id)),
    }
}

/// `GET /v1/views/{id}/queries/{query_id}`: a page of results.
pub async fn query_results(
    c: Call,
    Path((view_raw, raw)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        let (_, query) = get_query(s, &view_raw, &raw)?;
        let items = page_refs(&query.pages);
        let (res, next, more) = paginate(items, q_get(&pairs, "start_cursor"), size)?;
        Ok(page_list(res, next, more))
    })
}

/// `DELETE /v1/views/{id}/queries/{query_id}`.
pub async fn delete_query(c: Call, Path((view_raw, raw)): Path<(String, String)>) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx)?;
        let (id, _) = get_query(s, &view_raw, &raw)?;
        s.view_queries.remove(&id);
        Ok(json!({ "object": "view_query", "id": id, "deleted": true }))
    })
}
