//! Comments: list the open comments of a page or block, create, retrieve, update, delete.

use futures::Stream;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ParentRef;
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{BlockId, CommentId, DiscussionId};
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

/// New content for a comment: plain text, rich text or Markdown.
#[derive(Debug, Clone)]
pub struct UpdateComment {
    body: Map<String, Value>,
}

impl UpdateComment {
    /// Replaces the text with plain text.
    pub fn text(text: &str) -> Self {
        let mut body = Map::new();
        body.insert("rich_text".into(), plain(text));
        Self { body }
    }

    /// Replaces the text with rich text (an array in Notion's request form).
    pub fn rich_text(rich_text: Value) -> Self {
        let mut body = Map::new();
        body.insert("rich_text".into(), rich_text);
        Self { body }
    }

    /// Replaces the text with Markdown.
    pub fn markdown(markdown: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert("markdown".into(), Value::String(markdown.into()));
        Self { body }
    }
}

fn comment_path(id: &CommentId) -> Result<String> {
    Ok(format!(
        "/v1/comments/{}",
        CommentId::parse(id.as_str())?.canonical()
    ))
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

    /// `GET /v1/comments/{id}`.
    pub async fn retrieve(&self, id: &CommentId) -> Result<Comment> {
        self.conn
            .send(RawRequest::new(
                Method::GET,
                comment_path(id)?,
                Idempotency::Safe,
            ))
            .await
    }

    /// `PATCH /v1/comments/{id}`: replaces the text (absolute state: safe to repeat).
    pub async fn update(&self, id: &CommentId, update: &UpdateComment) -> Result<Comment> {
        let req = RawRequest::new(Method::PATCH, comment_path(id)?, Idempotency::Safe)
            .json(&update.body)?;
        self.conn.send(req).await
    }

    /// `DELETE /v1/comments/{id}`: answers the deleted comment.
    pub async fn delete(&self, id: &CommentId) -> Result<Comment> {
        self.conn
            .send(RawRequest::new(
                Method::DELETE,
                comment_path(id)?,
                Idempotency::Safe,
            ))
            .await
    }

    /// `POST /v1/comments`. Never retried after it may have reached Notion.
    pub async fn create(&self, comment: &CreateComment) -> Result<Comment> {
        let req = RawRequest::new(Method::POST, "/v1/comments", Idempotency::Unsafe)
            .json(&comment.body)?;
        self.conn.send(req).await
    }
}
