//! Pages: retrieve, create, update, move, property items and the Markdown endpoints.

use reqwest::Method;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{ParentRef, PropertyRequest, body_of, encode_path_segment};
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{BlockId, DataSourceId, PageId, PropertyId};
use crate::models::{
    AsyncTask, FileObject, Icon, NewBlock, Page, PageMarkdown, PropertyItemResponse, RichText,
};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Page endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Pages<'a> {
    pub(crate) conn: &'a Connection,
}

/// A new page: the body of `POST /v1/pages`, typed. It serialises to exactly the request the
/// gateway sends (and, for a held call, shows the human). Builder methods set the fields;
/// `extra` carries body fields this type does not name yet.
#[derive(Debug, Clone, Serialize)]
pub struct CreatePage {
    /// Where the page goes.
    pub parent: ParentRef,
    /// Property values in request form, by property name.
    pub properties: BTreeMap<String, PropertyRequest>,
    /// First-level child blocks (at most 100, two levels of nesting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<NewBlock>>,
    /// The body as Markdown, converted by Notion (instead of `children`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// The icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Icon>,
    /// The cover (an `external` or `file_upload` file object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<FileObject>,
    /// Where among the parent page's children (`{"type":"page_start"}`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Value>,
    /// A data source template to apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Properties to return (a query parameter, not part of the body).
    #[serde(skip)]
    pub filter_properties: Vec<String>,
}

impl CreatePage {
    /// A page under `parent`, with no properties yet (a page parent needs only a title).
    pub fn new(parent: ParentRef) -> Self {
        Self {
            parent,
            properties: BTreeMap::new(),
            children: None,
            markdown: None,
            icon: None,
            cover: None,
            position: None,
            template: None,
            extra: Map::new(),
            filter_properties: Vec::new(),
        }
    }

    /// Sets the title property (named `title` for page parents; pass the data source's title
    /// property name for rows) to one text run.
    pub fn title(self, property: &str, text: &str) -> Self {
        self.property(
            property,
            PropertyRequest::Title(vec![RichText::plain(text)]),
        )
    }

    /// Sets one property value: typed, or Notion's request form as JSON (`{"number": 3}`).
    pub fn property(mut self, name: &str, value: impl Into<PropertyRequest>) -> Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    /// Sets the first-level child blocks (at most 100, two levels of nesting).
    pub fn children(mut self, children: impl Into<Vec<NewBlock>>) -> Self {
        self.children = Some(children.into());
        self
    }

    /// Builds the body from Markdown (Notion's own converter; newer API feature).
    pub fn markdown(mut self, markdown: impl Into<String>) -> Self {
        self.markdown = Some(markdown.into());
        self
    }

    /// Sets the icon.
    pub fn icon(mut self, icon: Icon) -> Self {
        self.icon = Some(icon);
        self
    }

    /// Sets the cover.
    pub fn cover(mut self, cover: FileObject) -> Self {
        self.cover = Some(cover);
        self
    }

    /// Places the page among its parent page's children (`{"type":"page_start"}`, …).
    pub fn position(mut self, position: Value) -> Self {
        self.position = Some(position);
        self
    }

    /// Applies a data source template.
    pub fn template(mut self, template: Value) -> Self {
        self.template = Some(template);
        self
    }

    /// Returns only these properties in the response.
    pub fn filter_properties(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.filter_properties.extend(ids);
        self
    }

    /// The request body as JSON (what [`Pages::create`] sends).
    pub fn body(&self) -> Value {
        body_of(self)
    }

    /// Checks what Notion would refuse before anything is sent.
    fn check(&self) -> Result<()> {
        if self.children.is_some() && self.markdown.is_some() {
            return Err(Error::InvalidRequest(
                "`children` and `markdown` cannot both be given".into(),
            ));
        }
        if let Some(children) = &self.children
            && children.len() > 100
        {
            return Err(Error::InvalidRequest(format!(
                "`children` has {} blocks; Notion accepts at most 100 per request",
                children.len()
            )));
        }
        Ok(())
    }
}

/// Changes to a page: the body of `PATCH /v1/pages/{id}`, typed. A field left `None` is not
/// sent; `icon`/`cover` of `Some(None)` are sent as `null` (removed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdatePage {
    /// Property values to set (`PropertyRequest::Raw(Value::Null)` clears one), by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, PropertyRequest>,
    /// `Some(Some(icon))` sets it, `Some(None)` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Option<Icon>>,
    /// `Some(Some(cover))` sets it, `Some(None)` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<Option<FileObject>>,
    /// Trash (`true`) or restore (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_trash: Option<bool>,
    /// Lock or unlock editing in the Notion UI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_locked: Option<bool>,
    /// Delete the page's content first (destructive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erase_content: Option<bool>,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UpdatePage {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one property: typed, or Notion's request form as JSON; `Value::Null` clears it.
    pub fn property(mut self, name: &str, value: impl Into<PropertyRequest>) -> Self {
        self.properties.insert(name.to_owned(), value.into());
        self
    }

    /// Sets (`Some`) or removes (`None`) the icon.
    pub fn icon(mut self, icon: Option<Icon>) -> Self {
        self.icon = Some(icon);
        self
    }

    /// Sets (`Some`) or removes (`None`) the cover.
    pub fn cover(mut self, cover: Option<FileObject>) -> Self {
        self.cover = Some(cover);
        self
    }

    /// Moves the page to the trash (`true`) or restores it (`false`).
    pub fn in_trash(mut self, in_trash: bool) -> Self {
        self.in_trash = Some(in_trash);
        self
    }

    /// Locks or unlocks editing in the Notion UI.
    pub fn is_locked(mut self, locked: bool) -> Self {
        self.is_locked = Some(locked);
        self
    }

    /// Deletes the page's content first (destructive).
    pub fn erase_content(mut self, erase: bool) -> Self {
        self.erase_content = Some(erase);
        self
    }

    /// The request body as JSON (what [`Pages::update`] sends).
    pub fn body(&self) -> Value {
        body_of(self)
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

/// The body of `POST /v1/pages/{id}/move`.
#[derive(Serialize)]
struct MovePage<'a> {
    parent: &'a ParentRef,
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
        page.check()?;
        let mut req = RawRequest::new(Method::POST, "/v1/pages", Idempotency::Unsafe);
        for p in &page.filter_properties {
            req = req.query("filter_properties", p.clone());
        }
        self.conn.send(req.json(page)?).await
    }

    /// `PATCH /v1/pages/{id}`: properties, icon, cover, trash, lock.
    pub async fn update(&self, id: &PageId, update: &UpdatePage) -> Result<Page> {
        let id = PageId::parse(id.as_str())?;
        let mut update = update.clone();
        if !self.conn.version().has_legacy_after_and_archived() {
            update.extra.remove("archived");
        }
        let req =
            RawRequest::new(Method::PATCH, page_path(&id), Idempotency::Safe).json(&update)?;
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
        .json(&MovePage { parent })?;
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
