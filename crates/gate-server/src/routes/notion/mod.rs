//! The governed Notion operations under `/api/v1/notion`: search, databases (list, schema,
//! query), pages (read as Markdown, text or blocks; create; update; trash), block appends,
//! comments (list, add, update, delete), views (list, query) and file uploads attached to a
//! page.
//!
//! Each operation is one function (`search`, `list_databases`, `get_database`,
//! `query_database`, `get_page`, `create_page`, `update_page`, `append_blocks`,
//! `list_comments`, `add_comment` (on a page or in a discussion), `update_comment`,
//! `delete_comment`, `list_views`, `query_view`, `upload_file`) that takes the gate, the caller, the surface and typed
//! input; the REST handlers and the tool endpoint (`routes::tools`) both call them.
//!
//! Every operation runs in one governed session ([`gate_core::GovernedSession`]): the gate
//! classifies a representative Notion request, applies local-only mode and the policy, and
//! the operation's Notion requests (cursor pages, the block tree, split appends) go through
//! the connection's limiter and retry loop; one audit record is written per operation.
//!
//! Writes are opened with [`Gate::session_deferred`]: when the policy wants a human's
//! approval, the operation first reads what it needs (the schema to convert property
//! values), then holds the **exact** final Notion request (a create with at most 100 blocks
//! and two levels, an append that fits one request, a page update). A write that needs
//! several Notion requests (Markdown longer than one request) cannot be held as one
//! approval and is refused with `approval_requires_single_request`.
//!
//! Input is checked before anything is sent: unknown fields, wrong types and ids that are
//! not 32 hex digits are 400s naming the field, and no request reaches Notion.
//!
//! Layout: a folder per resource (`databases/`, `pages/`, `comments/`, `views/`, and
//! `search.rs`), a module per operation holding its input and output types, the operation
//! and its REST handler with the handler's OpenAPI entry. Each route is registered once, in
//! its resource's `routes()` (utoipa-axum's `routes!` takes path and method from the
//! handler's `#[utoipa::path]`). This module holds what they share: the governed session
//! ([`Op`]), id and paging helpers, and the compact form of a held call's result.

