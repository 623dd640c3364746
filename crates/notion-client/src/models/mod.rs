//! Notion object models for API versions 2025-09-03 and 2026-03-11 (and 2022-06-28 shapes).
//!
//! Every model keeps unknown fields in an `extra` map and unknown union variants as raw JSON,
//! so that a response deserializes and re-serializes without loss.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{BlockId, CommentId, DataSourceId, DatabaseId, PageId, UserId};

/// A page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page {
    /// The page ID.
    pub id: PageId,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Block {
    /// The block ID.
    pub id: BlockId,
    /// Whether the block has children to fetch.
    #[serde(default)]
    pub has_children: bool,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A database container (or, on 2022-06-28, a schema-bearing database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Database {
    /// The database ID.
    pub id: DatabaseId,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A data source (2025-09-03 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataSource {
    /// The data source ID.
    pub id: DataSourceId,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user or bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user ID.
    pub id: UserId,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comment {
    /// The comment ID.
    pub id: CommentId,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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

/// The list envelope: `{object: "list", results, next_cursor, has_more, type, ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListResponse<T> {
    /// This page of results.
    pub results: Vec<T>,
    /// The cursor for the next page, or `None` at the end.
    pub next_cursor: Option<String>,
    /// Whether more results follow.
    pub has_more: bool,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A property item, or a paginated list of property items.
pub type PropertyItemResponse = Value;

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
    pub templates: Vec<Value>,
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
