//! Envelopes: the paginated list, search results, property-item responses, `page_markdown`,
//! and the data-source template list.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::object::Key;

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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

impl<T: DeserializeOwned> ListResponse<T> {
    /// Decodes the (rest of the) keys of a list in one pass (see `models::object`).
    pub(crate) fn de_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut results = None;
        let mut next_cursor = None;
        let mut has_more = None;
        let mut list_type = None;
        let mut request_status = None;
        let mut property_item = None;
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            macro_rules! field {
                ($slot:ident, $name:literal) => {{
                    if $slot.is_some() {
                        return Err(A::Error::duplicate_field($name));
                    }
                    $slot = Some(map.next_value()?);
                }};
            }
            match key.as_str() {
                "results" => field!(results, "results"),
                "next_cursor" => field!(next_cursor, "next_cursor"),
                "has_more" => field!(has_more, "has_more"),
                "type" => field!(list_type, "type"),
                "request_status" => field!(request_status, "request_status"),
                "property_item" => field!(property_item, "property_item"),
                _ => {
                    let value: Value = map.next_value()?;
                    extra.insert(key.into_string(), value);
                }
            }
        }
        Ok(Self {
            results: results.ok_or_else(|| A::Error::missing_field("results"))?,
            next_cursor: next_cursor.unwrap_or_default(),
            has_more: has_more.unwrap_or_default(),
            list_type: list_type.unwrap_or_default(),
            request_status: request_status.unwrap_or_default(),
            property_item: property_item.unwrap_or_default(),
            extra,
        })
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for ListResponse<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<fn() -> T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for ListVisitor<T> {
            type Value = ListResponse<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct ListResponse")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ListResponse<T>, A::Error> {
                ListResponse::de_map(map)
            }
        }
        deserializer.deserialize_map(ListVisitor(PhantomData))
    }
}

/// Decodes an object tagged by `object` (`{"object": "<tag>", …}`, the tag's key not kept):
/// in one pass when `object` comes first, as Notion sends it; otherwise the object is read
/// into a `Value` first and decoded from it.
trait ObjectTagged: Sized {
    const TAGS: &'static [&'static str];
    fn de_rest<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error>;
    fn from_value(tag: &str, rest: Value) -> Result<Self, serde_json::Error>;
}

fn de_object_tagged<'de, T: ObjectTagged, D: Deserializer<'de>>(
    deserializer: D,
    expecting: &'static str,
) -> Result<T, D::Error> {
    struct TaggedVisitor<T>(&'static str, PhantomData<fn() -> T>);
    impl<'de, T: ObjectTagged> Visitor<'de> for TaggedVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let first = map.next_key::<Key<'de>>()?;
            if let Some(key) = &first
                && key.as_str() == "object"
            {
                let tag: Key<'de> = map.next_value()?;
                return T::de_rest(tag.as_str(), map);
            }
            let mut object = Map::new();
            if let Some(key) = first {
                let value: Value = map.next_value()?;
                object.insert(key.into_string(), value);
            }
            while let Some(key) = map.next_key::<Key<'de>>()? {
                let value: Value = map.next_value()?;
                object.insert(key.into_string(), value);
            }
            match object.shift_remove("object") {
                Some(Value::String(tag)) => {
                    if !T::TAGS.contains(&tag.as_str()) {
                        return Err(A::Error::unknown_variant(&tag, T::TAGS));
                    }
                    T::from_value(&tag, Value::Object(object)).map_err(A::Error::custom)
                }
                Some(other) => Err(A::Error::custom(format!(
                    "`object` must be a string, found {other}"
                ))),
                None => Err(A::Error::missing_field("object")),
            }
        }
    }
    deserializer.deserialize_map(TaggedVisitor(expecting, PhantomData))
}

impl ObjectTagged for SearchResult {
    const TAGS: &'static [&'static str] = &["page", "data_source", "database"];
    fn de_rest<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        match tag {
            "page" => Page::de_map(map).map(Self::Page),
            "data_source" => DataSource::de_map(map).map(Self::DataSource),
            "database" => Database::de_map(map).map(Self::Database),
            other => Err(A::Error::unknown_variant(other, Self::TAGS)),
        }
    }
    fn from_value(tag: &str, rest: Value) -> Result<Self, serde_json::Error> {
        Ok(match tag {
            "page" => Self::Page(serde_json::from_value(rest)?),
            "data_source" => Self::DataSource(serde_json::from_value(rest)?),
            _ => Self::Database(serde_json::from_value(rest)?),
        })
    }
}

impl<'de> Deserialize<'de> for SearchResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_object_tagged(deserializer, "a page, data source or database")
    }
}

impl ObjectTagged for PropertyItemResponse {
    const TAGS: &'static [&'static str] = &["property_item", "list"];
    fn de_rest<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<Self, A::Error> {
        match tag {
            "property_item" => PropertyItem::de_map(map).map(Self::Item),
            "list" => ListResponse::de_map(map).map(Self::List),
            other => Err(A::Error::unknown_variant(other, Self::TAGS)),
        }
    }
    fn from_value(tag: &str, rest: Value) -> Result<Self, serde_json::Error> {
        Ok(match tag {
            "property_item" => Self::Item(serde_json::from_value(rest)?),
            _ => Self::List(serde_json::from_value(rest)?),
        })
    }
}

impl<'de> Deserialize<'de> for PropertyItemResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de_object_tagged(deserializer, "a property item or a list of them")
    }
}