/// Declares an input struct with the fields it is given, followed by a field list that the REST
/// input and the tool's params share (one list per kind of input):
///
/// - `query`: a data source query (filter, sorts, cursor, limit);
/// - `paged "Items, 1–100 (default 100)."`: one page of a list (cursor, and limit described
///   by the text given);
/// - `create_page`: the content of a new page (properties, title, Markdown or blocks, icon,
///   cover);
/// - `update_page`: changes to a page (properties, icon, cover, trash).
///
/// The struct derives `Debug`, `Clone`, `Deserialize` (unknown fields refused) and `ToSchema`.
macro_rules! input_struct {
    (@emit $(#[$meta:meta])* $name:ident { $($field:tt)* } { $($shared:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($field)*
            $($shared)*
        }
    };
    (query: $(#[$meta:meta])* pub struct $name:ident { $($field:tt)* }) => {
        input_struct!(@emit $(#[$meta])* $name { $($field)* } {
            /// A Notion filter object, passed through.
            #[schema(value_type = Option<Object>)]
            pub filter: Option<Value>,
            /// Notion sorts, passed through.
            #[schema(value_type = Option<Vec<Object>>)]
            pub sorts: Option<Vec<Value>>,
            /// The `next_cursor` of a previous answer.
            pub cursor: Option<String>,
            /// Rows, 1–100 (default 100).
            pub limit: Option<u32>,
        });
    };
    (paged $limit_doc:literal: $(#[$meta:meta])* pub struct $name:ident { $($field:tt)* }) => {
        input_struct!(@emit $(#[$meta])* $name { $($field)* } {
            /// The `next_cursor` of a previous answer.
            pub cursor: Option<String>,
            #[doc = $limit_doc]
            pub limit: Option<u32>,
        });
    };
    (create_page: $(#[$meta:meta])* pub struct $name:ident { $($field:tt)* }) => {
        input_struct!(@emit $(#[$meta])* $name { $($field)* } {
            /// Property values: simple values (`"text"`, `3`, `true`, `["a", "b"]`) converted with
            /// the data source's schema, or Notion's property-value objects.
            #[schema(value_type = Option<Object>)]
            pub properties: Option<Map<String, Value>>,
            /// The title (sets the title property).
            pub title: Option<String>,
            /// Markdown content (`content` is accepted as another name of this field).
            #[serde(alias = "content")]
            pub markdown: Option<String>,
            /// Notion blocks (instead of `markdown`).
            #[schema(value_type = Option<Vec<Object>>)]
            pub blocks: Option<Vec<Value>>,
            /// Notion icon object (`{"type": "emoji", "emoji": "🚀"}`).
            #[schema(value_type = Option<Object>)]
            pub icon: Option<Value>,
            /// Notion file object for the cover.
            #[schema(value_type = Option<Object>)]
            pub cover: Option<Value>,
        });
    };
    (update_page: $(#[$meta:meta])* pub struct $name:ident { $($field:tt)* }) => {
        input_struct!(@emit $(#[$meta])* $name { $($field)* } {
            /// Property values (as for a create).
            #[schema(value_type = Option<Object>)]
            pub properties: Option<Map<String, Value>>,
            /// Notion icon object (`null` removes it).
            #[serde(default, deserialize_with = "crate::routes::notion::present")]
            #[schema(value_type = Option<Object>)]
            pub icon: Option<Value>,
            /// Notion file object (`null` removes it).
            #[serde(default, deserialize_with = "crate::routes::notion::present")]
            #[schema(value_type = Option<Object>)]
            pub cover: Option<Value>,
            /// `true` moves the page to the trash (delete class), `false` restores it.
            pub in_trash: Option<bool>,
        });
    };
}
pub(crate) use input_struct;

mod comments;
mod databases;
mod pages;
mod search;
mod views;

pub use comments::*;
pub use databases::*;
pub use pages::*;
pub use search::*;
pub use views::*;

use crate::auth::Authed;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::transform::{self, DataSourceSchema, ObjectSummary, Row};
use axum::Json;
use axum::extract::{Path, State};
use gate_core::{Caller, Gate, GateError, GovernedSession, NotionRequest, SessionOutcome, Surface};
use notion_client::endpoints::{
    AppendChildren, CommentParent, CommentTarget, CreateComment, CreateFileUpload, CreatePage,
    Position, PropertyRequest, QueryDataSource, Search, SearchFilter, UpdateComment, UpdatePage,
    UploadFile, ViewsOf, comments::comment_path,
};
use notion_client::ids::{
    BlockId, CommentId, DataSourceId, DatabaseId, DiscussionId, FileUploadId, PageId, ViewId,
};
use notion_client::models::{
    Block, BlockKind, Comment, DataSource, FileObject, FileUploadStatus, Icon, NewBlock, Page,
};
use notion_client::tree::{PageTree, TreeOptions, fetch_tree};
use notion_client::{Connection, Paging, ParentRef};
use notion_markdown::{BlockDraft, Limits, RenderOptions, WritePlan, plan_writes};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every Notion route, each registered once with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_handler))
        .merge(databases::routes())
        .merge(pages::routes())
        .merge(comments::routes())
        .merge(views::routes())
}

/// Results a search follows cursors for at most (`all_pages`); past it `truncated` is set.
pub const SEARCH_CAP: usize = 1000;
/// Blocks a page read returns at most (`max_blocks` may lower it).
pub const MAX_BLOCKS: usize = 10_000;
/// Blocks a page read returns by default.
pub const DEFAULT_MAX_BLOCKS: usize = 1000;
/// Blocks one write may carry.
pub const MAX_WRITE_BLOCKS: usize = 5000;

/// `GET /notion/databases` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListInput {
    /// The `next_cursor` of a previous answer.
    pub cursor: Option<String>,
    /// Results, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// A field that was given, `null` included (`None` only when the key is absent).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

// ---- outputs ------------------------------------------------------------------------------

/// A list of objects with a cursor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectList {
    /// The objects.
    pub results: Vec<ObjectSummary>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
    /// Whether the gateway's cap stopped following cursors (`next_cursor` continues).
    pub truncated: bool,
    /// `"mirror"` when answered from the local mirror (local-only mode); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the mirror last fetched this content from Notion (with `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrored_at: Option<String>,
}

// ---- helpers ------------------------------------------------------------------------------

/// A Notion id from input, or a 400 `invalid_id` naming the field; nothing is sent.
fn parse_id<T>(
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, notion_client::ids::InvalidId>,
) -> Result<T, ApiError> {
    parse(raw.trim()).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidId,
            format!("`{field}` is not a Notion id (32 hex digits, dashes optional)"),
        )
        .detail("field", field)
    })
}

fn page_size(field: &str, limit: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match limit {
        None => Ok(default),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(ApiError::invalid_field(field, "must be between 1 and 100")),
    }
}

fn paging(cursor: Option<&str>, size: u32) -> Paging {
    match cursor.filter(|c| !c.is_empty()) {
        Some(c) => Paging::after(c),
        None => Paging::first(),
    }
    .size(size)
}

