//! Shaping of Notion objects for the REST API and the tool endpoint: compact page, data
//! source and search summaries (titles from the property whose *type* is `title`), rows with
//! flattened properties, schemas with options and relation targets, nested block JSON, and
//! the conversion of simple property values (`"text"`, `3`, `true`, `["a", "b"]`) into
//! Notion's request form using a data source's schema.
//!
//! Everything here is pure: no IO, no governance.

use std::collections::BTreeMap;

use notion_client::endpoints::{ObjectRef, PropertyRequest};
use notion_client::ids::BlockId;
use notion_client::models::{
    Block, DataSource, Database, DateValue, Page, Parent, ParentKind, PropertyConfig, SearchResult,
    SelectOption,
};
use notion_client::tree::PageTree;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::ApiError;

/// A compact summary of a page, data source or database.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ObjectSummary {
    /// The object's id (dashed, lower case).
    pub id: String,
    /// `page`, `data_source` or `database`.
    pub object: String,
    /// The plain-text title (of the property whose type is `title`, for pages).
    pub title: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// The parent: `{type, id}` (`{type: "workspace"}` at the top level).
    #[schema(value_type = Object)]
    pub parent: Value,
    /// When it was last edited.
    pub last_edited_time: Option<String>,
}

/// The compact form of a parent: `{type, id}`, or `{type: "workspace"}`.
pub fn parent_json(parent: Option<&Parent>) -> Value {
    let Some(p) = parent else {
        return Value::Null;
    };
    match &p.kind {
        ParentKind::PageId(id) => json!({"type": "page_id", "id": id.canonical()}),
        ParentKind::BlockId(id) => json!({"type": "block_id", "id": id.canonical()}),
        ParentKind::DatabaseId(id) => json!({"type": "database_id", "id": id.canonical()}),
        ParentKind::DataSourceId(id) => {
            let mut v = json!({"type": "data_source_id", "id": id.canonical()});
            if let Some(db) = p.database_id() {
                v["database_id"] = Value::String(db.canonical());
            }
            v
        }
        ParentKind::Workspace(_) => json!({"type": "workspace"}),
        _ => serde_json::to_value(p).unwrap_or(Value::Null),
    }
}

/// A page's summary.
pub fn page_summary(page: &Page) -> ObjectSummary {
    ObjectSummary {
        id: page.id.canonical(),
        object: "page".to_owned(),
        title: page.title(),
        url: page.url.clone(),
        parent: parent_json(page.parent.as_ref()),
        last_edited_time: page.last_edited_time.clone(),
    }
}

/// A data source's summary (its parent is its database).
pub fn data_source_summary(ds: &DataSource) -> ObjectSummary {
    ObjectSummary {
        id: ds.id.canonical(),
        object: "data_source".to_owned(),
        title: ds.title(),
        url: ds.url.as_ref().cloned(),
        parent: parent_json(ds.parent.as_ref()),
        last_edited_time: ds.last_edited_time.clone(),
    }
}

/// A database's summary (2022-06-28 answers).
pub fn database_summary(db: &Database) -> ObjectSummary {
    ObjectSummary {
        id: db.id.canonical(),
        object: "database".to_owned(),
        title: db.title(),
        url: db.url.as_ref().cloned(),
        parent: parent_json(db.parent.as_ref()),
        last_edited_time: db.last_edited_time.clone(),
    }
}

/// A search result's summary.
pub fn search_summary(r: &SearchResult) -> Option<ObjectSummary> {
    match r {
        SearchResult::Page(p) => Some(page_summary(p)),
        SearchResult::DataSource(d) => Some(data_source_summary(d)),
        SearchResult::Database(d) => Some(database_summary(d)),
        _ => None,
    }
}

/// A data source row (or any page) with its properties flattened.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Row {
    /// The page id.
    pub id: String,
    /// The title.
    pub title: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// When it was last edited.
    pub last_edited_time: Option<String>,
    /// Property name → plain value (see `notion-markdown`'s flattening table).
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// Property name → Notion's own value (left out by the tool endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub raw_properties: Option<Value>,
}

/// A row from a page; `raw` keeps Notion's property values too.
pub fn row(page: &Page, raw: bool) -> Row {
    Row {
        id: page.id.canonical(),
        title: page.title(),
        url: page.url.clone(),
        last_edited_time: page.last_edited_time.clone(),
        properties: notion_markdown::flatten_page(page),
        raw_properties: raw.then(|| serde_json::to_value(&page.properties).unwrap_or(Value::Null)),
    }
}

