//! `POST /v1/search`: by title, filtered to pages or data sources, paginated.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::RawRequest;
use crate::error::Result;
use crate::models::{ListResponse, SearchResult};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// What kind of object a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchFilter {
    /// Pages only.
    Page,
    /// Data sources (2025-09-03+), or databases on 2022-06-28.
    DataSource,
}

/// A search request.
#[derive(Debug, Clone, Default)]
pub struct Search {
    body: Map<String, Value>,
}

impl Search {
    /// A search for every object shared with the connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Matches titles containing `query`.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.body
            .insert("query".into(), Value::String(query.into()));
        self
    }

    /// Restricts results to one object kind.
    pub fn filter(mut self, filter: SearchFilter) -> Self {
        let value = match filter {
            SearchFilter::Page => "page",
            SearchFilter::DataSource => "data_source",
        };
        self.body.insert(
            "filter".into(),
            json!({"property": "object", "value": value}),
        );
        self
    }

    /// Sorts by last edit time.
    pub fn sort_by_last_edited(mut self, ascending: bool) -> Self {
        let direction = if ascending { "ascending" } else { "descending" };
        self.body.insert(
            "sort".into(),
            json!({"timestamp": "last_edited_time", "direction": direction}),
        );
        self
    }
}

impl crate::client::Connection {
    /// One page of search results.
    pub async fn search(
        &self,
        search: &Search,
        paging: &Paging,
    ) -> Result<ListResponse<SearchResult>> {
        let mut body = search.body.clone();
        // On 2022-06-28 the data-source filter is spelled "database".
        if !self.version().has_data_sources()
            && let Some(f) = body.get_mut("filter").and_then(Value::as_object_mut)
            && f.get("value").and_then(Value::as_str) == Some("data_source")
        {
            f.insert("value".into(), Value::String("database".into()));
        }
        if let Some(c) = paging.start_cursor.as_deref().filter(|c| !c.is_empty()) {
            body.insert("start_cursor".into(), Value::String(c.to_owned()));
        }
        if let Some(n) = paging.page_size {
            body.insert("page_size".into(), Value::from(n.clamp(1, 100)));
        }
        let req = RawRequest::new(Method::POST, "/v1/search", Idempotency::Safe)
            .read(true)
            .json(&body)?;
        self.send(req).await
    }

    paged_stream! {
        /// Every search result, following cursors, up to `cap` items.
        search_stream<'a>(search: &'a Search) -> SearchResult = search
    }
}
