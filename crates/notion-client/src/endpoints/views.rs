//! Views (API 2025-09-03 and later): create, retrieve, update, delete, list by database or data
//! source; view queries: create (with the first page of results), page through the results,
//! delete.

use futures::Stream;
use reqwest::Method;
use serde_json::{Map, Value};

use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{DataSourceId, DatabaseId, ViewId, ViewQueryId};
use crate::models::{ListResponse, PageReference, View, ViewQuery, ViewType};
use crate::pagination::{Paging, paginate};
use crate::retry::Idempotency;

/// View endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Views<'a> {
    pub(crate) conn: &'a Connection,
}

/// Which views to list: those of a database, of a data source, or of a data source within a
/// database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewsOf {
    /// Every view of a database.
    Database(DatabaseId),
    /// Every view showing a data source.
    DataSource(DataSourceId),
}

/// A new view: a data source shown in a database (or as a widget of a dashboard view).
#[derive(Debug, Clone)]
pub struct CreateView {
    body: Map<String, Value>,
}

impl CreateView {
    /// A view of `data_source` in `database`, named `name`, of layout `view_type`.
    pub fn new(
        database: &DatabaseId,
        data_source: &DataSourceId,
        name: impl Into<String>,
        view_type: ViewType,
    ) -> Self {
        let mut body = Map::new();
        body.insert("database_id".into(), Value::String(database.canonical()));
        body.insert(
            "data_source_id".into(),
            Value::String(data_source.canonical()),
        );
        body.insert("name".into(), Value::String(name.into()));
        body.insert("type".into(), Value::String(view_type.as_str().to_owned()));
        Self { body }
    }

    /// A widget view of `data_source` on the dashboard view `dashboard` (instead of a database
    /// tab).
    pub fn widget_of(mut self, dashboard: &ViewId) -> Self {
        self.body.remove("database_id");
        self.body
            .insert("view_id".into(), Value::String(dashboard.canonical()));
        self
    }

    /// The view's filter (a data source query filter, in Notion's JSON).
    pub fn filter(mut self, filter: Value) -> Self {
        self.body.insert("filter".into(), filter);
        self
    }

    /// The view's sorts (Notion's JSON array).
    pub fn sorts(mut self, sorts: Value) -> Self {
        self.body.insert("sorts".into(), sorts);
        self
    }

    /// Layout configuration (Notion's JSON).
    pub fn configuration(mut self, configuration: Value) -> Self {
        self.body.insert("configuration".into(), configuration);
        self
    }

    /// The request body as JSON.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

/// Changes to a view: only the fields set are sent; `Value::Null` clears a filter or sorts.
#[derive(Debug, Clone, Default)]
pub struct UpdateView {
    body: Map<String, Value>,
}

impl UpdateView {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the view.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.body.insert("name".into(), Value::String(name.into()));
        self
    }

    /// Changes the layout.
    pub fn view_type(mut self, view_type: ViewType) -> Self {
        self.body
            .insert("type".into(), Value::String(view_type.as_str().to_owned()));
        self
    }

    /// Replaces (or, with `Value::Null`, clears) the filter.
    pub fn filter(mut self, filter: Value) -> Self {
        self.body.insert("filter".into(), filter);
        self
    }

    /// Replaces (or, with `Value::Null`, clears) the sorts.
    pub fn sorts(mut self, sorts: Value) -> Self {
        self.body.insert("sorts".into(), sorts);
        self
    }

    /// Replaces the layout configuration.
    pub fn configuration(mut self, configuration: Value) -> Self {
        self.body.insert("configuration".into(), configuration);
        self
    }

    /// The request body as JSON.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

fn view_path(id: &ViewId) -> Result<String> {
    Ok(format!(
        "/v1/views/{}",
        ViewId::parse(id.as_str())?.canonical()
    ))
}

fn query_path(view: &ViewId, query: &ViewQueryId) -> Result<String> {
    Ok(format!(
        "{}/queries/{}",
        view_path(view)?,
        ViewQueryId::parse(query.as_str())?.canonical()
    ))
}

impl Views<'_> {
    /// `POST /v1/views`. Never retried after it may have reached Notion.
    pub async fn create(&self, view: &CreateView) -> Result<View> {
        let req =
            RawRequest::new(Method::POST, "/v1/views", Idempotency::Unsafe).json(&view.body)?;
        self.conn.send(req).await
    }

