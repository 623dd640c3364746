//! Data sources (2025-09-03+): retrieve, query with filter and sorts, create, update, and
//! templates.

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::{Connection, RawRequest};
use crate::error::Result;
use crate::ids::{DataSourceId, DatabaseId};
use crate::models::{DataSource, ListResponse, SearchResult, TemplateList};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Data source endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct DataSources<'a> {
    pub(crate) conn: &'a Connection,
}

/// A data source query: the body of `POST /v1/data_sources/{id}/query`, typed (filter,
/// sorts, trash), and the properties to return (a query parameter).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueryDataSource {
    /// A property filter, a timestamp filter, or `{and|or: [...]}` (two levels at most).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Sorts, first wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sorts: Vec<Value>,
    /// Whether trashed rows are included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_trash: Option<bool>,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Properties to return (IDs or names; a query parameter, not part of the body).
    #[serde(skip)]
    pub filter_properties: Vec<String>,
}

/// One page of a query, as sent: the query and the cursor.
#[derive(Serialize)]
struct QueryPage<'a> {
    #[serde(flatten)]
    query: &'a QueryDataSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
}

impl QueryDataSource {
    /// A query for every row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the filter: a property filter, a timestamp filter, or `{and|or: [...]}` (two
    /// levels at most).
    pub fn filter(mut self, filter: Value) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Adds a sort (Notion's JSON: by `property` or `timestamp`, with a `direction`).
    pub fn sort(mut self, sort: Value) -> Self {
        self.sorts.push(sort);
        self
    }

    /// Adds a sort by property (`ascending` or `descending`).
    pub fn sort_by_property(self, property: &str, ascending: bool) -> Self {
        self.sort(serde_json::json!({"property": property, "direction": dir(ascending)}))
    }

    /// Adds a sort by `created_time` or `last_edited_time`.
    pub fn sort_by_timestamp(self, timestamp: &str, ascending: bool) -> Self {
        self.sort(serde_json::json!({"timestamp": timestamp, "direction": dir(ascending)}))
    }

    /// Includes trashed rows.
    pub fn in_trash(mut self, in_trash: bool) -> Self {
        self.in_trash = Some(in_trash);
        self
    }

    /// Returns only these properties (IDs or names) on each row.
    pub fn filter_properties(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.filter_properties.extend(ids);
        self
    }

    /// The request (a read) for one page of this query at `path`.
    pub(crate) fn request(&self, path: String, paging: &Paging) -> Result<RawRequest> {
        let page = QueryPage {
            query: self,
            start_cursor: paging.start_cursor.as_deref().filter(|c| !c.is_empty()),
            page_size: paging.page_size.map(|n| n.clamp(1, 100)),
        };
        let mut req = RawRequest::new(Method::POST, path, Idempotency::Safe)
            .read(true)
            .json(&page)?;
        req.query = self
            .filter_properties
            .iter()
            .map(|p| ("filter_properties".to_owned(), p.clone()))
            .collect();
        Ok(req)
    }
}

fn dir(ascending: bool) -> &'static str {
    if ascending { "ascending" } else { "descending" }
}

/// A new data source in an existing database.
#[derive(Debug, Clone)]
pub struct CreateDataSource {
    body: Map<String, Value>,
}

impl CreateDataSource {
    /// A data source in `database` with these properties (exactly one `title`).
    pub fn new(database: &DatabaseId, properties: Map<String, Value>) -> Self {
        let mut body = Map::new();
        body.insert(
            "parent".into(),
            serde_json::json!({"type": "database_id", "database_id": database.canonical()}),
        );
        body.insert("properties".into(), Value::Object(properties));
        Self { body }
    }

    /// Sets another field (`title`, `icon`).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.to_owned(), value);
        self
    }
}

/// Changes to a data source's schema or metadata.
#[derive(Debug, Clone, Default)]
pub struct UpdateDataSource {
    body: Map<String, Value>,
}

impl UpdateDataSource {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or reconfigures (`{<type>: {...}}`), renames (`{"name": …}`) or, with
    /// `Value::Null`, deletes a property.
    pub fn property(mut self, name: &str, change: Value) -> Self {
        let props = self
            .body
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(p) = props {
            p.insert(name.to_owned(), change);
        }
        self
    }

    /// Sets another field (`title`, `icon`, `in_trash`, `parent`).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.to_owned(), value);
        self
    }
}

fn ds_path(id: &DataSourceId) -> String {
    format!("/v1/data_sources/{}", id.canonical())
}

impl DataSources<'_> {
    /// `GET /v1/data_sources/{id}`: the schema.
    pub async fn retrieve(&self, id: &DataSourceId) -> Result<DataSource> {
        let id = DataSourceId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                ds_path(&id),
                Idempotency::Safe,
            ))
            .await
    }

    /// One page of `POST /v1/data_sources/{id}/query` (read-only despite POST).
    pub async fn query(
        &self,
        id: &DataSourceId,
        query: &QueryDataSource,
        paging: &Paging,
    ) -> Result<ListResponse<SearchResult>> {
        self.query_as(id, query, paging).await
    }

    /// Like [`DataSources::query`], with the rows decoded as `T` (such as
    /// [`Page`](crate::models::Page) when the data source holds only pages).
    pub async fn query_as<T: DeserializeOwned>(
        &self,
        id: &DataSourceId,
        query: &QueryDataSource,
        paging: &Paging,
    ) -> Result<ListResponse<T>> {
        let id = DataSourceId::parse(id.as_str())?;
        let req = query.request(format!("{}/query", ds_path(&id)), paging)?;
        self.conn.send(req).await
    }

    paged_stream! {
        /// Every row, following cursors, up to `cap` rows.
        query_stream<'a>(id: &'a DataSourceId, query: &'a QueryDataSource) -> SearchResult = query
    }

    /// `POST /v1/data_sources`. Never retried after it may have reached Notion.
    pub async fn create(&self, create: &CreateDataSource) -> Result<DataSource> {
        let req = RawRequest::new(Method::POST, "/v1/data_sources", Idempotency::Unsafe)
            .json(&create.body)?;
        self.conn.send(req).await
    }

    /// `PATCH /v1/data_sources/{id}`.
    pub async fn update(&self, id: &DataSourceId, update: &UpdateDataSource) -> Result<DataSource> {
        let id = DataSourceId::parse(id.as_str())?;
        let req =
            RawRequest::new(Method::PATCH, ds_path(&id), Idempotency::Safe).json(&update.body)?;
        self.conn.send(req).await
    }

    /// `GET /v1/data_sources/{id}/templates`, optionally filtered by name.
    pub async fn templates(
        &self,
        id: &DataSourceId,
        name: Option<&str>,
        paging: &Paging,
    ) -> Result<TemplateList> {
        let id = DataSourceId::parse(id.as_str())?;
        let mut req = RawRequest::new(
            Method::GET,
            format!("{}/templates", ds_path(&id)),
            Idempotency::Safe,
        );
        req.query = paging.to_query();
        if let Some(name) = name {
            req = req.query("name", name);
        }
        self.conn.send(req).await
    }
}
