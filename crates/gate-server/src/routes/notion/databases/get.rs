//! `GET /api/v1/notion/databases/{id}`: the schema of a database (every data source of it)
//! or of one data source.

use super::*;

/// The schema of a database (every data source of it) or of one data source.
pub async fn get_database(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
) -> Result<DatabaseSchema, ApiError> {
    let db = parse_id("database_id", id, DatabaseId::parse)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get(format!("/v1/databases/{}", db.canonical())),
        false,
    )
    .await?;
    let result = async {
        let r = resolve(&op, db.as_str()).await?;
        let mut data_sources = Vec::new();
        if let Some(ds) = &r.fetched {
            data_sources.push(transform::schema(ds));
        } else {
            for (ds_id, _) in &r.sources {
                let ds = op
                    .conn()
                    .data_sources()
                    .retrieve(ds_id)
                    .await
                    .map_err(upstream)?;
                data_sources.push(transform::schema(&ds));
            }
        }
        Ok(DatabaseSchema {
            id: db.canonical(),
            database_id: r.database_id,
            data_sources,
        })
    }
    .await;
    op.end(result).await
}

/// A database's (or data source's) schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatabaseSchema {
    /// The id asked for.
    pub id: String,
    /// The database (container), when known.
    pub database_id: Option<String>,
    /// Each data source with its flattened schema.
    pub data_sources: Vec<DataSourceSchema>,
}

/// The schema of a database (all its data sources) or of a data source.
#[utoipa::path(get, path = "/api/v1/notion/databases/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Database or data source id")),
    responses((status = 200, body = DatabaseSchema), (status = 400), (status = 401), (status = 403),
              (status = 404, description = "Not found or not shared")))]
pub async fn get_database_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<DatabaseSchema>, ApiError> {
    get_database(&st.gate, &caller, Surface::Rest, &id)
        .await
        .map(Json)
}
