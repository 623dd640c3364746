//! `POST /api/v1/notion/search`: titles of pages and databases, one page of results or
//! every page up to [`super::SEARCH_CAP`].
//!
//! Tests: `tests.rs`, `super::tests` and `routes/tools/tests/endpoint.rs` (`search`).

use super::*;

// ---- inputs -------------------------------------------------------------------------------

/// `POST /notion/search`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// Words in titles (empty or absent: everything shared with the connection).
    pub query: Option<String>,
    /// Only pages, or only databases (data sources).
    #[schema(inline)]
    pub filter: Option<SearchKind>,
    /// The `next_cursor` of a previous answer.
    pub cursor: Option<String>,
    /// Results per Notion request, 1–100 (default 20).
    pub limit: Option<u32>,
    /// Follow cursors until the end (at most 1000 results; `truncated` says when cut).
    pub all_pages: Option<bool>,
}

/// What a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Pages.
    Page,
    /// Databases (their data sources).
    Database,
}

// ---- operations ---------------------------------------------------------------------------

/// Searches titles; follows cursors when `all_pages` (up to [`SEARCH_CAP`]).
pub async fn search(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: SearchInput,
) -> Result<ObjectList, ApiError> {
    let size = page_size("limit", input.limit, 20)?;
    let mut req = Search::new();
    let mut body = Map::new();
    if let Some(q) = input.query.as_deref().filter(|q| !q.is_empty()) {
        req = req.query(q);
        body.insert("query".into(), Value::String(q.to_owned()));
    }
    if let Some(kind) = input.filter {
        let (f, v) = match kind {
            SearchKind::Page => (SearchFilter::Page, "page"),
            SearchKind::Database => (SearchFilter::DataSource, "data_source"),
        };
        req = req.filter(f);
        body.insert("filter".into(), json!({"property": "object", "value": v}));
    }
    // Local-only mode: answered by the mirror (routes/mirror.rs), governed the same way.
    if let Some(read) = gate
        .mirror_read(
            caller,
            surface,
            NotionRequest::post("/v1/search", Value::Object(body.clone())),
        )
        .await?
    {
        return crate::routes::mirror::search_from_mirror(read, &input, size).await;
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post("/v1/search", Value::Object(body)),
        false,
    )
    .await?;
    let all = input.all_pages.unwrap_or(false);
    let result = async {
        let mut out = ObjectList {
            results: Vec::new(),
            next_cursor: None,
            has_more: false,
            truncated: false,
            source: None,
            mirrored_at: None,
        };
        let mut cursor = input.cursor.clone();
        loop {
            let page = op
                .conn()
                .search(&req, &paging(cursor.as_deref(), size))
                .await
                .map_err(upstream)?;
            out.results
                .extend(page.results.iter().filter_map(transform::search_summary));
            out.next_cursor = page.next_cursor.clone();
            out.has_more = page.has_more;
            cursor = page.next_cursor;
            if !all || !page.has_more || cursor.is_none() {
                break;
            }
            if out.results.len() >= SEARCH_CAP {
                out.truncated = true;
                break;
            }
        }
        Ok(out)
    }
    .await;
    op.end(result).await
}

/// Search titles of pages and databases.
#[utoipa::path(post, path = "/api/v1/notion/search", tag = "notion",
    security(("bearer" = [])), request_body = SearchInput,
    responses((status = 200, body = ObjectList), (status = 400, description = "Bad input"),
              (status = 401), (status = 403, description = "Denied by policy or local-only")))]
pub async fn search_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<SearchInput>,
) -> Result<Json<ObjectList>, ApiError> {
    search(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

#[cfg(test)]
mod tests;
