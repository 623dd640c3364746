//! `GET /api/v1/notion/databases`: the databases (data sources) the connection can see.

use super::*;

/// Lists the databases (data sources) the connection can see, one page at a time.
pub async fn list_databases(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: ListInput,
) -> Result<ObjectList, ApiError> {
    let limit = Some(page_size("limit", input.limit, 100)?);
    search(
        gate,
        caller,
        surface,
        SearchInput {
            filter: Some(SearchKind::Database),
            cursor: input.cursor,
            limit,
            ..SearchInput::default()
        },
    )
    .await
}

/// List the databases (data sources) the connection can see.
#[utoipa::path(get, path = "/api/v1/notion/databases", tag = "notion",
    security(("bearer" = [])), params(ListInput),
    responses((status = 200, body = ObjectList), (status = 400), (status = 401), (status = 403)))]
pub async fn list_databases_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(input): ApiQuery<ListInput>,
) -> Result<Json<ObjectList>, ApiError> {
    list_databases(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}
