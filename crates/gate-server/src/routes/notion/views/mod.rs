//! Views of a database: list them, read a view's rows.
//!
//! - `GET /api/v1/notion/views` ([`list`])
//! - `POST /api/v1/notion/views/{id}/query` ([`query`])
//!
//! Tests: `routes/notion/comments/tests.rs` (views over REST), `super::tests` and
//! `routes/tools/tests/endpoint.rs` (view actions).

mod list;
mod query;

pub use list::*;
pub use query::*;

use super::*;

/// The routes of this resource, each registered with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_views_handler))
        .routes(routes!(query_view_handler))
}

/// One view of a database.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewOut {
    /// The view id.
    pub id: String,
    /// Its name (the tab's label).
    pub name: Option<String>,
    /// Its layout (`table`, `board`, `list`, …).
    #[serde(rename = "type")]
    pub view_type: Option<String>,
    /// The data source it shows.
    pub data_source_id: Option<String>,
    /// Its URL.
    pub url: Option<String>,
    /// Whether it filters rows.
    pub filtered: bool,
    /// Whether it sorts rows.
    pub sorted: bool,
}

/// Views with a cursor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewList {
    /// The views.
    pub results: Vec<ViewOut>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

/// Rows of a view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewRows {
    /// The view queried.
    pub view_id: String,
    /// The data source it shows.
    pub data_source_id: String,
    /// The rows, filtered and sorted as the view is.
    pub results: Vec<Row>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

pub(crate) fn view_out(v: &notion_client::models::View) -> ViewOut {
    let view_type = v
        .view_type
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .and_then(|t| t.as_str().map(str::to_owned));
    ViewOut {
        id: v.id.canonical(),
        name: v.name.as_ref().cloned(),
        view_type,
        data_source_id: v.data_source_id.as_ref().map(|d| d.canonical()),
        url: v.url.as_ref().cloned(),
        filtered: v.filter.as_ref().is_some_and(|f| !f.is_null()),
        sorted: v
            .sorts
            .as_ref()
            .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty())),
    }
}
