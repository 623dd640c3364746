//! `GET /api/v1/notion/views`: the views of a database or of a data source (each retrieved
//! for its name and type: Notion lists only ids).

use super::*;

input_struct! { paged "Views, 1–100 (default 100).":
    /// `GET /notion/views` query: the views of a database or of a data source.
    #[derive(Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ViewsInput {
        /// The database whose views to list. Give this or `data_source_id`.
        pub database_id: Option<String>,
        /// The data source whose views to list.
        pub data_source_id: Option<String>,
    }
}

/// The views of a database or a data source, one page at a time (each view retrieved for
/// its name and type: Notion lists only ids).
pub async fn list_views(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: ViewsInput,
) -> Result<ViewList, ApiError> {
    let size = page_size("limit", input.limit, 100)?;
    let (of, key, id) = match (
        input.database_id.as_deref(),
        input.data_source_id.as_deref(),
    ) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "data_source_id",
                "give `database_id` or `data_source_id`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "database_id",
                "give `database_id` or `data_source_id`",
            ));
        }
        (Some(id), None) => {
            let db = parse_id("database_id", id, DatabaseId::parse)?;
            let canonical = db.canonical();
            (ViewsOf::Database(db), "database_id", canonical)
        }
        (None, Some(id)) => {
            let ds = parse_id("data_source_id", id, DataSourceId::parse)?;
            let canonical = ds.canonical();
            (ViewsOf::DataSource(ds), "data_source_id", canonical)
        }
    };
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get("/v1/views").query(key, id),
        false,
    )
    .await?;
    let result = async {
        let list = op
            .conn()
            .views()
            .list(&of, &paging(input.cursor.as_deref(), size))
            .await
            .map_err(upstream)?;
        let mut results = Vec::with_capacity(list.results.len());
        for partial in &list.results {
            let view = op
                .conn()
                .views()
                .retrieve(&partial.id)
                .await
                .map_err(upstream)?;
            results.push(view_out(&view));
        }
        Ok(ViewList {
            results,
            next_cursor: list.next_cursor,
            has_more: list.has_more,
        })
    }
    .await;
    op.end(result).await
}

/// The views of a database or of a data source.
#[utoipa::path(get, path = "/api/v1/notion/views", tag = "notion",
    security(("bearer" = [])), params(ViewsInput),
    responses((status = 200, body = ViewList), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn list_views_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(input): ApiQuery<ViewsInput>,
) -> Result<Json<ViewList>, ApiError> {
    list_views(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}
