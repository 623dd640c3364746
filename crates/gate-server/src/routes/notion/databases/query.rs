//! `POST /api/v1/notion/databases/{id}/query`: one page of rows of a data source (or of a
//! database with one data source), properties flattened. In local-only mode the rows come
//! from the mirror (`routes::mirror::query_from_mirror`).

use super::*;

input_struct! { query:
    /// `POST /notion/databases/{id}/query`.
    #[derive(Default)]
    pub struct QueryInput {}
}

/// Rows of a query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryResult {
    /// The data source queried.
    pub data_source_id: String,
    /// The rows.
    pub results: Vec<Row>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
    /// `"mirror"` when answered from the local mirror (local-only mode); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the mirror's last sync ended (with `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrored_at: Option<String>,
}

/// One page of rows of a data source (or of a database with one data source).
pub async fn query_database(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: QueryInput,
    raw: bool,
) -> Result<QueryResult, ApiError> {
    let db = parse_id("database_id", id, DatabaseId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    if input.filter.as_ref().is_some_and(|f| !f.is_object()) {
        return Err(ApiError::invalid_field(
            "filter",
            "must be a Notion filter object",
        ));
    }
    // Local-only mode: answered by the mirror (routes/mirror.rs), governed the same way.
    if let Some(read) = gate
        .mirror_read(
            caller,
            surface,
            NotionRequest::post(format!("/v1/databases/{}/query", db.canonical()), json!({})),
        )
        .await?
    {
        return crate::routes::mirror::query_from_mirror(read, &db, &input, size, raw).await;
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post(format!("/v1/databases/{}/query", db.canonical()), json!({})),
        false,
    )
    .await?;
    let result = async {
        let r = single_source(&op, db.as_str(), "database_id").await?;
        let Some((ds_id, _)) = r.sources.into_iter().next() else {
            return Err(GateError::NotFound {
                what: "data source",
            });
        };
        let query = QueryDataSource {
            filter: input.filter.clone(),
            sorts: input.sorts.clone().unwrap_or_default(),
            ..QueryDataSource::default()
        };
        let paging = paging(input.cursor.as_deref(), size);
        query_rows(&op, &ds_id, &query, &paging, raw).await
    }
    .await;
    op.end(result).await
}

/// Query the rows of a data source (or of a database with one data source).
#[utoipa::path(post, path = "/api/v1/notion/databases/{id}/query", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Database or data source id")),
    request_body = QueryInput,
    responses((status = 200, body = QueryResult), (status = 400, description = "Bad input, or several data sources"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn query_database_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<QueryInput>,
) -> Result<Json<QueryResult>, ApiError> {
    query_database(&st.gate, &caller, Surface::Rest, &id, input, true)
        .await
        .map(Json)
}
