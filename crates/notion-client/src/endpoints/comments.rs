//! Comments: list the open comments of a page or block, and create one.

use futures::Stream;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ParentRef;
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{BlockId, DiscussionId};
use crate::models::{Comment, ListResponse};
use crate::pagination::{Paging, paginate};
use crate::retry::Idempotency;

/// Comment endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Comments<'a> {
    pub(crate) conn: &'a Connection,
}

/// A new comment: on a page or block (a new discussion) or a reply in a discussion.
#[derive(Debug, Clone)]
pub struct CreateComment {
    body: Map<String, Value>,
}

impl CreateComment {
    /// Starts a discussion on a page or block with plain text.
    pub fn on(parent: ParentRef, text: &str) -> Result<Self> {
        let parent = match parent {
            ParentRef::Page(id) => json!({"page_id": id.canonical()}),
            ParentRef::Block(id) => json!({"block_id": id.canonical()}),
            _ => {
                return Err(Error::InvalidRequest(
                    "a comment's parent is a page or a block".into(),
                ));
            }
        };
        let mut body = Map::new();
        body.insert("parent".into(), parent);
        body.insert("rich_text".into(), plain(text));
        Ok(Self { body })
    }

    /// Replies in an existing discussion with plain text.
    pub fn reply(discussion: &DiscussionId, text: &str) -> Self {
        let mut body = Map::new();
        body.insert(
            "discussion_id".into(),
            Value::String(discussion.canonical()),
        );
        body.insert("rich_text".into(), plain(text));
        Self { body }
    }

    /// Replaces the content with rich text (an array in Notion's request form).
    pub fn rich_text(mut self, rich_text: Value) -> Self {
        self.body.insert("rich_text".into(), rich_text);
        self
    }

    /// Replaces the content with Markdown.
    pub fn markdown(mut self, markdown: impl Into<String>) -> Self {
        self.body.remove("rich_text");
        self.body
            .insert("markdown".into(), Value::String(markdown.into()));
        self
    }
}

fn plain(text: &str) -> Value {
    json!([{"type": "text", "text": {"content": text}}])
}

impl Comments<'_> {
    /// One page of `GET /v1/comments?block_id=…`.
    pub async fn list(&self, block: &BlockId, paging: &Paging) -> Result<ListResponse<Comment>> {
        let block = BlockId::parse(block.as_str())?;
        let mut req = RawRequest::new(Method::GET, "/v1/comments", Idempotency::Safe)
            .query("block_id", block.canonical());
        req.query.extend(paging.to_query());
        self.conn.send(req).await
    }

    /// Every open comment, following cursors, up to `cap`.
    pub fn list_stream<'a>(
        &'a self,
        block: &'a BlockId,
        cap: Option<usize>,
    ) -> impl Stream<Item = Result<Comment>> + 'a {
        paginate(
            cap,
            move |paging| async move { self.list(block, &paging).await },
        )
    }

    /// `POST /v1/comments`. Never retried after it may have reached Notion.
    pub async fn create(&self, comment: &CreateComment) -> Result<Comment> {
        let req = RawRequest::new(Method::POST, "/v1/comments", Idempotency::Unsafe)
            .json(&comment.body)?;
        self.conn.send(req).await
    }
}
