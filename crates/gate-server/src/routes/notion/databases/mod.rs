//! Databases and data sources: list them, read a schema, query rows.
//!
//! - `GET /api/v1/notion/databases` ([`list`])
//! - `GET /api/v1/notion/databases/{id}` ([`get`])
//! - `POST /api/v1/notion/databases/{id}/query` ([`query`])
//!
//! Tests: `tests.rs`, and `super::tests` (every endpoint by maturity, bad input).

mod get;
mod list;
mod query;

pub use get::*;
pub use list::*;
pub use query::*;

use super::*;

/// The routes of this resource, each registered with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_databases_handler))
        .routes(routes!(get_database_handler))
        .routes(routes!(query_database_handler))
}

#[cfg(test)]
mod tests;