/// A governed session and the Notion requests it made.
pub(crate) struct Op {
    session: GovernedSession,
    requests: AtomicU64,
}

impl Op {
    async fn open(
        gate: &Gate,
        caller: &Caller,
        surface: Surface,
        representative: NotionRequest,
        deferred: bool,
    ) -> Result<Self, ApiError> {
        let session = if deferred {
            gate.session_deferred(caller, surface, representative)
                .await?
        } else {
            gate.session(caller, surface, representative).await?
        };
        Ok(Self {
            session,
            requests: AtomicU64::new(0),
        })
    }

    /// Opens the session of a write that is one Notion request, `req` (what its typed builder
    /// serialises). When the caller's writes wait for a human, `req` itself is held and the
    /// answer is that approval (as the error); otherwise the session is ready to send it.
    async fn open_single_write(
        gate: &Gate,
        caller: &Caller,
        surface: Surface,
        req: NotionRequest,
    ) -> Result<Self, ApiError> {
        let op = Self::open(gate, caller, surface, req.clone(), true).await?;
        if op.session.awaiting_approval() {
            return Err(op.session.hold(req).await.into());
        }
        Ok(op)
    }

    /// The connection, counting one request.
    fn conn(&self) -> &Connection {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.session.connection()
    }

    fn add_requests(&self, n: u64) {
        self.requests.fetch_add(n, Ordering::Relaxed);
    }

    /// Writes the audit record and turns the result into the API's.
    async fn end<T>(self, result: Result<T, GateError>) -> Result<T, ApiError> {
        let requests = self.requests.load(Ordering::Relaxed);
        let result = match result {
            Err(e) => Err(self.session.settle_error(e).await),
            ok => ok,
        };
        match &result {
            Ok(_) => {
                self.session
                    .finish(SessionOutcome::Ok, Some(200), None, requests)
                    .await;
            }
            Err(e) => {
                let (status, rid) = match e {
                    GateError::Upstream {
                        status, request_id, ..
                    } => (*status, request_id.clone()),
                    GateError::RateLimited { .. } => (Some(429), None),
                    _ => (None, None),
                };
                self.session
                    .finish(SessionOutcome::from_error(e), status, rid, requests)
                    .await;
            }
        }
        result.map_err(ApiError::from)
    }
}

/// How a write ended badly: before anything was written, or part-way.
enum WriteFail {
    /// Nothing was written (or the failing request's own `write_state` says).
    Plain(GateError),
    /// Some blocks were written before `error`.
    Partial {
        error: GateError,
        block_ids: Vec<String>,
        written: usize,
        page_id: Option<String>,
    },
}

impl From<GateError> for WriteFail {
    fn from(e: GateError) -> Self {
        WriteFail::Plain(e)
    }
}

impl Op {
    /// Records an input error found after the session opened, and answers it.
    async fn fail(self, e: ApiError) -> ApiError {
        let requests = self.requests.load(Ordering::Relaxed);
        self.session
            .finish(
                SessionOutcome::Failed {
                    reason: e.code.as_str(),
                },
                None,
                None,
                requests,
            )
            .await;
        e
    }

    /// Like [`Op::end`] for writes that may stop part-way.
    async fn end_write<T>(self, result: Result<T, WriteFail>) -> Result<T, ApiError> {
        match result {
            Ok(v) => self.end(Ok(v)).await,
            Err(WriteFail::Plain(e)) => self.end(Err(e)).await,
            Err(WriteFail::Partial {
                error,
                block_ids,
                written,
                page_id,
            }) => {
                let requests = self.requests.load(Ordering::Relaxed);
                let status = match &error {
                    GateError::Upstream { status, .. } => *status,
                    _ => None,
                };
                let reason = if written > 0 {
                    "partial_write"
                } else {
                    error.code()
                };
                self.session
                    .finish(SessionOutcome::Failed { reason }, status, None, requests)
                    .await;
                let mut err = partial_error(error, block_ids, written);
                if let Some(id) = page_id {
                    err = err.detail("page_id", id);
                }
                Err(err)
            }
        }
    }
}

fn upstream(e: notion_client::Error) -> GateError {
    GovernedSession::map_error(&e)
}

fn is_not_found(e: &notion_client::Error) -> bool {
    e.status() == Some(404)
}

/// The data sources behind an id that may be a database or a data source.
struct Resolved {
    database_id: Option<String>,
    sources: Vec<(DataSourceId, Option<String>)>,
    fetched: Option<DataSource>,
}

