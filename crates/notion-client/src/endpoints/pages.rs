//! Pages: retrieve, create, update, move, property items and the Markdown endpoints.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{ParentRef, encode_path_segment, to_json};
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{BlockId, DataSourceId, PageId, PropertyId};
use crate::models::{AsyncTask, Page, PageMarkdown, PropertyItemResponse};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Page endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Pages<'a> {
    pub(crate) conn: &'a Connection,
}

/// A new page.
#[derive(Debug, Clone)]
pub struct CreatePage {
    body: Map<String, Value>,
    filter_properties: Vec<String>,
}

impl CreatePage {
    /// A page under `parent`, with no properties yet (a page parent needs only a title).
    pub fn new(parent: ParentRef) -> Self {
        let mut body = Map::new();
        body.insert("parent".into(), parent.to_value());
        body.insert("properties".into(), Value::Object(Map::new()));
        Self {
            body,
            filter_properties: Vec::new(),
        }
    }

    /// Sets the title property (named `title` for page parents; pass the data source's title
    /// property name for rows).
    pub fn title(self, property: &str, text: &str) -> Self {
        self.property(
            property,
            json!({"title": [{"type": "text", "text": {"content": text}}]}),
        )
    }

    /// Sets one property value in Notion's request form, e.g. `{"number": 3}`.
    pub fn property(mut self, name: &str, value: Value) -> Self {
        if let Some(Value::Object(props)) = self.body.get_mut("properties") {
            props.insert(name.to_owned(), value);
        }
        self
    }

    /// Sets the first-level child blocks (at most 100, two levels of nesting).
    pub fn children<T: Serialize>(mut self, children: &[T]) -> Result<Self> {
        self.body
            .insert("children".into(), to_json("children", children)?);
        Ok(self)
    }

    /// Builds the body from Markdown (Notion's own converter; newer API feature).
    pub fn markdown(mut self, markdown: impl Into<String>) -> Self {
        self.body
            .insert("markdown".into(), Value::String(markdown.into()));
        self
    }

    /// Sets the icon (`{"type":"emoji","emoji":"🚀"}`, …).
    pub fn icon(mut self, icon: Value) -> Self {
        self.body.insert("icon".into(), icon);
        self
    }

    /// Sets the cover.
    pub fn cover(mut self, cover: Value) -> Self {
        self.body.insert("cover".into(), cover);
        self
    }

    /// Places the page among its parent's children (`{"type":"start"}`, …).
    pub fn position(mut self, position: Value) -> Self {
        self.body.insert("position".into(), position);
        self
    }

    /// Applies a data source template.
    pub fn template(mut self, template: Value) -> Self {
        self.body.insert("template".into(), template);
        self
    }

    /// Returns only these properties in the response.
    pub fn filter_properties(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.filter_properties.extend(ids);
        self
    }

    /// The request body as JSON.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

/// Changes to a page.
#[derive(Debug, Clone, Default)]
pub struct UpdatePage {
    body: Map<String, Value>,
}

impl UpdatePage {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one property; `Value::Null` clears it.
    pub fn property(mut self, name: &str, value: Value) -> Self {
        let props = self
            .body
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props.insert(name.to_owned(), value);
        }
        self
    }

    /// Sets (`Some`) or removes (`None`) the icon.
    pub fn icon(mut self, icon: Option<Value>) -> Self {
        self.body.insert("icon".into(), icon.unwrap_or(Value::Null));
        self
    }

    /// Sets (`Some`) or removes (`None`) the cover.
    pub fn cover(mut self, cover: Option<Value>) -> Self {
        self.body
            .insert("cover".into(), cover.unwrap_or(Value::Null));
        self
    }

    /// Moves the page to the trash (`true`) or restores it (`false`).
    pub fn in_trash(mut self, in_trash: bool) -> Self {
        self.body.insert("in_trash".into(), Value::Bool(in_trash));
        self
    }

    /// Locks or unlocks editing in the Notion UI.
    pub fn is_locked(mut self, locked: bool) -> Self {
        self.body.insert("is_locked".into(), Value::Bool(locked));
        self
    }

    /// Deletes the page's content first (destructive).
    pub fn erase_content(mut self, erase: bool) -> Self {
        self.body.insert("erase_content".into(), Value::Bool(erase));
        self
    }

