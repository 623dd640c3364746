//! HTTP handlers, one module per API area, plus shared pagination helpers and the router.

pub mod blocks;
pub mod comments;
pub mod databases;
pub mod markdown;
pub mod oauth;
pub mod pages;
pub mod search;
pub mod tasks;
pub mod uploads;
pub mod users;
pub mod views;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::pipeline::{ReqCtx, pipeline};
use crate::state::EmulatorHandle;
use crate::store::Store;
use crate::util::path_id;

/// What every API handler takes: the emulator and the request's context (set by the pipeline).
pub struct Call {
    /// The emulator.
    pub h: EmulatorHandle,
    /// The request's version, bot and origin.
    pub ctx: ReqCtx,
}

impl FromRequestParts<EmulatorHandle> for Call {
    type Rejection = <Extension<ReqCtx> as FromRequestParts<EmulatorHandle>>::Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &EmulatorHandle,
    ) -> Result<Self, Self::Rejection> {
        let Extension(ctx) = Extension::<ReqCtx>::from_request_parts(parts, state).await?;
        Ok(Call {
            h: state.clone(),
            ctx,
        })
    }
}

impl Call {
    /// Answers `f` run on the locked store.
    pub fn with_store(&self, f: impl FnOnce(&mut Store, &ReqCtx) -> ApiResult<Value>) -> Response {
        respond(f(&mut lock(&self.h.0.store), &self.ctx))
    }

    /// Parses the path id `raw` (a malformed one answers Notion's 400 naming `param`), then
    /// answers `f` run on the locked store with the dashed id.
    pub fn with_id(
        &self,
        raw: &str,
        param: &str,
        f: impl FnOnce(&mut Store, String, &ReqCtx) -> ApiResult<Value>,
    ) -> Response {
        respond(path_id(raw, param).and_then(|id| f(&mut lock(&self.h.0.store), id, &self.ctx)))
    }
}

/// Parses the raw query string into pairs (repeated keys kept).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// First value of a query parameter.
pub fn q_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// All values of a repeated query parameter.
pub fn q_all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// `page_size` from the query string: default 100, clamped to 100, at least 1.
pub fn page_size_query(pairs: &[(String, String)]) -> ApiResult<usize> {
    match q_get(pairs, "page_size") {
        None => Ok(100),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok((n as usize).min(100)),
            Ok(n) => Err(ApiError::validation(format!(
                "query failed validation: query.page_size should be ≥ `1`, instead was `{n}`."
            ))),
            Err(_) => Err(ApiError::validation(format!(
                "query failed validation: query.page_size should be a number, instead was `{}`.",
                serde_json::to_string(s).unwrap_or_default()
            ))),
        },
    }
}

/// `page_size` from a JSON body: default 100, clamped to 100, at least 1.
pub fn page_size_body(body: &Value) -> ApiResult<usize> {
    match body.get("page_size") {
        None | Some(Value::Null) => Ok(100),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Ok((n as usize).min(100)),
            Some(n) => Err(ApiError::validation(format!(
                "body failed validation: body.page_size should be ≥ `1`, instead was `{n}`."
            ))),
            None => Err(ApiError::validation(format!(
                "body failed validation: body.page_size should be a number, instead was `{v}`."
            ))),
        },
    }
}

/// `start_cursor` from a JSON body.
pub fn cursor_body(body: &Value) -> ApiResult<Option<String>> {
    match body.get("start_cursor") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(ApiError::validation(format!(
            "body failed validation: body.start_cursor should be a string, instead was `{v}`."
        ))),
    }
}

/// Cursor pagination over items that carry an `id`: the cursor is the id of the first item of
/// the next page (UUID-looking, as Notion's).
pub fn paginate(
    items: Vec<Value>,
    cursor: Option<&str>,
    size: usize,
) -> ApiResult<(Vec<Value>, Option<String>, bool)> {
    let (range, next, has_more) = paginate_range(
        &items,
        |i| i["id"].as_str().unwrap_or_default(),
        cursor,
        size,
    )?;
    Ok((items[range].to_vec(), next, has_more))
}

