//! Blocks: retrieve, update, delete (trash), list children (paged or as a stream) and append.

use reqwest::Method;
use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{ObjectRef, body_of};
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::BlockId;
use crate::models::{Block, ListResponse, NewBlock};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Block endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Blocks<'a> {
    pub(crate) conn: &'a Connection,
}

/// Where appended children go: `{"type": "start"}`, `{"type": "end"}` or
/// `{"type": "after_block", "after_block": {"id"}}` (reference §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Position {
    /// Before the first child.
    Start,
    /// After the last child (Notion's default).
    #[default]
    End,
    /// Right after this child.
    AfterBlock(BlockId),
}

impl Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self {
            Self::Start => m.serialize_entry("type", "start")?,
            Self::End => m.serialize_entry("type", "end")?,
            Self::AfterBlock(id) => {
                m.serialize_entry("type", "after_block")?;
                m.serialize_entry("after_block", &ObjectRef::new(id.canonical()))?;
            }
        }
        m.end()
    }
}

/// An append of child blocks: the body of `PATCH /v1/blocks/{id}/children`, typed. What it
/// serialises is what is sent (for API versions before 2025-09-03, "after a block" is sent
/// as the older `after`; see [`AppendChildren::body`]).
#[derive(Debug, Clone, Serialize)]
pub struct AppendChildren {
    /// The blocks (at most 100, two levels of nesting).
    pub children: Vec<NewBlock>,
    /// Where they go (2025-09-03+); absent means the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The older placement (before 2025-09-03): right after this block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<BlockId>,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AppendChildren {
    /// Appends these blocks (at most 100, two levels of nesting).
    pub fn new(children: impl Into<Vec<NewBlock>>) -> Self {
        Self {
            children: children.into(),
            position: None,
            after: None,
            extra: Map::new(),
        }
    }

    /// Sets the position.
    pub fn position(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }

    /// The number of first-level children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there is nothing to append.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// This append as sent to an API version: `position` on 2025-09-03 and later; "after a
    /// block" as `after` when `legacy_after` (older versions).
    fn for_version(&self, legacy_after: bool) -> Cow<'_, Self> {
        match &self.position {
            Some(Position::AfterBlock(id)) if legacy_after => {
                let mut legacy = self.clone();
                legacy.after = Some(id.clone());
                legacy.position = None;
                Cow::Owned(legacy)
            }
            _ => Cow::Borrowed(self),
        }
    }

    /// The body for a given API version (what [`Blocks::append`] sends).
    pub fn body(&self, legacy_after: bool) -> Value {
        body_of(&self.for_version(legacy_after))
    }
}

fn block_path(id: &BlockId) -> String {
    format!("/v1/blocks/{}", id.canonical())
}

impl Blocks<'_> {
    /// `GET /v1/blocks/{id}`.
    pub async fn retrieve(&self, id: &BlockId) -> Result<Block> {
        let id = BlockId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                block_path(&id),
                Idempotency::Safe,
            ))
            .await
    }

    /// `PATCH /v1/blocks/{id}` with `{<type>: {fields}}` (and/or `in_trash`).
    pub async fn update(&self, id: &BlockId, body: &Value) -> Result<Block> {
        let id = BlockId::parse(id.as_str())?;
        if !body.is_object() {
            return Err(Error::InvalidRequest(
                "a block update is a JSON object such as {\"paragraph\": {...}}".into(),
            ));
        }
        let req = RawRequest::new(Method::PATCH, block_path(&id), Idempotency::Safe).json(body)?;
        self.conn.send(req).await
    }

    /// `DELETE /v1/blocks/{id}`: moves the block (or a page) to the trash.
    pub async fn delete(&self, id: &BlockId) -> Result<Block> {
        let id = BlockId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::DELETE,
                block_path(&id),
                Idempotency::Safe,
            ))
            .await
    }

    /// One page of `GET /v1/blocks/{id}/children`.
    pub async fn children(&self, id: &BlockId, paging: &Paging) -> Result<ListResponse<Block>> {
        let id = BlockId::parse(id.as_str())?;
        let mut req = RawRequest::new(
            Method::GET,
            format!("{}/children", block_path(&id)),
            Idempotency::Safe,
        );
        req.query = paging.to_query();
        self.conn.send(req).await
    }

    paged_stream! {
        /// Every first-level child, following cursors, up to `cap` blocks.
        children_stream<'a>(id: &'a BlockId) -> Block = children
    }

    /// `PATCH /v1/blocks/{id}/children`. Answers the new first-level blocks, followed (when
    /// they were not placed at the end) by every sibling after them, as Notion does. Never
    /// retried after it may have reached Notion: a repeat would duplicate the blocks.
    pub async fn append(
        &self,
        id: &BlockId,
        append: &AppendChildren,
    ) -> Result<ListResponse<Block>> {
        let id = BlockId::parse(id.as_str())?;
        if append.children.is_empty() {
            return Err(Error::InvalidRequest("`children` is empty".into()));
        }
        if append.children.len() > 100 {
            return Err(Error::InvalidRequest(format!(
                "`children` has {} blocks; Notion accepts at most 100 per append",
                append.children.len()
            )));
        }
        let legacy = self.conn.version().has_legacy_after_and_archived();
        let req = RawRequest::new(
            Method::PATCH,
            format!("{}/children", block_path(&id)),
            Idempotency::Unsafe,
        )
        .json(&*append.for_version(legacy))?;
        self.conn.send(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    use crate::models::RichText;

    #[test]
    fn position_bodies() {
        let id = BlockId::parse("598337872cf94fdf8782e53db20768a5").unwrap();
        let a = AppendChildren::new([NewBlock::paragraph(vec![RichText::plain("x")])]);
        assert_eq!(
            a.body(false),
            json!({"children": [{"type": "paragraph", "paragraph":
                {"rich_text": [{"type": "text", "text": {"content": "x"}}]}}]})
        );
        assert!(a.body(false).get("position").is_none());
        let start = a.clone().position(Position::Start).body(false);
        assert_eq!(start["position"], json!({"type": "start"}));
        let after = a.clone().position(Position::AfterBlock(id.clone()));
        assert_eq!(
            after.body(false)["position"]["after_block"]["id"],
            "59833787-2cf9-4fdf-8782-e53db20768a5"
        );
        assert!(after.body(false).get("after").is_none());
        assert_eq!(
            after.body(true)["after"],
            "59833787-2cf9-4fdf-8782-e53db20768a5"
        );
        assert!(after.body(true).get("position").is_none());
        assert_eq!(
            a.position(Position::End).body(true)["position"],
            json!({"type": "end"})
        );
    }
}