async fn resolve(op: &Op, id: &str) -> Result<Resolved, GateError> {
    let db_id = DatabaseId::parse(id).map_err(|e| upstream(e.into()))?;
    match op.conn().databases().retrieve(&db_id).await {
        Ok(db) => {
            let sources = db
                .data_sources
                .as_ref()
                .map(|s| s.iter().map(|r| (r.id.clone(), r.name.clone())).collect())
                .unwrap_or_default();
            Ok(Resolved {
                database_id: Some(db.id.canonical()),
                sources,
                fetched: None,
            })
        }
        Err(e) if is_not_found(&e) => {
            let ds_id = DataSourceId::parse(id).map_err(|e| upstream(e.into()))?;
            let ds = op
                .conn()
                .data_sources()
                .retrieve(&ds_id)
                .await
                .map_err(upstream)?;
            Ok(Resolved {
                database_id: ds.database_id().map(|d| d.canonical()),
                sources: vec![(ds.id.clone(), Some(ds.title()))],
                fetched: Some(ds),
            })
        }
        Err(e) => Err(upstream(e)),
    }
}

/// The one data source of `id` (a database with one source, or a data source).
async fn single_source(op: &Op, id: &str, field: &'static str) -> Result<Resolved, GateError> {
    let r = resolve(op, id).await?;
    match r.sources.len() {
        1 => Ok(r),
        0 => Err(GateError::Invalid {
            field,
            message: "this database has no data source the connection can see".to_owned(),
        }),
        _ => {
            let names: Vec<String> = r
                .sources
                .iter()
                .map(|(id, name)| format!("{} ({})", id.canonical(), name.as_deref().unwrap_or("")))
                .collect();
            Err(GateError::Invalid {
                field,
                message: format!(
                    "this database has several data sources; use one of their ids instead: {}",
                    names.join(", ")
                ),
            })
        }
    }
}

/// One page of rows of the data source `ds` (`POST /v1/data_sources/{id}/query`, a read),
/// properties flattened. `query_database` and `query_view` both read rows this way.
async fn query_rows(
    op: &Op,
    ds: &DataSourceId,
    query: &QueryDataSource,
    paging: &Paging,
    raw: bool,
) -> Result<QueryResult, GateError> {
    let page = op
        .conn()
        .data_sources()
        .query_as::<Page>(ds, query, paging)
        .await
        .map_err(upstream)?;
    Ok(QueryResult {
        data_source_id: ds.canonical(),
        results: page
            .results
            .iter()
            .map(|p| transform::row(p, raw))
            .collect(),
        next_cursor: page.next_cursor,
        has_more: page.has_more,
        source: None,
        mirrored_at: None,
    })
}

/// Blocks in a Notion `children` array, at every level.
fn count_blocks(children: Option<&Value>) -> usize {
    children.and_then(Value::as_array).map_or(0, |blocks| {
        blocks
            .iter()
            .map(|b| {
                let nested = b
                    .get("type")
                    .and_then(Value::as_str)
                    .and_then(|t| b.get(t))
                    .and_then(|inner| inner.get("children"));
                1 + count_blocks(nested)
            })
            .sum()
    })
}

/// Notion's answer to a held call that ran, in the compact form the REST API, the tool
/// endpoint and MCP give the same operation when it runs at once: a created or updated page
/// as [`PageWritten`], an append as [`Appended`], a created or updated comment as
/// [`CommentOut`], a deleted one as [`CommentDeleted`]. Anything else
/// (operations held through the proxy) is Notion's answer unchanged. `request` is the held
/// request (`{"method", "path", "body", …}`), for what the answer does not say.
pub(crate) fn compact_result(operation: &str, request: &Value, answer: &Value) -> Value {
    let children = request.get("body").and_then(|b| b.get("children"));
    let compact = match operation {
        "pages.create" | "pages.update" => serde_json::from_value::<Page>(answer.clone())
            .ok()
            .and_then(|page| {
                serde_json::to_value(PageWritten::from_page(&page, count_blocks(children))).ok()
            }),
        "blocks.children.append" => {
            let block_ids = answer
                .get("results")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|b| b.get("id").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            serde_json::to_value(Appended {
                block_ids,
                written: count_blocks(children),
                requests: 1,
            })
            .ok()
        }
        "comments.create" | "comments.update" => serde_json::from_value::<Comment>(answer.clone())
            .ok()
            .and_then(|c| serde_json::to_value(comment_out(&c)).ok()),
        "comments.delete" => answer.get("id").and_then(Value::as_str).and_then(|id| {
            serde_json::to_value(CommentDeleted {
                id: id.to_owned(),
                deleted: true,
            })
            .ok()
        }),
        _ => None,
    };
    compact.unwrap_or_else(|| answer.clone())
}

#[cfg(test)]
mod tests;