/// The window of `items` for a cursor (the id of the first item to return, as Notion's
/// cursors are) and a page size, the next cursor and `has_more`. Works on ids, so that a
/// handler renders only the objects of the page it answers.
pub fn paginate_range<T>(
    items: &[T],
    id_of: impl Fn(&T) -> &str,
    cursor: Option<&str>,
    size: usize,
) -> ApiResult<(std::ops::Range<usize>, Option<String>, bool)> {
    let start = match cursor {
        None => 0,
        Some(c) => {
            let id = crate::util::parse_id(c);
            items
                .iter()
                .position(|i| id.as_deref() == Some(id_of(i)))
                .ok_or_else(|| {
                    ApiError::validation(format!("The start_cursor provided is invalid: {c}"))
                })?
        }
    };
    let end = (start + size).min(items.len());
    let has_more = end < items.len();
    let next = has_more.then(|| id_of(&items[end]).to_string());
    Ok((start..end, next, has_more))
}

/// One page of `items` for the query's `start_cursor` and a page size, in the list envelope.
pub fn list_page(
    items: Vec<Value>,
    pairs: &[(String, String)],
    size: usize,
    kind: &str,
) -> ApiResult<Value> {
    let (res, next, more) = paginate(items, q_get(pairs, "start_cursor"), size)?;
    Ok(list(res, next, more, kind))
}

/// The answer of a data source query or a search: the list envelope of pages and data sources
/// (databases for a legacy version), marked incomplete where the result cap cut it.
pub fn query_list(
    results: Vec<Value>,
    next: Option<String>,
    more: bool,
    legacy: bool,
    capped: bool,
) -> Value {
    let kind = if legacy {
        "page_or_database"
    } else {
        "page_or_data_source"
    };
    let mut out = list(results, next, more, kind);
    if capped && !more {
        out["request_status"] =
            json!({ "type": "incomplete", "incomplete_reason": "query_result_limit_reached" });
    }
    out
}

/// The list envelope.
pub fn list(results: Vec<Value>, next: Option<String>, has_more: bool, kind: &str) -> Value {
    let mut m = Map::new();
    m.insert("object".into(), json!("list"));
    m.insert("results".into(), Value::Array(results));
    m.insert("next_cursor".into(), json!(next));
    m.insert("has_more".into(), json!(has_more));
    m.insert("type".into(), json!(kind));
    m.insert(kind.into(), json!({}));
    Value::Object(m)
}

/// Converts a handler result into a response.
pub fn respond(r: ApiResult<Value>) -> Response {
    match r {
        Ok(v) => crate::pipeline::ok(v),
        Err(e) => e.into_response(),
    }
}

async fn fallback() -> Response {
    ApiError::invalid_request_url().into_response()
}

