//! The local mirror on the API: `search_local` (ranked full-text search with snippets, no
//! Notion budget; REST `POST /api/v1/mirror/search`, the tool endpoint and MCP), the
//! mirror's status (`GET /api/v1/mirror`), and the answers of the page read and the title
//! search when local-only mode sends them to the mirror (`page_from_mirror`,
//! `search_from_mirror`, called by `routes::notion::get_page` and `routes::notion::search`).
//!
//! Every answer from the mirror says so: `"source": "mirror"` and `"mirrored_at"`. The call
//! is governed by `gate_core::Gate::mirror_read` / `local_read` (authentication, policy,
//! root pages, one audit record with the source); a root-limited agent's search results are
//! filtered to its roots with the mirror's own parents.

use axum::Json;
use axum::extract::State;

use gate_core::{Caller, Gate, GateError, MirrorRead, NotionRequest, Surface};
use gate_mirror::SearchHit;
use notion_client::ids::{DatabaseId, PageId};
use notion_client::models::{Page, SearchResult};
use notion_client::tree::{PageTree, TreeOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::notion::{
    Format, ObjectList, PageContent, QueryInput, QueryResult, SEARCH_CAP, SearchInput, SearchKind,
};
use crate::auth::Authed;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::transform;

/// Hits `search_local` answers at most.
pub const MAX_LOCAL_HITS: u32 = 50;

/// Batches of ranked hits `search_local` reads at most for a root-limited agent (of
/// `4 × limit`, then four times more each time: 13,640 hits for the default 10).
pub const LOCAL_BATCHES: usize = 5;

/// `search_local` (`POST /api/v1/mirror/search`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchLocalInput {
    /// Words to find in titles and content (every word must match; the last one as a
    /// prefix).
    pub query: String,
    /// Hits, 1–50 (default 10).
    pub limit: Option<u32>,
}

/// `search_local`'s answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocalResults {
    /// Always `mirror`.
    pub source: String,
    /// When the mirror's last sync ended.
    pub mirrored_at: Option<String>,
    /// Best first.
    pub results: Vec<SearchHit>,
}

/// `GET /api/v1/mirror`: the mirror of the caller's connection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MirrorStatusView {
    /// Whether this gateway serves mirror reads (`serve --mirror`, or a data folder).
    pub enabled: bool,
    /// Whether local-only mode is on (reads then come from the mirror).
    pub local_only: bool,
    /// The connection.
    pub connection_id: Option<String>,
    /// Whether the connection has a mirror yet.
    pub synced: bool,
    /// Pages with content.
    pub pages: u64,
    /// Pages listed but not fetched yet (or whose fetch failed).
    pub pending: u64,
    /// Data sources (titles only).
    pub data_sources: u64,
    /// Pages whose last fetch failed.
    pub errors: u64,
    /// When the last sync ended.
    pub last_sync_at: Option<String>,
    /// When the last full listing (reconciliation) ended.
    pub last_full_sync_at: Option<String>,
    /// Seconds since the last sync ended.
    pub lag_seconds: Option<i64>,
    /// The last sync's error.
    pub last_error: Option<String>,
}

fn mirror_error(e: &gate_mirror::MirrorError) -> ApiError {
    ApiError::internal(e)
}

/// Ranked full-text search of the caller's mirror (no Notion request).
pub async fn search_local(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: SearchLocalInput,
) -> Result<LocalResults, ApiError> {
    let limit = match input.limit {
        None => 10,
        Some(n @ 1..=MAX_LOCAL_HITS) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LOCAL_HITS}"),
            ));
        }
    } as usize;
    if input.query.trim().is_empty() {
        return Err(ApiError::invalid_field("query", "must not be empty"));
    }
    let read = gate
        .local_read(
            caller,
            surface,
            NotionRequest::post("/v1/search", json!({"query": input.query})),
        )
        .await?;
    let result = (|| {
        // Root-limited agents: hits outside their roots are dropped; the next batch (four
        // times larger each time, at most `LOCAL_BATCHES` of them) is asked while fewer than
        // `limit` remain, so the cost stays bounded whatever the share of hidden hits.
        let mut kept = Vec::with_capacity(limit);
        let mut offset = 0;
        let mut batch = limit * 4;
        for _ in 0..LOCAL_BATCHES {
            let hits = read
                .store()
                .search_ranked(&input.query, offset, batch)
                .map_err(|e| mirror_error(&e))?;
            let exhausted = hits.len() < batch;
            offset += hits.len();
            let room = limit - kept.len();
            kept.extend(hits.into_iter().filter(|h| read.visible(&h.id)).take(room));
            if exhausted || kept.len() >= limit {
                break;
            }
            batch *= 4;
        }
        read.store()
            .snippets(&input.query, &mut kept)
            .map_err(|e| mirror_error(&e))?;
        let status = read.store().status().map_err(|e| mirror_error(&e))?;
        Ok(LocalResults {
            source: "mirror".to_owned(),
            mirrored_at: status.last_sync_at,
            results: kept,
        })
    })();
    finish(read, result).await
}