    /// `GET /v1/views/{id}`.
    pub async fn retrieve(&self, id: &ViewId) -> Result<View> {
        self.conn
            .send(RawRequest::new(
                Method::GET,
                view_path(id)?,
                Idempotency::Safe,
            ))
            .await
    }

    /// `PATCH /v1/views/{id}` (sets absolute state: safe to repeat).
    pub async fn update(&self, id: &ViewId, update: &UpdateView) -> Result<View> {
        if update.body.is_empty() {
            return Err(Error::InvalidRequest(
                "the view update changes nothing".into(),
            ));
        }
        let req =
            RawRequest::new(Method::PATCH, view_path(id)?, Idempotency::Safe).json(&update.body)?;
        self.conn.send(req).await
    }

    /// `DELETE /v1/views/{id}`: answers the partial view.
    pub async fn delete(&self, id: &ViewId) -> Result<View> {
        self.conn
            .send(RawRequest::new(
                Method::DELETE,
                view_path(id)?,
                Idempotency::Safe,
            ))
            .await
    }

    /// One page of `GET /v1/views` (partial views: `{object, id}`).
    pub async fn list(&self, of: &ViewsOf, paging: &Paging) -> Result<ListResponse<View>> {
        let mut req = RawRequest::new(Method::GET, "/v1/views", Idempotency::Safe);
        req = match of {
            ViewsOf::Database(id) => {
                req.query("database_id", DatabaseId::parse(id.as_str())?.canonical())
            }
            ViewsOf::DataSource(id) => req.query(
                "data_source_id",
                DataSourceId::parse(id.as_str())?.canonical(),
            ),
        };
        req.query.extend(paging.to_query());
        self.conn.send(req).await
    }

    /// Every view, following cursors, up to `cap`.
    pub fn list_stream<'a>(
        &'a self,
        of: &'a ViewsOf,
        cap: Option<usize>,
    ) -> impl Stream<Item = Result<View>> + 'a {
        paginate(
            cap,
            move |paging| async move { self.list(of, &paging).await },
        )
    }

    /// `POST /v1/views/{id}/queries`: runs the view (its filter and sorts) and answers the
    /// first `page_size` results (Notion's default when `None`). A read.
    pub async fn create_query(&self, id: &ViewId, page_size: Option<u32>) -> Result<ViewQuery> {
        let mut body = Map::new();
        if let Some(n) = page_size {
            body.insert("page_size".into(), n.min(100).into());
        }
        let req = RawRequest::new(
            Method::POST,
            format!("{}/queries", view_path(id)?),
            Idempotency::Safe,
        )
        .json(&body)?;
        self.conn.send(req).await
    }

    /// One page of `GET /v1/views/{id}/queries/{query_id}`.
    pub async fn query_results(
        &self,
        view: &ViewId,
        query: &ViewQueryId,
        paging: &Paging,
    ) -> Result<ListResponse<PageReference>> {
        let mut req = RawRequest::new(Method::GET, query_path(view, query)?, Idempotency::Safe);
        req.query = paging.to_query();
        self.conn.send(req).await
    }

    /// Every result of a view query, following cursors, up to `cap`.
    pub fn query_results_stream<'a>(
        &'a self,
        view: &'a ViewId,
        query: &'a ViewQueryId,
        cap: Option<usize>,
    ) -> impl Stream<Item = Result<PageReference>> + 'a {
        paginate(cap, move |paging| async move {
            self.query_results(view, query, &paging).await
        })
    }

    /// `DELETE /v1/views/{id}/queries/{query_id}`.
    pub async fn delete_query(&self, view: &ViewId, query: &ViewQueryId) -> Result<ViewQuery> {
        self.conn
            .send(RawRequest::new(
                Method::DELETE,
                query_path(view, query)?,
                Idempotency::Safe,
            ))
            .await
    }
}