/// The handler of one entry of [`crate::pipeline::ROUTES`]; `None` for an entry without one
/// (a test checks that there is none).
pub fn handler(method: &str, path: &str) -> Option<MethodRouter<EmulatorHandle>> {
    Some(match (method, path) {
        ("GET", "/v1/users/me") => get(users::me),
        ("GET", "/v1/users") => get(users::list),
        ("GET", "/v1/users/{id}") => get(users::retrieve),
        ("POST", "/v1/search") => post(search::search),
        ("POST", "/v1/pages") => post(pages::create),
        ("GET", "/v1/pages/{id}") => get(pages::retrieve),
        ("PATCH", "/v1/pages/{id}") => patch(pages::update),
        ("POST", "/v1/pages/{id}/move") => post(pages::move_page),
        ("GET", "/v1/pages/{id}/markdown") => get(markdown::retrieve),
        ("PATCH", "/v1/pages/{id}/markdown") => patch(markdown::update),
        ("GET", "/v1/pages/{id}/properties/{property_id}") => get(pages::property_item),
        ("GET", "/v1/blocks/{id}") => get(blocks::retrieve),
        ("PATCH", "/v1/blocks/{id}") => patch(blocks::update),
        ("DELETE", "/v1/blocks/{id}") => delete(blocks::delete),
        ("GET", "/v1/blocks/{id}/children") => get(blocks::children),
        ("PATCH", "/v1/blocks/{id}/children") => patch(blocks::append),
        ("POST", "/v1/databases") => post(databases::create_database),
        ("GET", "/v1/databases/{id}") => get(databases::retrieve_database),
        ("PATCH", "/v1/databases/{id}") => patch(databases::update_database),
        ("POST", "/v1/databases/{id}/query") => post(databases::query::<true>),
        ("POST", "/v1/data_sources") => post(databases::create_data_source),
        ("GET", "/v1/data_sources/{id}") => get(databases::retrieve_data_source),
        ("PATCH", "/v1/data_sources/{id}") => patch(databases::update_data_source),
        ("POST", "/v1/data_sources/{id}/query") => post(databases::query::<false>),
        ("GET", "/v1/data_sources/{id}/templates") => get(databases::templates),
        ("GET", "/v1/comments") => get(comments::list),
        ("POST", "/v1/comments") => post(comments::create),
        ("GET", "/v1/comments/{id}") => get(comments::retrieve),
        ("PATCH", "/v1/comments/{id}") => patch(comments::update),
        ("DELETE", "/v1/comments/{id}") => delete(comments::delete),
        ("POST", "/v1/file_uploads") => post(uploads::create),
        ("GET", "/v1/file_uploads") => get(uploads::list),
        ("GET", "/v1/file_uploads/{id}") => get(uploads::retrieve),
        ("POST", "/v1/file_uploads/{id}/send") => post(uploads::send),
        ("POST", "/v1/file_uploads/{id}/complete") => post(uploads::complete),
        ("POST", "/v1/views") => post(views::create),
        ("GET", "/v1/views") => get(views::list),
        ("GET", "/v1/views/{id}") => get(views::retrieve),
        ("PATCH", "/v1/views/{id}") => patch(views::update),
        ("DELETE", "/v1/views/{id}") => delete(views::delete),
        ("POST", "/v1/views/{id}/queries") => post(views::create_query),
        ("GET", "/v1/views/{id}/queries/{query_id}") => get(views::query_results),
        ("DELETE", "/v1/views/{id}/queries/{query_id}") => delete(views::delete_query),
        ("GET", "/v1/custom_emojis") => get(tasks::custom_emojis),
        ("GET", "/v1/async_tasks/{id}") => get(tasks::retrieve),
        ("GET", "/v1/oauth/authorize") => get(oauth::authorize),
        ("POST", "/v1/oauth/token") => post(oauth::token),
        ("POST", "/v1/oauth/introspect") => post(oauth::introspect),
        ("POST", "/v1/oauth/revoke") => post(oauth::revoke),
        _ => return None,
    })
}

/// Builds the axum router for a handle (no socket), one route per entry of
/// [`crate::pipeline::ROUTES`]. Dropped-connection faults surface as a 500 response carrying
/// the [`crate::pipeline::DropConnection`] extension; the socket server started by
/// [`crate::Emulator`] turns that into a closed connection.
pub fn router(h: EmulatorHandle) -> Router {
    let mut app = Router::new();
    for (method, path) in crate::pipeline::ROUTES {
        if let Some(m) = handler(method, path) {
            // Notion answers a path with a trailing slash as the path without it (recorded:
            // `POST /v1/databases/` in RM/create_database_from_page.json and
            // `POST /v1/data_sources/` in RM/create_data_source_from_database.json).
            app = app.route(&format!("{path}/"), m.clone()).route(path, m);
        }
    }
    app.fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(h.clone(), pipeline))
        .with_state(h)
}

pub(crate) use crate::state::lock;