/// The schema of one data source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DataSourceSchema {
    /// The data source id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description (plain text; `null` when empty).
    pub description: Option<String>,
    /// The database (container) it belongs to.
    pub database_id: Option<String>,
    /// The Notion URL.
    pub url: Option<String>,
    /// Property name → `{id, type, description, options?, groups?, relation?, …}`.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

/// A data source's flattened schema.
pub fn schema(ds: &DataSource) -> DataSourceSchema {
    let description = ds
        .description
        .as_ref()
        .map(|d| notion_markdown::rich_text_to_plain_text(d))
        .filter(|d| !d.is_empty());
    DataSourceSchema {
        id: ds.id.canonical(),
        title: ds.title(),
        description,
        database_id: ds.database_id().map(|d| d.canonical()),
        url: ds.url.as_ref().cloned(),
        properties: notion_markdown::flatten_schema(ds),
    }
}

/// The fetched blocks below `root` as nested JSON: each block as Notion sent it, with a
/// `children` array when its children were fetched.
pub fn blocks_json(tree: &PageTree) -> Value {
    fn go(tree: &PageTree, blocks: &[Block], depth: usize) -> Vec<Value> {
        blocks
            .iter()
            .map(|b| {
                let mut v = serde_json::to_value(b).unwrap_or(Value::Null);
                if depth < 64
                    && let Some(kids) = tree.get(&b.id)
                    && let Some(m) = v.as_object_mut()
                {
                    m.insert("children".into(), Value::Array(go(tree, kids, depth + 1)));
                }
                v
            })
            .collect()
    }
    Value::Array(go(tree, tree.top_level(), 0))
}

/// Block ids as dashed strings.
pub fn block_ids(ids: &[BlockId]) -> Vec<String> {
    ids.iter().map(BlockId::canonical).collect()
}

/// The type of each property of a schema, by name.
pub fn property_types(
    schema: Option<&BTreeMap<String, PropertyConfig>>,
) -> BTreeMap<String, String> {
    let Some(schema) = schema else {
        return BTreeMap::new();
    };
    schema
        .iter()
        .filter_map(|(name, cfg)| {
            let v = serde_json::to_value(cfg).ok()?;
            let ty = v.get("type")?.as_str()?.to_owned();
            Some((name.clone(), ty))
        })
        .collect()
}

/// Converts property values to Notion's request form.
///
/// `types` maps property names to their type (from the data source schema); for a page
/// parent pass `None`: only the title (any name; `title` by convention) may be set. An
/// object value is taken to be Notion's own form and passes through unchanged. Simple values:
/// strings for `title`, `rich_text`, `select`, `status`, `url`, `email`, `phone_number`,
/// `date` (the start); numbers for `number`; booleans for `checkbox`; arrays of strings for
/// `multi_select`, `relation` and `people` (ids); `null` clears. Errors name the property
/// (`properties.<name>`).
pub fn to_notion_properties(
    input: &Map<String, Value>,
    types: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, PropertyRequest>, ApiError> {
    let mut out = BTreeMap::new();
    for (name, value) in input {
        let field = format!("properties.{name}");
        let ty = match types {
            Some(t) => match t.get(name) {
                Some(ty) => ty.as_str(),
                None => {
                    let known: Vec<&str> = t.keys().map(String::as_str).collect();
                    return Err(ApiError::invalid_field(
                        &field,
                        format!(
                            "the data source has no property `{name}`; its properties are: {}",
                            known.join(", ")
                        ),
                    ));
                }
            },
            None => "title",
        };
        if value.is_object() {
            out.insert(name.clone(), PropertyRequest::Raw(value.clone()));
            continue;
        }
        let converted = convert(ty, value).ok_or_else(|| {
            ApiError::invalid_field(
                &field,
                format!(
                    "a {ty} property takes {}, or Notion's property-value object",
                    expected(ty)
                ),
            )
        })?;
        out.insert(name.clone(), converted);
    }
    Ok(out)
}

fn expected(ty: &str) -> &'static str {
    match ty {
        "number" => "a number or null",
        "checkbox" => "true or false",
        "multi_select" | "relation" | "people" => "an array of strings",
        "title" | "rich_text" | "select" | "status" | "url" | "email" | "phone_number" | "date" => {
            "a string or null"
        }
        _ => "only Notion's property-value object (it is not settable from a simple value)",
    }
}

fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn convert(ty: &str, v: &Value) -> Option<PropertyRequest> {
    use PropertyRequest as P;
    let s = v.as_str();
    let null = v.is_null();
    let text = || s.or(null.then_some(""));
    let option = || s.map(SelectOption::named);
    let names = || Some(strings(v)?.into_iter().map(SelectOption::named).collect());
    let ids = || Some(strings(v)?.into_iter().map(ObjectRef::new).collect());
    Some(match ty {
        "title" => P::title(text()?),
        "rich_text" => P::rich_text(text()?),
        "number" if v.is_number() || null => P::Number(v.as_number().cloned()),
        "checkbox" => P::Checkbox(v.as_bool()?),
        "select" if null || s.is_some() => P::Select(option()),
        "status" if null || s.is_some() => P::Status(option()),
        "multi_select" => P::MultiSelect(names()?),
        "relation" => P::Relation(ids()?),
        "people" => P::People(ids()?),
        "url" if null || s.is_some() => P::Url(s.map(str::to_owned)),
        "email" if null || s.is_some() => P::Email(s.map(str::to_owned)),
        "phone_number" if null || s.is_some() => P::PhoneNumber(s.map(str::to_owned)),
        "date" if null || s.is_some() => P::Date(s.map(DateValue::new)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_values_convert_by_type() {
        let types: BTreeMap<String, String> = [
            ("Name", "title"),
            ("Estimate", "number"),
            ("Done", "checkbox"),
            ("Tags", "multi_select"),
            ("Priority", "select"),
            ("Due", "date"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let input = json!({"Name": "x", "Estimate": 3, "Done": true, "Tags": ["a", "b"],
            "Priority": "High", "Due": "2026-01-01", "Raw": {"rich_text": []}});
        let err = to_notion_properties(input.as_object().unwrap(), Some(&types)).unwrap_err();
        assert_eq!(err.details["field"], "properties.Raw");
        let mut input = input.as_object().unwrap().clone();
        input.remove("Raw");
        let out =
            serde_json::to_value(to_notion_properties(&input, Some(&types)).unwrap()).unwrap();
        assert_eq!(out["Name"]["title"][0]["text"]["content"], "x");
        assert_eq!(out["Estimate"], json!({"number": 3}));
        assert_eq!(out["Tags"]["multi_select"][1]["name"], "b");
        assert_eq!(out["Priority"], json!({"select": {"name": "High"}}));
        assert_eq!(out["Due"], json!({"date": {"start": "2026-01-01"}}));
        let bad = json!({"Estimate": "three"});
        let err = to_notion_properties(bad.as_object().unwrap(), Some(&types)).unwrap_err();
        assert_eq!(err.details["field"], "properties.Estimate");
    }

    /// Each simple value converts to the request form Notion documents (reference §6.7).
    #[test]
    fn every_settable_type_converts_to_notions_request_form() {
        let cases = [
            ("title", json!(null), json!({"title": []})),
            (
                "rich_text",
                json!("r"),
                json!({"rich_text": [{"type": "text", "text": {"content": "r"}}]}),
            ),
            ("number", json!(null), json!({"number": null})),
            ("checkbox", json!(false), json!({"checkbox": false})),
            ("status", json!("Done"), json!({"status": {"name": "Done"}})),
            ("select", json!(null), json!({"select": null})),
            ("relation", json!("a"), json!({"relation": [{"id": "a"}]})),
            (
                "people",
                json!(["u", "v"]),
                json!({"people": [{"id": "u"}, {"id": "v"}]}),
            ),
            ("url", json!("https://x"), json!({"url": "https://x"})),
            ("email", json!(null), json!({"email": null})),
            ("phone_number", json!("1"), json!({"phone_number": "1"})),
            ("date", json!(null), json!({"date": null})),
        ];
        for (ty, given, want) in cases {
            let got = convert(ty, &given).map(|p| serde_json::to_value(p).unwrap());
            assert_eq!(got, Some(want), "{ty}");
        }
        assert!(convert("url", &json!(3)).is_none());
        assert!(convert("formula", &json!("x")).is_none());
    }

    #[test]
    fn long_text_is_split() {
        let v = serde_json::to_value(convert("title", &json!("é".repeat(4500)))).unwrap();
        assert_eq!(v["title"].as_array().map(Vec::len), Some(3));
    }
}