    /// The request body as JSON.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

/// A `PATCH /v1/pages/{id}/markdown` command.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MarkdownCommand {
    /// Inserts Markdown; `after` selects existing text (`"start...end"`), default the end.
    InsertContent {
        /// The Markdown to insert.
        content: String,
        /// A selection to insert after.
        after: Option<String>,
    },
    /// Replaces a selected range.
    ReplaceContentRange {
        /// The new Markdown.
        content: String,
        /// The selection `"start...end"`.
        content_range: String,
        /// Must be true if the edit would delete child pages or databases.
        allow_deleting_content: bool,
    },
    /// Search and replace.
    UpdateContent {
        /// `{old_str, new_str, replace_all_matches?}` entries.
        content_updates: Vec<Value>,
        /// Must be true if the edit would delete child pages or databases.
        allow_deleting_content: bool,
    },
    /// Replaces the whole body.
    ReplaceContent {
        /// The new Markdown.
        new_str: String,
        /// Must be true if the edit would delete child pages or databases.
        allow_deleting_content: bool,
    },
}

impl MarkdownCommand {
    fn to_body(&self) -> Value {
        match self {
            Self::InsertContent { content, after } => {
                let mut inner = json!({"content": content});
                if let Some(after) = after {
                    inner["after"] = Value::String(after.clone());
                }
                json!({"type": "insert_content", "insert_content": inner})
            }
            Self::ReplaceContentRange {
                content,
                content_range,
                allow_deleting_content,
            } => json!({"type": "replace_content_range", "replace_content_range": {
                "content": content, "content_range": content_range,
                "allow_deleting_content": allow_deleting_content}}),
            Self::UpdateContent {
                content_updates,
                allow_deleting_content,
            } => json!({"type": "update_content", "update_content": {
                "content_updates": content_updates,
                "allow_deleting_content": allow_deleting_content}}),
            Self::ReplaceContent {
                new_str,
                allow_deleting_content,
            } => json!({"type": "replace_content", "replace_content": {
                "new_str": new_str, "allow_deleting_content": allow_deleting_content}}),
        }
    }

    /// Only a whole replacement ends in the same state when repeated.
    fn idempotency(&self) -> Idempotency {
        match self {
            Self::ReplaceContent { .. } => Idempotency::Safe,
            _ => Idempotency::Unsafe,
        }
    }
}

fn page_path(id: &PageId) -> String {
    format!("/v1/pages/{}", id.canonical())
}

