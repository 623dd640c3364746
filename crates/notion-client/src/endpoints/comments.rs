//! Comments: list the open comments of a page or block, create, retrieve, update, delete.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{ParentRef, body_of};
use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::{BlockId, CommentId, DiscussionId, FileUploadId, PageId};
use crate::models::{Comment, ListResponse, RichText, text_runs};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Comment endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Comments<'a> {
    pub(crate) conn: &'a Connection,
}

/// The parent of a new discussion: `{"page_id": …}` or `{"block_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommentParent {
    /// On a page.
    PageId(PageId),
    /// On a block.
    BlockId(BlockId),
}

/// Where a new comment goes (exactly one): a `parent` (a new discussion) or a
/// `discussion_id` (a reply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum CommentTarget {
    /// `parent`: starts a discussion on a page or block.
    #[serde(rename = "parent")]
    Parent(CommentParent),
    /// `discussion_id`: replies in an existing discussion.
    #[serde(rename = "discussion_id")]
    Discussion(DiscussionId),
}

/// A file attached to a new comment: `{"type": "file_upload", "file_upload_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentAttachmentRef {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The uploaded file.
    pub file_upload_id: FileUploadId,
}

/// The content of a comment: `rich_text` or `markdown` (one of them).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CommentContent {
    /// Rich text in request form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rich_text: Option<Vec<RichText>>,
    /// Markdown, converted by Notion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

impl CommentContent {
    fn text(text: &str) -> Self {
        Self::rich_text(text_runs(text))
    }

    fn rich_text(rich_text: Vec<RichText>) -> Self {
        Self {
            rich_text: Some(rich_text),
            markdown: None,
        }
    }

    fn markdown(markdown: String) -> Self {
        Self {
            rich_text: None,
            markdown: Some(markdown),
        }
    }
}

/// A new comment: the body of `POST /v1/comments`, typed (reference §4.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateComment {
    /// A new discussion or a reply.
    #[serde(flatten)]
    pub target: CommentTarget,
    /// The text.
    #[serde(flatten)]
    pub content: CommentContent,
    /// Uploaded files (at most 3).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<CommentAttachmentRef>,
    /// Other body fields (such as `display_name`), sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateComment {
    /// A comment at `target` with plain text (split into runs Notion accepts).
    pub fn new(target: CommentTarget, text: &str) -> Self {
        Self {
            target,
            content: CommentContent::text(text),
            attachments: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Starts a discussion on a page or block with plain text.
    pub fn on(parent: ParentRef, text: &str) -> Result<Self> {
        let parent = match parent {
            ParentRef::Page(id) => CommentParent::PageId(id),
            ParentRef::Block(id) => CommentParent::BlockId(id),
            _ => {
                return Err(Error::InvalidRequest(
                    "a comment's parent is a page or a block".into(),
                ));
            }
        };
        Ok(Self::new(CommentTarget::Parent(parent), text))
    }

    /// Replies in an existing discussion with plain text.
    pub fn reply(discussion: &DiscussionId, text: &str) -> Self {
        Self::new(CommentTarget::Discussion(discussion.clone()), text)
    }

    /// Replaces the content with rich text.
    pub fn rich_text(mut self, rich_text: Vec<RichText>) -> Self {
        self.content = CommentContent::rich_text(rich_text);
        self
    }

    /// Replaces the content with Markdown.
    pub fn markdown(mut self, markdown: impl Into<String>) -> Self {
        self.content = CommentContent::markdown(markdown.into());
        self
    }

    /// Attaches an uploaded file (Notion takes at most 3).
    pub fn attach(mut self, upload: FileUploadId) -> Self {
        self.attachments.push(CommentAttachmentRef {
            kind: "file_upload",
            file_upload_id: upload,
        });
        self
    }

    /// The request body as JSON (what [`Comments::create`] sends).
    pub fn body(&self) -> Value {
        body_of(self)
    }
}

/// New content for a comment: the body of `PATCH /v1/comments/{id}`, typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateComment {
    /// The new text.
    #[serde(flatten)]
    pub content: CommentContent,
    /// Other body fields, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UpdateComment {
    fn with(content: CommentContent) -> Self {
        Self {
            content,
            extra: Map::new(),
        }
    }

    /// Replaces the text with plain text (split into runs Notion accepts).
    pub fn text(text: &str) -> Self {
        Self::with(CommentContent::text(text))
    }

    /// Replaces the text with rich text.
    pub fn rich_text(rich_text: Vec<RichText>) -> Self {
        Self::with(CommentContent::rich_text(rich_text))
    }

    /// Replaces the text with Markdown.
    pub fn markdown(markdown: impl Into<String>) -> Self {
        Self::with(CommentContent::markdown(markdown.into()))
    }

    /// The request body as JSON (what [`Comments::update`] sends).
    pub fn body(&self) -> Value {
        body_of(self)
    }
}

/// The path of one comment.
pub fn comment_path(id: &CommentId) -> Result<String> {
    Ok(format!(
        "/v1/comments/{}",
        CommentId::parse(id.as_str())?.canonical()
    ))
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

    paged_stream! {
        /// Every open comment, following cursors, up to `cap`.
        list_stream<'a>(block: &'a BlockId) -> Comment = list
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
        let req =
            RawRequest::new(Method::PATCH, comment_path(id)?, Idempotency::Safe).json(update)?;
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
        let req =
            RawRequest::new(Method::POST, "/v1/comments", Idempotency::Unsafe).json(comment)?;
        self.conn.send(req).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ID: &str = "59833787-2cf9-4fdf-8782-e53db20768a5";

    /// The request shapes of reference §4.5, key for key.
    #[test]
    fn request_shapes() {
        let page = PageId::parse(ID).unwrap();
        let on = CreateComment::on(ParentRef::Page(page), "Hi").unwrap();
        assert_eq!(
            on.body(),
            json!({"parent": {"page_id": ID},
                   "rich_text": [{"type": "text", "text": {"content": "Hi"}}]})
        );
        let reply = CreateComment::reply(&DiscussionId::parse(ID).unwrap(), "Re")
            .markdown("**Re**")
            .attach(FileUploadId::parse(ID).unwrap());
        assert_eq!(
            reply.body(),
            json!({"discussion_id": ID, "markdown": "**Re**",
                   "attachments": [{"type": "file_upload", "file_upload_id": ID}]})
        );
        assert!(CreateComment::on(ParentRef::Workspace, "x").is_err());
        assert_eq!(
            UpdateComment::text(&"x".repeat(2001)).body()["rich_text"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(
            UpdateComment::markdown("m").body(),
            json!({"markdown": "m"})
        );
    }
}