async fn finish<T>(read: MirrorRead, result: Result<T, ApiError>) -> Result<T, ApiError> {
    match &result {
        Ok(_) => read.finish(Ok(())).await,
        Err(e) => {
            let ge = GateError::Invalid {
                field: "mirror",
                message: e.message.clone(),
            };
            read.finish(Err(&ge)).await;
        }
    }
    result
}

/// A page read answered from the mirror (local-only mode): the same rendering as online.
pub(crate) async fn page_from_mirror(
    read: MirrorRead,
    page_id: &PageId,
    options: &TreeOptions,
    format: Format,
) -> Result<PageContent, ApiError> {
    let result = match read.store().page(page_id.as_str()) {
        Ok(Some(m)) => {
            let tree = PageTree::from_parts(m.root.clone(), &m.children, &m.unexpanded, options);
            let mut content = super::notion::page_content(&m.page, &tree, format);
            content.source = Some("mirror".to_owned());
            content.mirrored_at = Some(m.mirrored_at);
            Ok(content)
        }
        Ok(None) => Err(ApiError::new(
            ErrorCode::NotFound,
            "this page is not in the local mirror (local-only mode answers from the mirror)",
        )
        .detail("source", "mirror")),
        Err(e) => Err(mirror_error(&e)),
    };
    finish(read, result).await
}

/// A title search answered from the mirror (local-only mode), filtered to the caller's
/// roots; `next_cursor` is the mirror's own (`mirror:<offset>`).
pub(crate) async fn search_from_mirror(
    read: MirrorRead,
    input: &SearchInput,
    size: u32,
) -> Result<ObjectList, ApiError> {
    let kind = input.filter.map(|k| match k {
        SearchKind::Page => "page",
        SearchKind::Database => "data_source",
    });
    let mut offset = match input.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match c.strip_prefix("mirror:").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return finish(
                    read,
                    Err(ApiError::invalid_field(
                        "cursor",
                        "not a cursor of a mirror search (local-only mode)",
                    )),
                )
                .await;
            }
        },
    };
    let all = input.all_pages.unwrap_or(false);
    let query = input.query.clone().unwrap_or_default();
    let size = size as usize;
    let mut out = ObjectList {
        results: Vec::new(),
        next_cursor: None,
        has_more: false,
        truncated: false,
        source: Some("mirror".to_owned()),
        mirrored_at: None,
    };
    let result = (|| {
        loop {
            let batch = read
                .store()
                .titles(&query, kind, offset, size + 1)
                .map_err(|e| mirror_error(&e))?;
            let more = batch.len() > size;
            for obj in batch.into_iter().take(size) {
                offset += 1;
                if !read.visible(&obj.id) {
                    continue;
                }
                let summary = serde_json::from_value::<SearchResult>(obj.json)
                    .ok()
                    .as_ref()
                    .and_then(transform::search_summary);
                if let Some(s) = summary {
                    out.results.push(s);
                }
            }
            out.has_more = more;
            out.next_cursor = more.then(|| format!("mirror:{offset}"));
            if !all || !more {
                break;
            }
            if out.results.len() >= SEARCH_CAP {
                out.truncated = true;
                break;
            }
        }
        out.mirrored_at = read
            .store()
            .status()
            .map_err(|e| mirror_error(&e))?
            .last_sync_at;
        Ok(out)
    })();
    finish(read, result).await
}