impl Pages<'_> {
    /// `GET /v1/pages/{id}`.
    pub async fn retrieve(&self, id: &PageId) -> Result<Page> {
        self.retrieve_filtered(id, &[]).await
    }

    /// `GET /v1/pages/{id}?filter_properties=…` (only these properties; cheaper).
    pub async fn retrieve_filtered(&self, id: &PageId, properties: &[PropertyId]) -> Result<Page> {
        let id = PageId::parse(id.as_str())?;
        let mut req = RawRequest::new(Method::GET, page_path(&id), Idempotency::Safe);
        for p in properties {
            req = req.query("filter_properties", p.as_str());
        }
        self.conn.send(req).await
    }

    /// `POST /v1/pages`. Never retried after it may have reached Notion.
    pub async fn create(&self, page: &CreatePage) -> Result<Page> {
        if page.body.contains_key("children") && page.body.contains_key("markdown") {
            return Err(Error::InvalidRequest(
                "`children` and `markdown` cannot both be given".into(),
            ));
        }
        if let Some(Value::Array(children)) = page.body.get("children")
            && children.len() > 100
        {
            return Err(Error::InvalidRequest(format!(
                "`children` has {} blocks; Notion accepts at most 100 per request",
                children.len()
            )));
        }
        let mut req = RawRequest::new(Method::POST, "/v1/pages", Idempotency::Unsafe);
        for p in &page.filter_properties {
            req = req.query("filter_properties", p.clone());
        }
        self.conn.send(req.json(&page.body)?).await
    }

    /// `PATCH /v1/pages/{id}`: properties, icon, cover, trash, lock.
    pub async fn update(&self, id: &PageId, update: &UpdatePage) -> Result<Page> {
        let id = PageId::parse(id.as_str())?;
        let mut body = update.body.clone();
        if !self.conn.version().has_legacy_after_and_archived() {
            body.remove("archived");
        }
        let req = RawRequest::new(Method::PATCH, page_path(&id), Idempotency::Safe).json(&body)?;
        self.conn.send(req).await
    }

    /// `POST /v1/pages/{id}/move` under a page or into a data source.
    pub async fn move_to(&self, id: &PageId, parent: &ParentRef) -> Result<Page> {
        let id = PageId::parse(id.as_str())?;
        match parent {
            ParentRef::Page(_) | ParentRef::DataSource(_) => {}
            _ => {
                return Err(Error::InvalidRequest(
                    "a page can only be moved under a page or into a data source".into(),
                ));
            }
        }
        let req = RawRequest::new(
            Method::POST,
            format!("{}/move", page_path(&id)),
            Idempotency::Safe,
        )
        .json(&json!({"parent": parent}))?;
        self.conn.send(req).await
    }

    /// `GET /v1/pages/{id}/properties/{property_id}`: one item, or one page of a list of
    /// items for title, rich_text, people, relation and rollup.
    pub async fn property_item(
        &self,
        id: &PageId,
        property: &PropertyId,
        paging: &Paging,
    ) -> Result<PropertyItemResponse> {
        let id = PageId::parse(id.as_str())?;
        let mut req = RawRequest::new(
            Method::GET,
            format!(
                "{}/properties/{}",
                page_path(&id),
                encode_path_segment(property.as_str())
            ),
            Idempotency::Safe,
        );
        req.query = paging.to_query();
        self.conn.send(req).await
    }

    /// `GET /v1/pages/{id}/markdown` (a page ID, or a block ID from `unknown_block_ids`).
    pub async fn markdown(&self, id: &PageId, include_transcript: bool) -> Result<PageMarkdown> {
        let id = PageId::parse(id.as_str())?;
        let mut req = RawRequest::new(
            Method::GET,
            format!("{}/markdown", page_path(&id)),
            Idempotency::Safe,
        );
        if include_transcript {
            req = req.query("include_transcript", "true");
        }
        self.conn.send(req).await
    }

    /// Renders an unknown block's subtree through the Markdown endpoint.
    pub async fn block_markdown(&self, id: &BlockId) -> Result<PageMarkdown> {
        self.markdown(&PageId::parse(id.as_str())?, false).await
    }

    /// `PATCH /v1/pages/{id}/markdown`.
    pub async fn update_markdown(
        &self,
        id: &PageId,
        command: &MarkdownCommand,
    ) -> Result<PageMarkdown> {
        let id = PageId::parse(id.as_str())?;
        let req = RawRequest::new(
            Method::PATCH,
            format!("{}/markdown", page_path(&id)),
            command.idempotency(),
        )
        .json(&command.to_body())?;
        self.conn.send(req).await
    }
}

/// The answer of a Markdown update sent with `allow_async: true`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MarkdownUpdate {
    /// Notion applied it at once.
    Done(PageMarkdown),
    /// Notion queued it (HTTP 202): poll the task (`conn.async_tasks().wait(…)`); its result
    /// is the `page_markdown`.
    Accepted(Box<AsyncTask>),
}

impl Pages<'_> {
    /// `PATCH /v1/pages/{id}/markdown` with `allow_async: true`: Notion may answer 202 with an
    /// async task instead of the page's Markdown.
    pub async fn update_markdown_async(
        &self,
        id: &PageId,
        command: &MarkdownCommand,
    ) -> Result<MarkdownUpdate> {
        let id = PageId::parse(id.as_str())?;
        let mut body = command.to_body();
        body["allow_async"] = Value::Bool(true);
        let req = RawRequest::new(
            Method::PATCH,
            format!("{}/markdown", page_path(&id)),
            command.idempotency(),
        )
        .json(&body)?;
        let v: Value = self.conn.send(req).await?;
        let object = v.get("object").and_then(Value::as_str).unwrap_or_default();
        let bytes =
            serde_json::to_vec(&v).map_err(|e| Error::InvalidRequest(format!("answer: {e}")))?;
        if object == "async_task" {
            Ok(MarkdownUpdate::Accepted(crate::client::decode(
                &bytes, None,
            )?))
        } else {
            Ok(MarkdownUpdate::Done(crate::client::decode(&bytes, None)?))
        }
    }
}

/// A row in a data source, as a `CreatePage` parent.
pub fn row_in(data_source: DataSourceId) -> ParentRef {
    ParentRef::DataSource(data_source)
}
