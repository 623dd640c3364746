//! Databases (containers of data sources since 2025-09-03): retrieve, create, update, and the
//! legacy 2022-06-28 query.

use reqwest::Method;
use serde_json::{Map, Value};

use super::ParentRef;
use super::data_sources::QueryDataSource;
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::DatabaseId;
use crate::models::{Database, ListResponse, SearchResult};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Database endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Databases<'a> {
    pub(crate) conn: &'a Connection,
}

/// A new database.
#[derive(Debug, Clone)]
pub struct CreateDatabase {
    body: Map<String, Value>,
}

impl CreateDatabase {
    /// A database under `parent` (a page, or the workspace for public connections) whose first
    /// data source has these properties (`{name: {type config}}`; exactly one `title`).
    pub fn new(parent: ParentRef, properties: Map<String, Value>) -> Self {
        let mut body = Map::new();
        body.insert("parent".into(), parent.to_value());
        body.insert("properties".into(), Value::Object(properties));
        Self { body }
    }

    /// Sets the title.
    pub fn title(mut self, title: &str) -> Self {
        self.body.insert(
            "title".into(),
            serde_json::json!([{"type": "text", "text": {"content": title}}]),
        );
        self
    }

    /// Sets any other field (`description`, `is_inline`, `icon`, `cover`).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.to_owned(), value);
        self
    }

    /// The body for a version: `initial_data_source.properties` on 2025-09-03+, top-level
    /// `properties` on 2022-06-28.
    pub fn body(&self, data_sources: bool) -> Map<String, Value> {
        let mut body = self.body.clone();
        if data_sources && let Some(props) = body.remove("properties") {
            body.insert(
                "initial_data_source".into(),
                serde_json::json!({"properties": props}),
            );
        }
        body
    }
}

/// Changes to a database container.
#[derive(Debug, Clone, Default)]
pub struct UpdateDatabase {
    body: Map<String, Value>,
}

impl UpdateDatabase {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field: `title`, `description`, `is_inline`, `icon`, `cover`, `in_trash`,
    /// `is_locked`, `parent` (and `properties` on 2022-06-28).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.to_owned(), value);
        self
    }
}

fn db_path(id: &DatabaseId) -> String {
    format!("/v1/databases/{}", id.canonical())
}

impl Databases<'_> {
    /// `GET /v1/databases/{id}`: the container with its `data_sources`.
    pub async fn retrieve(&self, id: &DatabaseId) -> Result<Database> {
        let id = DatabaseId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                db_path(&id),
                Idempotency::Safe,
            ))
            .await
    }

    /// `POST /v1/databases`. Never retried after it may have reached Notion.
    pub async fn create(&self, create: &CreateDatabase) -> Result<Database> {
        let body = create.body(self.conn.version().has_data_sources());
        let req =
            RawRequest::new(Method::POST, "/v1/databases", Idempotency::Unsafe).json(&body)?;
        self.conn.send(req).await
    }

    /// `PATCH /v1/databases/{id}`.
    pub async fn update(&self, id: &DatabaseId, update: &UpdateDatabase) -> Result<Database> {
        let id = DatabaseId::parse(id.as_str())?;
        let req =
            RawRequest::new(Method::PATCH, db_path(&id), Idempotency::Safe).json(&update.body)?;
        self.conn.send(req).await
    }

    /// `POST /v1/databases/{id}/query`: only on API version 2022-06-28 (later versions query
    /// data sources).
    pub async fn query_legacy(
        &self,
        id: &DatabaseId,
        query: &QueryDataSource,
        paging: &Paging,
    ) -> Result<ListResponse<SearchResult>> {
        if self.conn.version().has_data_sources() {
            return Err(Error::InvalidRequest(format!(
                "database queries exist only on Notion-Version 2022-06-28; on {} query the \
                 database's data sources",
                self.conn.version()
            )));
        }
        let id = DatabaseId::parse(id.as_str())?;
        let req = query.request(format!("{}/query", db_path(&id)), paging)?;
        self.conn.send(req).await
    }
}
