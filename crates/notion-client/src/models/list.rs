//! Envelopes: the paginated list, search results, property-item responses, `page_markdown`,
//! and the data-source template list.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::database::{DataSource, Database, Template};
use super::page::Page;
use super::property::{PropertyItem, PropertyItemListInfo};
use crate::ids::{BlockId, PageId};

/// The `request_status` of some lists: `{type: "complete" | "incomplete", incomplete_reason?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestStatus {
    /// `complete` or `incomplete`.
    #[serde(rename = "type")]
    pub status: String,
    /// Why the result is incomplete, such as `query_result_limit_reached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RequestStatus {
    /// Whether the result set is complete.
    pub fn is_complete(&self) -> bool {
        self.status == "complete"
    }
}

/// The list envelope: `{object: "list", results, next_cursor, has_more, type, <type>: {},
/// request_status?, request_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListResponse<T> {
    /// This page of results.
    pub results: Vec<T>,
    /// The cursor for the next page, or `None` at the end.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Whether more results follow.
    #[serde(default)]
    pub has_more: bool,
    /// The kind of results (`block`, `page_or_data_source`, `page_or_database`, `user`,
    /// `comment`, `property_item`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub list_type: Option<String>,
    /// Whether the result set is complete (search, query, comments, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_status: Option<RequestStatus>,
    /// The property being paginated (property-item lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_item: Option<PropertyItemListInfo>,
    /// Every other field (`object`, the `<type>` object, `request_id`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T> ListResponse<T> {
    /// A final page holding `results` (for tests and emulators).
    pub fn new(results: Vec<T>) -> Self {
        Self {
            results,
            next_cursor: None,
            has_more: false,
            list_type: None,
            request_status: None,
            property_item: None,
            extra: Map::new(),
        }
    }

    /// The request ID, if the envelope carries one.
    pub fn request_id(&self) -> Option<&str> {
        self.extra.get("request_id").and_then(Value::as_str)
    }
}

/// One result of a search or of a data source query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SearchResult {
    /// A page.
    Page(Page),
    /// A data source (2025-09-03+).
    DataSource(DataSource),
    /// A database (2022-06-28).
    Database(Database),
}

/// A property item, or a paginated list of property items (list types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "object")]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum PropertyItemResponse {
    /// `object: "property_item"`: one value.
    #[serde(rename = "property_item")]
    Item(PropertyItem),
    /// `object: "list"`: one page of items.
    #[serde(rename = "list")]
    List(ListResponse<PropertyItem>),
}

/// `page_markdown`: `{object, id, markdown, truncated, unknown_block_ids}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PageMarkdown {
    /// The page or block ID.
    pub id: PageId,
    /// The rendered Markdown.
    pub markdown: String,
    /// Whether the page was too large and was cut.
    #[serde(default)]
    pub truncated: bool,
    /// Blocks that could not be rendered; pass each back to render its subtree.
    #[serde(default)]
    pub unknown_block_ids: Vec<BlockId>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `GET /v1/data_sources/{id}/templates` (no list envelope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TemplateList {
    /// The templates.
    pub templates: Vec<Template>,
    /// Whether more follow.
    #[serde(default)]
    pub has_more: bool,
    /// Cursor for the next page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
