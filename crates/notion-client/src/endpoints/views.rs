//! Views (API 2025-09-03 and later): create, retrieve, update, delete, list by database or data
//! source; view queries: create (with the first page of results), page through the results,
//! delete.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use super::body_of;
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{DataSourceId, DatabaseId, ViewId, ViewQueryId};
use crate::models::{ListResponse, PageReference, View, ViewQuery, ViewType};
use crate::pagination::Paging;
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

/// What a view shows and how: its filter, sorts and layout configuration (Notion's JSON).
/// A field left `None` is not sent; `Some(Value::Null)` clears it (updates).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViewSettings {
    /// A data source query filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Sorts (an array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorts: Option<Value>,
    /// Layout configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Value>,
}

/// The setters of [`ViewSettings`], shared by [`CreateView`] and [`UpdateView`].
macro_rules! view_settings_setters {
    () => {
        /// Sets (or, with `Value::Null`, clears) the filter (a data source query filter).
        pub fn filter(mut self, filter: Value) -> Self {
            self.settings.filter = Some(filter);
            self
        }

        /// Sets (or, with `Value::Null`, clears) the sorts (Notion's JSON array).
        pub fn sorts(mut self, sorts: Value) -> Self {
            self.settings.sorts = Some(sorts);
            self
        }

        /// Sets the layout configuration (Notion's JSON).
        pub fn configuration(mut self, configuration: Value) -> Self {
            self.settings.configuration = Some(configuration);
            self
        }

        /// The request body as JSON.
        pub fn body(&self) -> Value {
            body_of(self)
        }
    };
}

/// A new view: the body of `POST /v1/views`, typed: a data source shown in a database (or as a
/// widget of a dashboard view).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateView {
    /// The database whose tab it is (absent for a widget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_id: Option<DatabaseId>,
    /// The dashboard view it is a widget of (instead of `database_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_id: Option<ViewId>,
    /// The data source shown.
    pub data_source_id: DataSourceId,
    /// The tab's label.
    pub name: String,
    /// The layout.
    #[serde(rename = "type")]
    pub view_type: ViewType,
    /// Filter, sorts, configuration.
    #[serde(flatten)]
    pub settings: ViewSettings,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateView {
    /// A view of `data_source` in `database`, named `name`, of layout `view_type`.
    pub fn new(
        database: &DatabaseId,
        data_source: &DataSourceId,
        name: impl Into<String>,
        view_type: ViewType,
    ) -> Self {
        Self {
            database_id: Some(database.clone()),
            view_id: None,
            data_source_id: data_source.clone(),
            name: name.into(),
            view_type,
            settings: ViewSettings::default(),
            extra: Map::new(),
        }
    }

    /// A widget view of `data_source` on the dashboard view `dashboard` (instead of a database
    /// tab).
    pub fn widget_of(mut self, dashboard: &ViewId) -> Self {
        self.database_id = None;
        self.view_id = Some(dashboard.clone());
        self
    }

    view_settings_setters!();
}

/// Changes to a view: the body of `PATCH /v1/views/{id}`, typed; only the fields set are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateView {
    /// The new label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new layout.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub view_type: Option<ViewType>,
    /// Filter, sorts, configuration.
    #[serde(flatten)]
    pub settings: ViewSettings,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UpdateView {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the view.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Changes the layout.
    pub fn view_type(mut self, view_type: ViewType) -> Self {
        self.view_type = Some(view_type);
        self
    }

    view_settings_setters!();

    /// Whether the update changes nothing.
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The body of `POST /v1/views/{id}/queries`.
#[derive(Debug, Clone, Serialize)]
struct CreateViewQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
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
        let req = RawRequest::new(Method::POST, "/v1/views", Idempotency::Unsafe).json(view)?;
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
        if update.is_empty() {
            return Err(Error::InvalidRequest(
                "the view update changes nothing".into(),
            ));
        }
        let req = RawRequest::new(Method::PATCH, view_path(id)?, Idempotency::Safe).json(update)?;
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

    paged_stream! {
        /// Every view, following cursors, up to `cap`.
        list_stream<'a>(of: &'a ViewsOf) -> View = list
    }

    /// `POST /v1/views/{id}/queries`: runs the view (its filter and sorts) and answers the
    /// first `page_size` results (Notion's default when `None`). A read.
    pub async fn create_query(&self, id: &ViewId, page_size: Option<u32>) -> Result<ViewQuery> {
        let body = CreateViewQuery {
            page_size: page_size.map(|n| n.min(100)),
        };
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

    paged_stream! {
        /// Every result of a view query, following cursors, up to `cap`.
        query_results_stream<'a>(view: &'a ViewId, query: &'a ViewQueryId) -> PageReference = query_results
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn request_shapes() {
        let db = DatabaseId::parse("598337872cf94fdf8782e53db20768a5").unwrap();
        let ds = DataSourceId::parse("c01166c613ae45cbb96818b4ef2f5a77").unwrap();
        let create = CreateView::new(&db, &ds, "Board", ViewType::Board).sorts(json!([]));
        assert_eq!(
            create.body(),
            json!({"database_id": db.canonical(), "data_source_id": ds.canonical(),
                   "name": "Board", "type": "board", "sorts": []})
        );
        let widget = create.widget_of(&ViewId::parse(db.as_str()).unwrap());
        assert!(widget.body().get("database_id").is_none());
        assert_eq!(widget.body()["view_id"], db.canonical());
        assert!(UpdateView::new().is_empty());
        assert_eq!(
            UpdateView::new().name("All").filter(Value::Null).body(),
            json!({"name": "All", "filter": null})
        );
    }
}
