//! `POST /api/v1/notion/views/{id}/query`: a view's rows (its filter and sorts), flattened as
//! in a database query.

use super::*;

input_struct! { paged "Rows, 1–100 (default 100).":
    /// `POST /notion/views/{id}/query`.
    #[derive(Default)]
    pub struct ViewQueryInput {}
}

/// The rows of a view, flattened as in [`query_database`]: the view's filter and sorts run as
/// a query of its data source (one Notion request per page of rows, full page objects).
pub async fn query_view(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: ViewQueryInput,
    raw: bool,
) -> Result<ViewRows, ApiError> {
    let view_id = parse_id("view_id", id, ViewId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post(
            format!("/v1/views/{}/queries", view_id.canonical()),
            json!({}),
        ),
        false,
    )
    .await?;
    let result = async {
        let view = op
            .conn()
            .views()
            .retrieve(&view_id)
            .await
            .map_err(upstream)?;
        let Some(ds_id) = view.data_source_id.as_ref().cloned() else {
            return Err(GateError::NotFound {
                what: "data source",
            });
        };
        let query = QueryDataSource {
            filter: view.filter.as_ref().filter(|f| !f.is_null()).cloned(),
            sorts: view
                .sorts
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            ..QueryDataSource::default()
        };
        let paging = paging(input.cursor.as_deref(), size);
        let rows = query_rows(&op, &ds_id, &query, &paging, raw).await?;
        Ok(ViewRows {
            view_id: view_id.canonical(),
            data_source_id: rows.data_source_id,
            results: rows.results,
            next_cursor: rows.next_cursor,
            has_more: rows.has_more,
        })
    }
    .await;
    op.end(result).await
}

/// The rows of a view (its filter and sorts), flattened as in a database query.
#[utoipa::path(post, path = "/api/v1/notion/views/{id}/query", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "View id")),
    request_body = ViewQueryInput,
    responses((status = 200, body = ViewRows), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn query_view_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ViewQueryInput>,
) -> Result<Json<ViewRows>, ApiError> {
    query_view(&st.gate, &caller, Surface::Rest, &id, input, true)
        .await
        .map(Json)
}
