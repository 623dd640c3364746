//! Views (API 2025-09-03 and later) and view queries.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::Parent;
use super::list::RequestStatus;
use super::union::Maybe;
use super::user::User;
use crate::ids::{DataSourceId, PageId, ViewId, ViewQueryId};

string_enum! {
    /// A view's layout.
    pub enum ViewType {
        /// `table`
        Table = "table",
        /// `board`
        Board = "board",
        /// `list`
        List = "list",
        /// `calendar`
        Calendar = "calendar",
        /// `timeline`
        Timeline = "timeline",
        /// `gallery`
        Gallery = "gallery",
        /// `form`
        Form = "form",
        /// `chart`
        Chart = "chart",
        /// `map`
        Map = "map",
        /// `dashboard`
        Dashboard = "dashboard",
    }
}

/// A view: full (retrieve, create, update) or partial (`{object, id}` in lists; `{object, id,
/// parent, type}` after a delete). Filters, sorts and configuration are kept as Notion's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct View {
    /// The view's ID.
    pub id: ViewId,
    /// The database it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// Its name (the tab's label).
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub name: Maybe<String>,
    /// Its layout.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub view_type: Option<ViewType>,
    /// When created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// When last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_time: Option<String>,
    /// Its URL.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub url: Maybe<String>,
    /// The data source it shows.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub data_source_id: Maybe<DataSourceId>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub created_by: Maybe<User>,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub last_edited_by: Maybe<User>,
    /// Its filter (a data source query filter).
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub filter: Maybe<Value>,
    /// Its sorts.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub sorts: Maybe<Value>,
    /// Its quick filters.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub quick_filters: Maybe<Value>,
    /// Layout configuration.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub configuration: Maybe<Value>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page in a view query's results: `{object: "page", id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageReference {
    /// The page's ID.
    pub id: PageId,
    /// Every other field (`object`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A view query: created with the first page of results (`{object: "view_query", id, view_id,
/// expires_at, total_count, results, next_cursor, has_more}`), or the answer to its deletion
/// (`{object, id, deleted: true}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ViewQuery {
    /// The query's ID, for paging through its results.
    pub id: ViewQueryId,
    /// The view queried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_id: Option<ViewId>,
    /// When Notion discards the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// How many pages match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// The first page of results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<PageReference>>,
    /// The cursor of the next page of results.
    #[serde(default, skip_serializing_if = "Maybe::is_absent")]
    pub next_cursor: Maybe<String>,
    /// Whether more results follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// Whether the result set is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_status: Option<RequestStatus>,
    /// `true` in the answer to a deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