/// A `query_database` answered from the mirror (local-only mode): the rows of the one data
/// source of `db` as the mirror last listed them, without a filter and with no sort or sorts
/// on `last_edited_time` only (newest first without one); anything else is refused as
/// `local_only`, naming what the mirror cannot evaluate. `next_cursor` is the mirror's own
/// (`mirror:<offset>`).
pub(crate) async fn query_from_mirror(
    read: MirrorRead,
    db: &DatabaseId,
    input: &QueryInput,
    size: u32,
    raw: bool,
) -> Result<QueryResult, ApiError> {
    let refuse = |why: String| {
        Err(ApiError::new(
            ErrorCode::LocalOnly,
            format!("local-only mode answers from the mirror, which cannot answer this: {why}"),
        )
        .detail("source", "mirror"))
    };
    let result = (|| {
        if let Some(f) = &input.filter {
            let shown = f.to_string();
            let shown: String = shown.chars().take(200).collect();
            return refuse(format!("the filter {shown}"));
        }
        let mut ascending = false;
        for (i, s) in input.sorts.iter().flatten().enumerate() {
            let on_edit = s.get("timestamp").and_then(Value::as_str) == Some("last_edited_time")
                && s.get("property").is_none();
            let direction = s.get("direction").and_then(Value::as_str);
            if !on_edit || i > 0 {
                return refuse(format!("the sort {s} (only one sort on last_edited_time)"));
            }
            ascending = direction == Some("ascending");
        }
        let store = read.store();
        let id = db.canonical();
        let source = match store.listed_object(&id).map_err(|e| mirror_error(&e))? {
            Some(obj) if obj.json.get("object").and_then(Value::as_str) != Some("page") => id,
            _ => {
                let sources = store.sources_of(&id).map_err(|e| mirror_error(&e))?;
                match sources.as_slice() {
                    [one] => one.clone(),
                    [] => return refuse("this database is not in the local mirror".to_owned()),
                    several => {
                        return Err(ApiError::invalid_field(
                            "database_id",
                            format!(
                                "this database has several data sources; use one of their ids                                  instead: {}",
                                several.join(", ")
                            ),
                        ));
                    }
                }
            }
        };
        let offset = match input.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => match c.strip_prefix("mirror:").and_then(|n| n.parse().ok()) {
                Some(n) => n,
                None => {
                    return Err(ApiError::invalid_field(
                        "cursor",
                        "not a cursor of a mirror query (local-only mode)",
                    ));
                }
            },
        };
        let rows = store
            .rows_of(&source, ascending)
            .map_err(|e| mirror_error(&e))?;
        let size = size as usize;
        let end = (offset + size).min(rows.len());
        let results = rows
            .get(offset..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|(json, _)| serde_json::from_value::<Page>(json.clone()).ok())
            .filter(|p| !p.is_in_trash())
            .map(|p| transform::row(&p, raw))
            .collect();
        let has_more = end < rows.len();
        Ok(QueryResult {
            data_source_id: source,
            results,
            next_cursor: has_more.then(|| format!("mirror:{end}")),
            has_more,
            source: Some("mirror".to_owned()),
            mirrored_at: store.status().map_err(|e| mirror_error(&e))?.last_sync_at,
        })
    })();
    finish(read, result).await
}

/// The mirror's status for the caller's connection.
pub fn status(gate: &Gate, caller: &Caller) -> Result<MirrorStatusView, ApiError> {
    let mut view = MirrorStatusView {
        enabled: gate.mirrors().is_some(),
        local_only: gate.is_local_only(),
        connection_id: caller.connection_id.map(|c| c.to_string()),
        synced: false,
        pages: 0,
        pending: 0,
        data_sources: 0,
        errors: 0,
        last_sync_at: None,
        last_full_sync_at: None,
        lag_seconds: None,
        last_error: None,
    };
    let Some(conn) = caller.connection_id else {
        return Ok(view);
    };
    let Some(store) = gate.mirror_store(conn).map_err(|e| mirror_error(&e))? else {
        return Ok(view);
    };
    let s = store.status().map_err(|e| mirror_error(&e))?;
    view.synced = s.last_sync_at.is_some();
    view.pages = s.pages;
    view.pending = s.pending;
    view.data_sources = s.data_sources;
    view.errors = s.errors;
    view.lag_seconds = s
        .last_sync_at
        .as_deref()
        .and_then(gate_mirror::parse_ms)
        .map(|t| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
            ((now - t) / 1000).max(0)
        });
    view.last_sync_at = s.last_sync_at;
    view.last_full_sync_at = s.last_full_sync_at;
    view.last_error = s.last_error;
    Ok(view)
}

/// Ranked full-text search of the local mirror, with snippets (no Notion request).
#[utoipa::path(post, path = "/api/v1/mirror/search", tag = "mirror",
    security(("bearer" = [])), request_body = SearchLocalInput,
    responses((status = 200, body = LocalResults), (status = 400, description = "Bad input"),
              (status = 401), (status = 403, description = "Denied by policy"),
              (status = 404, description = "The connection has no mirror yet"),
              (status = 503, description = "No mirror configured")))]
pub async fn search_local_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<SearchLocalInput>,
) -> Result<Json<LocalResults>, ApiError> {
    search_local(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// The mirror of the caller's connection: pages, last sync, lag, errors.
#[utoipa::path(get, path = "/api/v1/mirror", tag = "mirror", security(("bearer" = [])),
    responses((status = 200, body = MirrorStatusView), (status = 401)))]
pub async fn status_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<MirrorStatusView>, ApiError> {
    status(&st.gate, &caller).map(Json)
}

/// The mirror routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status_handler))
        .routes(routes!(search_local_handler))
}

#[cfg(test)]
mod tests;
