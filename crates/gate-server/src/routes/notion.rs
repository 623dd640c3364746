//! The governed Notion operations under `/api/v1/notion`: search, databases (list, schema,
//! query), pages (read as Markdown, text or blocks; create; update; trash), block appends,
//! comments (list, add, update, delete), views (list, query) and file uploads attached to a
//! page.
//!
//! Each operation is one function here (`search`, `list_databases`, `get_database`,
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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, patch, post};
use gate_core::{Caller, Gate, GateError, GovernedSession, NotionRequest, SessionOutcome, Surface};
use notion_client::endpoints::{
    AppendChildren, CreateComment, CreateFileUpload, Position, Search, SearchFilter, UpdateComment,
    UploadFile, ViewsOf,
};
use notion_client::ids::{
    BlockId, CommentId, DataSourceId, DatabaseId, DiscussionId, PageId, ViewId,
};
use notion_client::models::{Block, DataSource, FileUploadStatus, NewBlock, Page};
use notion_client::tree::{PageTree, TreeOptions, fetch_tree};
use notion_client::{Connection, Paging, ParentRef};
use notion_markdown::{BlockDraft, Limits, RenderOptions, WritePlan, plan_writes};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::Authed;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::transform::{self, DataSourceSchema, ObjectSummary, Row};

/// Results a search follows cursors for at most (`all_pages`); past it `truncated` is set.
pub const SEARCH_CAP: usize = 1000;
/// Blocks a page read returns at most (`max_blocks` may lower it).
pub const MAX_BLOCKS: usize = 10_000;
/// Blocks a page read returns by default.
pub const DEFAULT_MAX_BLOCKS: usize = 1000;
/// Blocks one write may carry.
pub const MAX_WRITE_BLOCKS: usize = 5000;

// ---- inputs -------------------------------------------------------------------------------

/// `POST /notion/search`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// Words in titles (empty or absent: everything shared with the connection).
    pub query: Option<String>,
    /// Only pages, or only databases (data sources).
    #[schema(inline)]
    pub filter: Option<SearchKind>,
    /// The `next_cursor` of a previous answer.
    pub cursor: Option<String>,
    /// Results per Notion request, 1–100 (default 20).
    pub limit: Option<u32>,
    /// Follow cursors until the end (at most 1000 results; `truncated` says when cut).
    pub all_pages: Option<bool>,
}

/// What a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Pages.
    Page,
    /// Databases (their data sources).
    Database,
}

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

/// `POST /notion/databases/{id}/query`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryInput {
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
}

/// How a page's content is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// GitHub-flavoured Markdown.
    #[default]
    Markdown,
    /// Plain text.
    Text,
    /// Notion's blocks, nested under `children`.
    Blocks,
}

/// `GET /notion/pages/{id}` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `markdown` (default), `text` or `blocks`.
    #[schema(inline)]
    pub format: Option<Format>,
    /// Levels of nested blocks to fetch, 1–64 (default: all).
    pub depth: Option<usize>,
    /// Blocks to fetch at most, 1–10000 (default 1000).
    pub max_blocks: Option<usize>,
}

/// The parent of a new page: exactly one of the three.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentInput {
    /// Under a page.
    pub page_id: Option<String>,
    /// A row of a database (its one data source).
    pub database_id: Option<String>,
    /// A row of a data source.
    pub data_source_id: Option<String>,
}

/// `POST /notion/pages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePageInput {
    /// Where the page goes.
    #[schema(inline)]
    pub parent: ParentInput,
    /// Property values: simple values (`"text"`, `3`, `true`, `["a", "b"]`) converted with
    /// the data source's schema, or Notion's property-value objects.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Map<String, Value>>,
    /// The title (sets the title property).
    pub title: Option<String>,
    /// Markdown content.
    pub content: Option<String>,
    /// Notion blocks (instead of `content`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub blocks: Option<Vec<Value>>,
    /// Notion icon object (`{"type": "emoji", "emoji": "🚀"}`).
    #[schema(value_type = Option<Object>)]
    pub icon: Option<Value>,
    /// Notion file object for the cover.
    #[schema(value_type = Option<Object>)]
    pub cover: Option<Value>,
}

/// `PATCH /notion/pages/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePageInput {
    /// Property values (as for a create).
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Map<String, Value>>,
    /// Notion icon object (`null` removes it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub icon: Option<Value>,
    /// Notion file object (`null` removes it).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub cover: Option<Value>,
    /// `true` moves the page to the trash (delete class), `false` restores it.
    pub in_trash: Option<bool>,
}

/// A field that was given, `null` included (`None` only when the key is absent).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Where appended blocks go: `"start"`, `"end"` or `{"after_block": id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PositionInput {
    /// `"start"` or `"end"`.
    Named(#[schema(inline)] NamedPosition),
    /// After this child block.
    After {
        /// The block to append after.
        after_block: String,
    },
}

/// `"start"` or `"end"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NamedPosition {
    /// Before the first child.
    Start,
    /// After the last child.
    End,
}

/// `POST /notion/pages/{id}/blocks`: exactly one of `markdown` and `blocks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendInput {
    /// Markdown to append.
    pub markdown: Option<String>,
    /// Notion blocks to append (nested children allowed at any depth).
    #[schema(value_type = Option<Vec<Object>>)]
    pub blocks: Option<Vec<Value>>,
    /// Where (default: the end).
    #[schema(inline)]
    pub position: Option<PositionInput>,
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

/// A database's (or data source's) schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatabaseSchema {
    /// The id asked for.
    pub id: String,
    /// The database (container), when known.
    pub database_id: Option<String>,
    /// Each data source with its flattened schema.
    pub data_sources: Vec<DataSourceSchema>,
}

/// Rows of a query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryResult {
    /// The data source queried.
    pub data_source_id: String,
    /// The rows.
    pub results: Vec<Row>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

/// A page with its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageContent {
    /// The page id.
    pub id: String,
    /// The title.
    pub title: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// The parent `{type, id}`.
    #[schema(value_type = Object)]
    pub parent: Value,
    /// Flattened property values.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// The format of `content`.
    pub format: Format,
    /// Markdown or text (a string), or blocks (an array).
    #[schema(value_type = Value)]
    pub content: Value,
    /// Whether `depth` or `max_blocks` cut the content.
    pub truncated: bool,
    /// Blocks whose children are not included.
    pub unexpanded: Vec<String>,
    /// Blocks included.
    pub block_count: usize,
    /// `"mirror"` when answered from the local mirror (local-only mode); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the mirror last fetched this content from Notion (with `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirrored_at: Option<String>,
}

/// A created or updated page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageWritten {
    /// The page id.
    pub id: String,
    /// The Notion URL.
    pub url: Option<String>,
    /// The title.
    pub title: String,
    /// Whether it is in the trash.
    pub in_trash: bool,
    /// Flattened property values.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// Blocks written as content.
    pub blocks_written: usize,
}

/// What an append wrote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Appended {
    /// The new top-level blocks, in order.
    pub block_ids: Vec<String>,
    /// Blocks written at every level.
    pub written: usize,
    /// Notion requests it took.
    pub requests: usize,
}

/// A comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentOut {
    /// The comment id.
    pub id: String,
    /// Its discussion.
    pub discussion_id: Option<String>,
    /// The text (Markdown).
    pub text: String,
    /// When it was created.
    pub created_time: Option<String>,
    /// The author's user id.
    pub created_by: Option<String>,
}

/// Comments with a cursor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentList {
    /// The comments, oldest first.
    pub results: Vec<CommentOut>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
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
struct Op {
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

// ---- operations ---------------------------------------------------------------------------

/// Searches titles; follows cursors when `all_pages` (up to [`SEARCH_CAP`]).
pub async fn search(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: SearchInput,
) -> Result<ObjectList, ApiError> {
    let size = page_size("limit", input.limit, 20)?;
    let mut req = Search::new();
    let mut body = Map::new();
    if let Some(q) = input.query.as_deref().filter(|q| !q.is_empty()) {
        req = req.query(q);
        body.insert("query".into(), Value::String(q.to_owned()));
    }
    if let Some(kind) = input.filter {
        let (f, v) = match kind {
            SearchKind::Page => (SearchFilter::Page, "page"),
            SearchKind::Database => (SearchFilter::DataSource, "data_source"),
        };
        req = req.filter(f);
        body.insert("filter".into(), json!({"property": "object", "value": v}));
    }
    // Local-only mode: answered by the mirror (routes/mirror.rs), governed the same way.
    if let Some(read) = gate
        .mirror_read(
            caller,
            surface,
            NotionRequest::post("/v1/search", Value::Object(body.clone())),
        )
        .await?
    {
        return super::mirror::search_from_mirror(read, &input, size).await;
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post("/v1/search", Value::Object(body)),
        false,
    )
    .await?;
    let all = input.all_pages.unwrap_or(false);
    let result = async {
        let mut out = ObjectList {
            results: Vec::new(),
            next_cursor: None,
            has_more: false,
            truncated: false,
            source: None,
            mirrored_at: None,
        };
        let mut cursor = input.cursor.clone();
        loop {
            let page = op
                .conn()
                .search(&req, &paging(cursor.as_deref(), size))
                .await
                .map_err(upstream)?;
            out.results
                .extend(page.results.iter().filter_map(transform::search_summary));
            out.next_cursor = page.next_cursor.clone();
            out.has_more = page.has_more;
            cursor = page.next_cursor;
            if !all || !page.has_more || cursor.is_none() {
                break;
            }
            if out.results.len() >= SEARCH_CAP {
                out.truncated = true;
                break;
            }
        }
        Ok(out)
    }
    .await;
    op.end(result).await
}

/// Lists the databases (data sources) the connection can see, one page at a time.
pub async fn list_databases(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: ListInput,
) -> Result<ObjectList, ApiError> {
    let limit = Some(page_size("limit", input.limit, 100)?);
    search(
        gate,
        caller,
        surface,
        SearchInput {
            filter: Some(SearchKind::Database),
            cursor: input.cursor,
            limit,
            ..SearchInput::default()
        },
    )
    .await
}

/// The schema of a database (every data source of it) or of one data source.
pub async fn get_database(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
) -> Result<DatabaseSchema, ApiError> {
    let db = parse_id("database_id", id, DatabaseId::parse)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get(format!("/v1/databases/{}", db.canonical())),
        false,
    )
    .await?;
    let result = async {
        let r = resolve(&op, db.as_str()).await?;
        let mut data_sources = Vec::new();
        if let Some(ds) = &r.fetched {
            data_sources.push(transform::schema(ds));
        } else {
            for (ds_id, _) in &r.sources {
                let ds = op
                    .conn()
                    .data_sources()
                    .retrieve(ds_id)
                    .await
                    .map_err(upstream)?;
                data_sources.push(transform::schema(&ds));
            }
        }
        Ok(DatabaseSchema {
            id: db.canonical(),
            database_id: r.database_id,
            data_sources,
        })
    }
    .await;
    op.end(result).await
}

/// One page of rows of a data source (or of a database with one data source).
pub async fn query_database(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: QueryInput,
    raw: bool,
) -> Result<QueryResult, ApiError> {
    let db = parse_id("database_id", id, DatabaseId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    if input.filter.as_ref().is_some_and(|f| !f.is_object()) {
        return Err(ApiError::invalid_field(
            "filter",
            "must be a Notion filter object",
        ));
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post(format!("/v1/databases/{}/query", db.canonical()), json!({})),
        false,
    )
    .await?;
    let result = async {
        let r = single_source(&op, db.as_str(), "database_id").await?;
        let Some((ds_id, _)) = r.sources.into_iter().next() else {
            return Err(GateError::NotFound {
                what: "data source",
            });
        };
        let mut q = notion_client::endpoints::QueryDataSource::new();
        if let Some(f) = input.filter.clone() {
            q = q.filter(f);
        }
        let (mut body, query) = q.to_parts(&paging(input.cursor.as_deref(), size));
        if let Some(s) = &input.sorts {
            body.insert("sorts".into(), Value::Array(s.clone()));
        }
        let (results, next_cursor, has_more) =
            query_rows(&op, &ds_id.canonical(), &body, query, raw).await?;
        Ok(QueryResult {
            data_source_id: ds_id.canonical(),
            results,
            next_cursor,
            has_more,
        })
    }
    .await;
    op.end(result).await
}

/// One page of a data source query (`POST /v1/data_sources/{id}/query`, a read): its rows
/// flattened, the next cursor and whether there are more. `query_database` and `query_view`
/// both read rows this way.
async fn query_rows(
    op: &Op,
    data_source_id: &str,
    body: &serde_json::Map<String, Value>,
    query: Vec<(String, String)>,
    raw: bool,
) -> Result<(Vec<transform::Row>, Option<String>, bool), GateError> {
    let mut raw_req = notion_client::RawRequest::new(
        axum::http::Method::POST,
        format!("/v1/data_sources/{data_source_id}/query"),
        notion_client::Idempotency::Safe,
    )
    .read(true)
    .json(body)
    .map_err(upstream)?;
    raw_req.query = query;
    let page: notion_client::models::ListResponse<Page> =
        op.conn().send(raw_req).await.map_err(upstream)?;
    let rows = page
        .results
        .iter()
        .map(|p| transform::row(p, raw))
        .collect();
    Ok((rows, page.next_cursor, page.has_more))
}

/// A page with its properties and its content as Markdown, text or blocks.
pub async fn get_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    query: PageQuery,
) -> Result<PageContent, ApiError> {
    let page_id = parse_id("page_id", id, PageId::parse)?;
    let depth = match query.depth {
        None => None,
        Some(d @ 1..=64) => Some(d),
        Some(_) => return Err(ApiError::invalid_field("depth", "must be between 1 and 64")),
    };
    let max_blocks = match query.max_blocks {
        None => DEFAULT_MAX_BLOCKS,
        Some(n @ 1..=MAX_BLOCKS) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "max_blocks",
                format!("must be between 1 and {MAX_BLOCKS}"),
            ));
        }
    };
    let format = query.format.unwrap_or_default();
    // Local-only mode: answered by the mirror (routes/mirror.rs), governed the same way.
    if let Some(read) = gate
        .mirror_read(
            caller,
            surface,
            NotionRequest::get(format!("/v1/pages/{}", page_id.canonical())),
        )
        .await?
    {
        let options = TreeOptions::new().max_depth(depth).max_blocks(max_blocks);
        return super::mirror::page_from_mirror(read, &page_id, &options, format).await;
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get(format!("/v1/pages/{}", page_id.canonical())),
        false,
    )
    .await?;
    let result = async {
        let root = BlockId::parse(page_id.as_str()).map_err(|e| upstream(e.into()))?;
        let options = TreeOptions::new()
            .max_depth(depth)
            .max_blocks(max_blocks)
            .concurrency(8);
        // The page object and its block tree do not depend on each other: both are asked at
        // once (each through the connection's limiter), one round trip instead of two. The
        // page's error, if any, is the one answered, as when they ran one after the other.
        let pages = op.conn().pages();
        let (page, tree) = tokio::join!(
            pages.retrieve(&page_id),
            fetch_tree(op.session.connection(), &root, &options),
        );
        op.add_requests(tree.requests);
        let page = page.map_err(upstream)?;
        if let Some(e) = &tree.error {
            return Err(GovernedSession::map_error(e));
        }
        Ok(page_content(&page, &tree, format))
    }
    .await;
    op.end(result).await
}

/// A page read's answer from the page object and its (fetched or mirrored) block tree.
pub(crate) fn page_content(page: &Page, tree: &PageTree, format: Format) -> PageContent {
    let opts = RenderOptions::default();
    let (content, rendered_cut) = match format {
        Format::Markdown => {
            let r = notion_markdown::render_markdown(tree.top_level(), tree, &opts);
            (Value::String(r.markdown), r.truncated)
        }
        Format::Text => (
            Value::String(notion_markdown::render_plain_text(
                tree.top_level(),
                tree,
                &opts,
            )),
            false,
        ),
        Format::Blocks => (transform::blocks_json(tree), false),
    };
    PageContent {
        id: page.id.canonical(),
        title: page.title(),
        url: page.url.clone(),
        parent: transform::parent_json(page.parent.as_ref()),
        properties: notion_markdown::flatten_page(page),
        format,
        content,
        truncated: tree.truncated || rendered_cut || !tree.unexpanded.is_empty(),
        unexpanded: transform::block_ids(&tree.unexpanded),
        block_count: tree.len(),
        source: None,
        mirrored_at: None,
    }
}

// ---- writes -------------------------------------------------------------------------------

/// Notion blocks (JSON, children nested at any depth) as drafts the planner can split.
fn drafts_from_json(blocks: &[Value], field: &str) -> Result<Vec<BlockDraft>, ApiError> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, b)| draft_from_json(b, &format!("{field}[{i}]"), 0))
        .collect()
}

fn draft_from_json(v: &Value, field: &str, depth: usize) -> Result<BlockDraft, ApiError> {
    if depth > 32 {
        return Err(ApiError::invalid_field(field, "blocks nest too deeply"));
    }
    let Some(obj) = v.as_object() else {
        return Err(ApiError::invalid_field(
            field,
            "must be a Notion block object",
        ));
    };
    let ty = match obj.get("type").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None => {
            let keys: Vec<&String> = obj.keys().filter(|k| k.as_str() != "object").collect();
            match keys.as_slice() {
                [k] => (*k).clone(),
                _ => {
                    return Err(ApiError::invalid_field(
                        field,
                        "a block needs `type` and its content object (e.g. {\"type\": \"paragraph\", \"paragraph\": {…}})",
                    ));
                }
            }
        }
    };
    let mut block = obj.clone();
    block.insert("type".into(), Value::String(ty.clone()));
    let kids = block
        .get_mut(&ty)
        .and_then(Value::as_object_mut)
        .and_then(|c| c.remove("children"));
    let children = match kids {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, c)| draft_from_json(c, &format!("{field}.children[{i}]"), depth + 1))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_field(
                field,
                "`children` must be an array",
            ));
        }
    };
    let block: NewBlock = serde_json::from_value(Value::Object(block))
        .map_err(|e| ApiError::invalid_field(field, format!("not a valid `{ty}` block: {e}")))?;
    Ok(BlockDraft { block, children })
}

/// The write plan of Markdown or blocks (exactly one may be given).
fn plan_content(
    markdown: Option<&str>,
    blocks: Option<&[Value]>,
    md_field: &str,
) -> Result<WritePlan, ApiError> {
    let drafts = match (markdown, blocks) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "blocks",
                format!("give either `{md_field}` or `blocks`, not both"),
            ));
        }
        (Some(md), None) => notion_markdown::parse_markdown(md),
        (None, Some(b)) => drafts_from_json(b, "blocks")?,
        (None, None) => Vec::new(),
    };
    let count: usize = drafts.iter().map(BlockDraft::count).sum();
    if count > MAX_WRITE_BLOCKS {
        return Err(ApiError::invalid_field(
            if markdown.is_some() {
                md_field
            } else {
                "blocks"
            },
            format!("{count} blocks; one write takes at most {MAX_WRITE_BLOCKS}"),
        ));
    }
    Ok(plan_writes(drafts, &Limits::default()))
}

/// Runs the steps of `plan` after `skip` steps already done (whose created ids are given),
/// appending under `root`; the first root-level append goes at `position`, later ones follow
/// the blocks written before them. Answers the top-level ids written and the blocks written,
/// or the error with what was written before it.
async fn run_plan(
    op: &Op,
    plan: &WritePlan,
    root: BlockId,
    position: Option<Position>,
    done: Option<Vec<Block>>,
) -> Result<(Vec<String>, usize), (GateError, Vec<String>, usize)> {
    let done = Arc::new(Mutex::new(done));
    let after: Arc<Mutex<Option<Position>>> = Arc::new(Mutex::new(position));
    let result = notion_markdown::execute_plan(plan, root.clone(), |parent, children| {
        let done = Arc::clone(&done);
        let after = Arc::clone(&after);
        let is_root = parent == root;
        async move {
            if let Some(blocks) = done.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Ok::<_, AppendError>(blocks);
            }
            let pos = if is_root {
                let st = after.lock().unwrap_or_else(|p| p.into_inner());
                st.clone()
            } else {
                None
            };
            let mut append = AppendChildren::new(&children).map_err(AppendError)?;
            if let Some(p) = pos {
                append = append.position(p);
            }
            let answer = op
                .conn()
                .blocks()
                .append(&parent, &append)
                .await
                .map_err(AppendError)?;
            if is_root {
                let mut st = after.lock().unwrap_or_else(|p| p.into_inner());
                let last = answer.results.get(children.len().saturating_sub(1));
                // Later root-level appends go right after these blocks, unless appending at
                // the end anyway.
                if !matches!(*st, None | Some(Position::End))
                    && let Some(b) = last
                {
                    *st = Some(Position::AfterBlock(b.id.clone()));
                }
            }
            Ok(answer.results)
        }
    })
    .await;
    match result {
        Ok(report) => Ok((
            transform::block_ids(&report.top_level),
            report.blocks_written,
        )),
        Err(partial) => {
            let e = match &partial.error {
                notion_markdown::ExecuteError::Append(AppendError(e)) => {
                    GovernedSession::map_error(e)
                }
                other => GateError::Upstream {
                    status: None,
                    code: None,
                    message: other.to_string(),
                    request_id: None,
                    write_state: notion_client::WriteState::Unknown,
                },
            };
            Err((
                e,
                transform::block_ids(&partial.top_level),
                partial.blocks_written,
            ))
        }
    }
}

/// A client error as a `std::error::Error` for the plan executor.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AppendError(notion_client::Error);

/// The error answer of a write that stopped part-way.
fn partial_error(e: GateError, block_ids: Vec<String>, written: usize) -> ApiError {
    let step_state = match &e {
        GateError::Upstream { write_state, .. } => {
            serde_json::to_value(write_state).unwrap_or(Value::Null)
        }
        _ => json!("not_applied"),
    };
    let mut err = ApiError::from(e).detail("written", written);
    if written > 0 {
        err.message = format!(
            "{} ({written} blocks were written before the failure; see details.block_ids)",
            err.message
        );
        err = err
            .detail("write_state", "partial")
            .detail("failed_request_write_state", step_state);
    }
    err.detail("block_ids", block_ids)
}

/// Types of a data source's properties, by name.
async fn schema_types(op: &Op, ds: &DataSourceId) -> Result<BTreeMap<String, String>, GateError> {
    let ds = op
        .conn()
        .data_sources()
        .retrieve(ds)
        .await
        .map_err(upstream)?;
    Ok(transform::property_types(ds.properties.as_ref()))
}

fn needs_schema(props: Option<&Map<String, Value>>) -> bool {
    props.is_some_and(|p| p.values().any(|v| !v.is_object()))
}

/// Creates a page (under a page, a database or a data source) with optional content.
pub async fn create_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: CreatePageInput,
) -> Result<PageWritten, ApiError> {
    let p = &input.parent;
    let given = [&p.page_id, &p.database_id, &p.data_source_id]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if given != 1 {
        return Err(ApiError::invalid_field(
            "parent",
            "give exactly one of `page_id`, `database_id` and `data_source_id`",
        ));
    }
    let page_parent = p
        .page_id
        .as_deref()
        .map(|id| parse_id("parent.page_id", id, PageId::parse))
        .transpose()?;
    let database = p
        .database_id
        .as_deref()
        .map(|id| parse_id("parent.database_id", id, DatabaseId::parse))
        .transpose()?;
    let source = p
        .data_source_id
        .as_deref()
        .map(|id| parse_id("parent.data_source_id", id, DataSourceId::parse))
        .transpose()?;
    let plan = plan_content(input.content.as_deref(), input.blocks.as_deref(), "content")?;
    let rep_parent = match (&page_parent, &database, &source) {
        (Some(id), _, _) => json!({"page_id": id.canonical()}),
        (_, Some(id), _) => json!({"database_id": id.canonical()}),
        (_, _, Some(id)) => json!({"data_source_id": id.canonical()}),
        _ => Value::Null,
    };
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post("/v1/pages", json!({"parent": rep_parent})),
        true,
    )
    .await?;

    // Prepare (reads only): the data source and, for simple values, its property types.
    let wants_types = needs_schema(input.properties.as_ref()) || input.title.is_some();
    let prepared = async {
        if let Some(id) = &page_parent {
            return Ok((ParentRef::Page(id.clone()), None));
        }
        let ds = match (&source, &database) {
            (Some(ds), _) => ds.clone(),
            (None, Some(db)) => {
                single_source(&op, db.as_str(), "parent.database_id")
                    .await?
                    .sources
                    .remove(0)
                    .0
            }
            (None, None) => return Err(GateError::NotFound { what: "parent" }),
        };
        let types = if wants_types {
            Some(schema_types(&op, &ds).await?)
        } else {
            None
        };
        Ok::<_, GateError>((ParentRef::DataSource(ds), types))
    };
    let (parent, types) = match prepared.await {
        Ok(x) => x,
        Err(e) => return op.end(Err(e)).await,
    };
    let is_page = matches!(parent, ParentRef::Page(_));
    let mut props = match &input.properties {
        Some(given) => match transform::to_notion_properties(
            given,
            if is_page { None } else { types.as_ref() },
        ) {
            Ok(p) => p,
            Err(e) => return Err(op.fail(e).await),
        },
        None => Map::new(),
    };
    if let Some(title) = &input.title {
        let name = types
            .as_ref()
            .and_then(|t| t.iter().find(|(_, ty)| ty.as_str() == "title"))
            .map_or("title".to_owned(), |(n, _)| n.clone());
        props.insert(name, json!({"title": transform::rich_text(title)}));
    }
    let mut body = Map::new();
    body.insert("parent".into(), parent.to_value());
    body.insert("properties".into(), Value::Object(props));
    if let Some(i) = &input.icon {
        body.insert("icon".into(), i.clone());
    }
    if let Some(c) = &input.cover {
        body.insert("cover".into(), c.clone());
    }
    if let Some(first) = plan.steps.first() {
        body.insert(
            "children".into(),
            serde_json::to_value(&first.children).unwrap_or(Value::Null),
        );
    }
    if op.session.awaiting_approval() {
        if plan.steps.len() > 1 {
            return Err(op.session.refuse_multi(plan.steps.len()).await.into());
        }
        let req = NotionRequest::post("/v1/pages", Value::Object(body));
        return Err(op.session.hold(req).await.into());
    }
    let result = async {
        let raw = notion_client::RawRequest::new(
            axum::http::Method::POST,
            "/v1/pages",
            notion_client::Idempotency::Unsafe,
        )
        .json(&body)
        .map_err(upstream)?;
        let page: Page = op.conn().send(raw).await.map_err(upstream)?;
        let mut written = plan.steps.first().map_or(0, |s| s.block_count());
        if plan.steps.len() > 1 {
            // The create carried the first step; learn its blocks' ids, then append the rest.
            let partial = |error, block_ids, written| WriteFail::Partial {
                error,
                block_ids,
                written,
                page_id: Some(page.id.canonical()),
            };
            let root = BlockId::parse(page.id.as_str()).map_err(|e| upstream(e.into()))?;
            let first = match op
                .conn()
                .blocks()
                .children(&root, &Paging::first().size(100))
                .await
            {
                Ok(f) => f,
                Err(e) => return Err(partial(upstream(e), Vec::new(), written)),
            };
            match run_plan(&op, &plan, root, None, Some(first.results)).await {
                Ok((_, n)) => written = n,
                Err((e, ids, n)) => return Err(partial(e, ids, n)),
            }
        }
        Ok(PageWritten {
            id: page.id.canonical(),
            url: page.url.clone(),
            title: page.title(),
            in_trash: page.is_in_trash(),
            properties: notion_markdown::flatten_page(&page),
            blocks_written: written,
        })
    }
    .await;
    op.end_write(result).await
}

/// Updates a page's properties, icon, cover or trash state (`in_trash: true` is
/// delete-class).
pub async fn update_page(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: UpdatePageInput,
) -> Result<PageWritten, ApiError> {
    let page_id = parse_id("page_id", id, PageId::parse)?;
    if input.properties.is_none()
        && input.icon.is_none()
        && input.cover.is_none()
        && input.in_trash.is_none()
    {
        return Err(ApiError::invalid_field(
            "properties",
            "nothing to update: give `properties`, `icon`, `cover` or `in_trash`",
        ));
    }
    let path = format!("/v1/pages/{}", page_id.canonical());
    let mut rep = Map::new();
    if let Some(t) = input.in_trash {
        rep.insert("in_trash".into(), Value::Bool(t));
    }
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::patch(&path, Value::Object(rep)),
        true,
    )
    .await?;
    let types = if needs_schema(input.properties.as_ref()) {
        let read = async {
            let page = op
                .conn()
                .pages()
                .retrieve(&page_id)
                .await
                .map_err(upstream)?;
            match page.parent.as_ref().and_then(|p| p.data_source_id()) {
                Some(ds) => Ok(Some(schema_types(&op, ds).await?)),
                None => Ok::<_, GateError>(None),
            }
        };
        match read.await {
            Ok(t) => t,
            Err(e) => return op.end(Err(e)).await,
        }
    } else {
        None
    };
    let mut body = Map::new();
    if let Some(given) = &input.properties {
        match transform::to_notion_properties(given, types.as_ref()) {
            Ok(p) => {
                body.insert("properties".into(), Value::Object(p));
            }
            Err(e) => return Err(op.fail(e).await),
        }
    }
    for (k, v) in [("icon", &input.icon), ("cover", &input.cover)] {
        if let Some(v) = v {
            body.insert(k.into(), v.clone());
        }
    }
    if let Some(t) = input.in_trash {
        body.insert("in_trash".into(), Value::Bool(t));
    }
    if op.session.awaiting_approval() {
        let req = NotionRequest::patch(&path, Value::Object(body));
        return Err(op.session.hold(req).await.into());
    }
    let result = async {
        let raw = notion_client::RawRequest::new(
            axum::http::Method::PATCH,
            path.clone(),
            notion_client::Idempotency::Safe,
        )
        .json(&body)
        .map_err(upstream)?;
        let page: Page = op.conn().send(raw).await.map_err(upstream)?;
        Ok(PageWritten {
            id: page.id.canonical(),
            url: page.url.clone(),
            title: page.title(),
            in_trash: page.is_in_trash(),
            properties: notion_markdown::flatten_page(&page),
            blocks_written: 0,
        })
    }
    .await;
    op.end(result).await
}

/// Appends Markdown or blocks to a page (or block), split into requests within Notion's
/// limits; a failure part-way reports what was written.
pub async fn append_blocks(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: AppendInput,
) -> Result<Appended, ApiError> {
    let block_id = parse_id("page_id", id, BlockId::parse)?;
    if input.markdown.is_none() && input.blocks.is_none() {
        return Err(ApiError::invalid_field(
            "markdown",
            "give `markdown` or `blocks` to append",
        ));
    }
    let position = match &input.position {
        None | Some(PositionInput::Named(NamedPosition::End)) => None,
        Some(PositionInput::Named(NamedPosition::Start)) => Some(Position::Start),
        Some(PositionInput::After { after_block }) => Some(Position::AfterBlock(parse_id(
            "position.after_block",
            after_block,
            BlockId::parse,
        )?)),
    };
    let plan = plan_content(
        input.markdown.as_deref(),
        input.blocks.as_deref(),
        "markdown",
    )?;
    let Some(first) = plan.steps.first() else {
        return Err(ApiError::invalid_field(
            "markdown",
            "there is nothing to append",
        ));
    };
    let mut first_append = AppendChildren::new(&first.children)
        .map_err(|_| ApiError::invalid_field("blocks", "cannot be encoded"))?;
    if let Some(p) = &position {
        first_append = first_append.position(p.clone());
    }
    let path = format!("/v1/blocks/{}/children", block_id.canonical());
    let first_req = NotionRequest::patch(&path, first_append.body(false));
    let op = Op::open(gate, caller, surface, first_req.clone(), true).await?;
    if op.session.awaiting_approval() {
        if plan.steps.len() > 1 {
            return Err(op.session.refuse_multi(plan.steps.len()).await.into());
        }
        return Err(op.session.hold(first_req).await.into());
    }
    let result = match run_plan(&op, &plan, block_id, position, None).await {
        Ok((block_ids, written)) => Ok(Appended {
            block_ids,
            written,
            requests: plan.steps.len(),
        }),
        Err((error, block_ids, written)) => Err(WriteFail::Partial {
            error,
            block_ids,
            written,
            page_id: None,
        }),
    };
    op.end_write(result).await
}

/// Comments on a page (or block), one page at a time.
pub async fn list_comments(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: ListInput,
) -> Result<CommentList, ApiError> {
    let block_id = parse_id("page_id", id, BlockId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get("/v1/comments").query("block_id", block_id.canonical()),
        false,
    )
    .await?;
    let result = async {
        let list = op
            .conn()
            .comments()
            .list(&block_id, &paging(input.cursor.as_deref(), size))
            .await
            .map_err(upstream)?;
        let results = list
            .results
            .iter()
            .map(|c| {
                let v = serde_json::to_value(c).unwrap_or(Value::Null);
                comment_out(&v)
            })
            .collect();
        Ok(CommentList {
            results,
            next_cursor: list.next_cursor,
            has_more: list.has_more,
        })
    }
    .await;
    op.end(result).await
}

fn comment_out(v: &Value) -> CommentOut {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let text = v
        .get("rich_text")
        .and_then(|rt| {
            serde_json::from_value::<Vec<notion_client::models::RichText>>(rt.clone()).ok()
        })
        .map(|rt| notion_markdown::rich_text_to_markdown(&rt, &RenderOptions::default()))
        .unwrap_or_default();
    CommentOut {
        id: s("id").unwrap_or_default(),
        discussion_id: s("discussion_id"),
        text,
        created_time: s("created_time"),
        created_by: v
            .get("created_by")
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
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
                serde_json::to_value(PageWritten {
                    id: page.id.canonical(),
                    url: page.url.clone(),
                    title: page.title(),
                    in_trash: page.is_in_trash(),
                    properties: notion_markdown::flatten_page(&page),
                    blocks_written: count_blocks(children),
                })
                .ok()
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
        "comments.create" | "comments.update" => serde_json::to_value(comment_out(answer)).ok(),
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

/// Where a new comment goes: a page (a new discussion) or an existing discussion (a reply).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The page to comment on (starts a discussion). Give this or `discussion_id`.
    pub page_id: Option<String>,
    /// The discussion to reply in (the `discussion_id` of a listed comment).
    pub discussion_id: Option<String>,
    /// The comment's text.
    pub text: String,
}

/// `PATCH /notion/comments/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentInput {
    /// The comment's new text.
    pub text: String,
}

/// A deleted comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentDeleted {
    /// The comment id.
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// Adds a comment to a page (a new discussion) or replies in a discussion.
pub async fn add_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: CommentInput,
) -> Result<CommentOut, ApiError> {
    if input.text.trim().is_empty() {
        return Err(ApiError::invalid_field("text", "must not be empty"));
    }
    let (body, create) = match (input.page_id.as_deref(), input.discussion_id.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "discussion_id",
                "give `page_id` or `discussion_id`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "page_id",
                "give `page_id` (a new discussion) or `discussion_id` (a reply)",
            ));
        }
        (Some(id), None) => {
            let page_id = parse_id("page_id", id, PageId::parse)?;
            let body = json!({
                "parent": {"page_id": page_id.canonical()},
                "rich_text": transform::rich_text(&input.text),
            });
            let create = CreateComment::on(ParentRef::Page(page_id), &input.text);
            (body, create)
        }
        (None, Some(id)) => {
            let discussion = parse_id("discussion_id", id, DiscussionId::parse)?;
            let body = json!({
                "discussion_id": discussion.canonical(),
                "rich_text": transform::rich_text(&input.text),
            });
            (body, Ok(CreateComment::reply(&discussion, &input.text)))
        }
    };
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post("/v1/comments", body.clone()),
        true,
    )
    .await?;
    if op.session.awaiting_approval() {
        return Err(op
            .session
            .hold(NotionRequest::post("/v1/comments", body))
            .await
            .into());
    }
    let result = async {
        let create = create.map_err(upstream)?;
        let c = op
            .conn()
            .comments()
            .create(&create)
            .await
            .map_err(upstream)?;
        Ok(comment_out(
            &serde_json::to_value(&c).unwrap_or(Value::Null),
        ))
    }
    .await;
    op.end(result).await
}

/// Replaces a comment's text (update class).
pub async fn update_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    text: &str,
) -> Result<CommentOut, ApiError> {
    let comment_id = parse_id("comment_id", id, CommentId::parse)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid_field("text", "must not be empty"));
    }
    let path = format!("/v1/comments/{}", comment_id.canonical());
    let body = json!({"rich_text": transform::rich_text(text)});
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::patch(path.clone(), body.clone()),
        true,
    )
    .await?;
    if op.session.awaiting_approval() {
        return Err(op
            .session
            .hold(NotionRequest::patch(path, body))
            .await
            .into());
    }
    let result = async {
        let c = op
            .conn()
            .comments()
            .update(&comment_id, &UpdateComment::text(text))
            .await
            .map_err(upstream)?;
        Ok(comment_out(
            &serde_json::to_value(&c).unwrap_or(Value::Null),
        ))
    }
    .await;
    op.end(result).await
}

/// Deletes a comment (delete class).
pub async fn delete_comment(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
) -> Result<CommentDeleted, ApiError> {
    let comment_id = parse_id("comment_id", id, CommentId::parse)?;
    let path = format!("/v1/comments/{}", comment_id.canonical());
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::delete(path.clone()),
        true,
    )
    .await?;
    if op.session.awaiting_approval() {
        return Err(op.session.hold(NotionRequest::delete(path)).await.into());
    }
    let result = async {
        op.conn()
            .comments()
            .delete(&comment_id)
            .await
            .map_err(upstream)?;
        Ok(CommentDeleted {
            id: comment_id.canonical(),
            deleted: true,
        })
    }
    .await;
    op.end(result).await
}

/// `GET /notion/views` query: the views of a database or of a data source.
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewsInput {
    /// The database whose views to list. Give this or `data_source_id`.
    pub database_id: Option<String>,
    /// The data source whose views to list.
    pub data_source_id: Option<String>,
    /// The `next_cursor` of a previous answer.
    pub cursor: Option<String>,
    /// Views, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// One view of a database.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewOut {
    /// The view id.
    pub id: String,
    /// Its name (the tab's label).
    pub name: Option<String>,
    /// Its layout (`table`, `board`, `list`, …).
    #[serde(rename = "type")]
    pub view_type: Option<String>,
    /// The data source it shows.
    pub data_source_id: Option<String>,
    /// Its URL.
    pub url: Option<String>,
    /// Whether it filters rows.
    pub filtered: bool,
    /// Whether it sorts rows.
    pub sorted: bool,
}

/// Views with a cursor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewList {
    /// The views.
    pub results: Vec<ViewOut>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

/// `POST /notion/views/{id}/query`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewQueryInput {
    /// The `next_cursor` of a previous answer.
    pub cursor: Option<String>,
    /// Rows, 1–100 (default 100).
    pub limit: Option<u32>,
}

/// Rows of a view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewRows {
    /// The view queried.
    pub view_id: String,
    /// The data source it shows.
    pub data_source_id: String,
    /// The rows, filtered and sorted as the view is.
    pub results: Vec<Row>,
    /// Where to continue, or `null`.
    pub next_cursor: Option<String>,
    /// Whether more follow.
    pub has_more: bool,
}

fn view_out(v: &notion_client::models::View) -> ViewOut {
    let view_type = v
        .view_type
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok())
        .and_then(|t| t.as_str().map(str::to_owned));
    ViewOut {
        id: v.id.canonical(),
        name: v.name.as_ref().cloned(),
        view_type,
        data_source_id: v.data_source_id.as_ref().map(|d| d.canonical()),
        url: v.url.as_ref().cloned(),
        filtered: v.filter.as_ref().is_some_and(|f| !f.is_null()),
        sorted: v
            .sorts
            .as_ref()
            .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty())),
    }
}

/// The views of a database or a data source, one page at a time (each view retrieved for
/// its name and type: Notion lists only ids).
pub async fn list_views(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    input: ViewsInput,
) -> Result<ViewList, ApiError> {
    let size = page_size("limit", input.limit, 100)?;
    let (of, key, id) = match (
        input.database_id.as_deref(),
        input.data_source_id.as_deref(),
    ) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "data_source_id",
                "give `database_id` or `data_source_id`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "database_id",
                "give `database_id` or `data_source_id`",
            ));
        }
        (Some(id), None) => {
            let db = parse_id("database_id", id, DatabaseId::parse)?;
            let canonical = db.canonical();
            (ViewsOf::Database(db), "database_id", canonical)
        }
        (None, Some(id)) => {
            let ds = parse_id("data_source_id", id, DataSourceId::parse)?;
            let canonical = ds.canonical();
            (ViewsOf::DataSource(ds), "data_source_id", canonical)
        }
    };
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::get("/v1/views").query(key, id),
        false,
    )
    .await?;
    let result = async {
        let list = op
            .conn()
            .views()
            .list(&of, &paging(input.cursor.as_deref(), size))
            .await
            .map_err(upstream)?;
        let mut results = Vec::with_capacity(list.results.len());
        for partial in &list.results {
            let view = op
                .conn()
                .views()
                .retrieve(&partial.id)
                .await
                .map_err(upstream)?;
            results.push(view_out(&view));
        }
        Ok(ViewList {
            results,
            next_cursor: list.next_cursor,
            has_more: list.has_more,
        })
    }
    .await;
    op.end(result).await
}

/// The rows of a view, flattened as in [`query_database`]: the view's filter and sorts run as
/// a query of its data source (one Notion request per page of rows, full page objects).
pub async fn query_view(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: ViewQueryInput,
    raw: bool,
) -> Result<ViewRows, ApiError> {
    let view_id = parse_id("view_id", id, ViewId::parse)?;
    let size = page_size("limit", input.limit, 100)?;
    let op = Op::open(
        gate,
        caller,
        surface,
        NotionRequest::post(
            format!("/v1/views/{}/queries", view_id.canonical()),
            json!({}),
        ),
        false,
    )
    .await?;
    let result = async {
        let view = op
            .conn()
            .views()
            .retrieve(&view_id)
            .await
            .map_err(upstream)?;
        let Some(ds_id) = view.data_source_id.as_ref().cloned() else {
            return Err(GateError::NotFound {
                what: "data source",
            });
        };
        let mut q = notion_client::endpoints::QueryDataSource::new();
        if let Some(f) = view.filter.as_ref().filter(|f| !f.is_null()) {
            q = q.filter(f.clone());
        }
        let (mut body, query) = q.to_parts(&paging(input.cursor.as_deref(), size));
        if let Some(s) = view.sorts.as_ref().filter(|s| s.is_array()) {
            body.insert("sorts".into(), s.clone());
        }
        let (results, next_cursor, has_more) =
            query_rows(&op, &ds_id.canonical(), &body, query, raw).await?;
        Ok(ViewRows {
            view_id: view_id.canonical(),
            data_source_id: ds_id.canonical(),
            results,
            next_cursor,
            has_more,
        })
    }
    .await;
    op.end(result).await
}

/// The most decoded bytes `upload_file` takes as base64 `content` (1 MiB: its base64 fits the
/// default 2 MiB request body limit); larger files are given by `url`.
pub const MAX_INLINE_UPLOAD_BYTES: usize = 1024 * 1024;
/// How many times an `external_url` import is looked at before giving up on it.
const IMPORT_CHECKS: u32 = 10;

/// How an uploaded file is attached to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachAs {
    /// A file block appended to the page.
    #[default]
    File,
    /// An image block.
    Image,
    /// A video block.
    Video,
    /// An audio block.
    Audio,
    /// A PDF block.
    Pdf,
    /// The value of a files property (named by `property`), replacing its files.
    Property,
    /// The page's icon.
    Icon,
    /// The page's cover.
    Cover,
}

impl AttachAs {
    fn block_type(self) -> Option<&'static str> {
        match self {
            Self::File => Some("file"),
            Self::Image => Some("image"),
            Self::Video => Some("video"),
            Self::Audio => Some("audio"),
            Self::Pdf => Some("pdf"),
            Self::Property | Self::Icon | Self::Cover => None,
        }
    }
}

/// `POST /notion/pages/{id}/files`: a file from a URL or base64 content, attached to a page.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadInput {
    /// A public `https://` URL that Notion imports (Notion's `external_url` mode). Give this
    /// or `content`.
    pub url: Option<String>,
    /// The file's bytes as base64, at most 1 MiB decoded.
    pub content: Option<String>,
    /// The file name with its extension (default: the URL's last segment).
    pub filename: Option<String>,
    /// The MIME type (default: inferred by Notion from the name).
    pub content_type: Option<String>,
    /// `file` (default), `image`, `video`, `audio`, `pdf` (a block appended to the page),
    /// `property` (a files property), `icon` or `cover`.
    pub attach_as: Option<AttachAs>,
    /// The files property to set (with `attach_as: "property"`).
    pub property: Option<String>,
}

/// An uploaded, attached file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileAttached {
    /// The page it is attached to.
    pub page_id: String,
    /// The file upload.
    pub file_upload_id: String,
    /// Its name.
    pub filename: String,
    /// How it is attached.
    pub attached_as: AttachAs,
    /// The new block (for block attachments).
    pub block_id: Option<String>,
}

/// The `PATCH` (path, body) that attaches `file` (a file object's `type` and value) to `page`.
fn attach_request(
    page: &PageId,
    attach: AttachAs,
    property: Option<&str>,
    filename: &str,
    file: Value,
) -> (String, Value) {
    match attach.block_type() {
        Some(t) => (
            format!("/v1/blocks/{}/children", page.canonical()),
            json!({"children": [{"object": "block", "type": t, t: file}]}),
        ),
        None => {
            let body = match attach {
                AttachAs::Icon => json!({"icon": file}),
                AttachAs::Cover => json!({"cover": file}),
                _ => {
                    let mut entry = file;
                    entry["name"] = Value::String(filename.to_owned());
                    json!({"properties": {property.unwrap_or_default(): {"files": [entry]}}})
                }
            };
            (format!("/v1/pages/{}", page.canonical()), body)
        }
    }
}

/// Uploads a file (from a URL or base64 content) and attaches it to a page (create class).
///
/// A caller whose writes wait for approval has the attach held as one request: a URL is held
/// as an `external` file (what the human sees is the URL itself); base64 content cannot be
/// held in one request and is refused with `approval_requires_single_request`.
pub async fn upload_file(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    id: &str,
    input: UploadInput,
) -> Result<FileAttached, ApiError> {
    use base64::Engine as _;
    let page_id = parse_id("page_id", id, PageId::parse)?;
    let attach = input.attach_as.unwrap_or_default();
    let property = match (attach, input.property.as_deref().map(str::trim)) {
        (AttachAs::Property, Some(p)) if !p.is_empty() => Some(p.to_owned()),
        (AttachAs::Property, _) => {
            return Err(ApiError::invalid_field(
                "property",
                "name the files property to set (with `attach_as: \"property\"`)",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid_field(
                "property",
                "only with `attach_as: \"property\"`",
            ));
        }
        (_, None) => None,
    };
    enum Source {
        Url(String),
        Bytes(Vec<u8>),
    }
    let source = match (input.url, input.content) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "content",
                "give `url` or `content`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "url",
                "give `url` (an https:// URL) or `content` (base64)",
            ));
        }
        (Some(url), None) => {
            let url = url.trim().to_owned();
            if !url.starts_with("https://") || url.len() <= "https://".len() {
                return Err(ApiError::invalid_field("url", "must be an https:// URL"));
            }
            Source::Url(url)
        }
        (None, Some(content)) => {
            // Base64 is 4 characters per 3 bytes: refuse before decoding a huge string.
            if content.len() / 4 * 3 > MAX_INLINE_UPLOAD_BYTES + 3 {
                return Err(ApiError::invalid_field(
                    "content",
                    format!(
                        "at most {MAX_INLINE_UPLOAD_BYTES} bytes decoded; give larger files by `url`"
                    ),
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content.trim())
                .map_err(|_| ApiError::invalid_field("content", "is not valid base64"))?;
            if bytes.is_empty() {
                return Err(ApiError::invalid_field("content", "must not be empty"));
            }
            if bytes.len() > MAX_INLINE_UPLOAD_BYTES {
                return Err(ApiError::invalid_field(
                    "content",
                    format!(
                        "at most {MAX_INLINE_UPLOAD_BYTES} bytes decoded; give larger files by `url`"
                    ),
                ));
            }
            Source::Bytes(bytes)
        }
    };
    let filename = match (input.filename.as_deref().map(str::trim), &source) {
        (Some(f), _) if !f.is_empty() => f.to_owned(),
        (_, Source::Url(url)) => url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .filter(|n| !n.is_empty() && !n.contains(':'))
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid_field("filename", "give a file name"))?,
        _ => return Err(ApiError::invalid_field("filename", "give a file name")),
    };
    let held_file = match &source {
        Source::Url(url) => json!({"type": "external", "external": {"url": url}}),
        Source::Bytes(_) => json!({"type": "file_upload", "file_upload": {"id": ""}}),
    };
    let (path, body) = attach_request(&page_id, attach, property.as_deref(), &filename, held_file);
    let held = NotionRequest::patch(path, body);
    let op = Op::open(gate, caller, surface, held.clone(), true).await?;
    if op.session.awaiting_approval() {
        if matches!(source, Source::Bytes(_)) {
            let e = ApiError::from(GateError::Forbidden {
                code: "approval_requires_single_request",
                reason: "an upload of `content` takes several Notion requests and cannot be \
                         held for approval as one; give the file by `url`"
                    .to_owned(),
                needed: None,
            })
            .detail("field", "content");
            return Err(op.fail(e).await);
        }
        return Err(op.session.hold(held).await.into());
    }
    let result = async {
        let uploads = op.conn().file_uploads();
        let mut upload = match source {
            Source::Url(url) => {
                let mut create =
                    CreateFileUpload::external_url(url, filename.clone()).map_err(upstream)?;
                if let Some(ct) = &input.content_type {
                    create = create.content_type(ct.clone());
                }
                uploads.create(&create).await.map_err(upstream)?
            }
            Source::Bytes(bytes) => {
                op.add_requests(2);
                let mut file = UploadFile::new(filename.clone(), bytes.len() as u64);
                if let Some(ct) = &input.content_type {
                    file = file.content_type(ct.clone());
                }
                uploads
                    .upload(bytes.as_slice(), &file)
                    .await
                    .map_err(upstream)?
            }
        };
        let mut checks = 0;
        while upload.status == FileUploadStatus::Pending && checks < IMPORT_CHECKS {
            checks += 1;
            if checks > 1 {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            upload = op
                .conn()
                .file_uploads()
                .retrieve(&upload.id)
                .await
                .map_err(upstream)?;
        }
        if upload.status != FileUploadStatus::Uploaded {
            return Err(GateError::Upstream {
                status: None,
                code: Some("file_upload_not_ready".to_owned()),
                message: format!(
                    "Notion did not finish the upload (status `{}`)",
                    upload.status.as_str()
                ),
                request_id: None,
                write_state: notion_client::WriteState::NotApplied,
            });
        }
        let file = json!({"type": "file_upload", "file_upload": {"id": upload.id.canonical()}});
        let (path, body) = attach_request(&page_id, attach, property.as_deref(), &filename, file);
        let req = notion_client::RawRequest::new(
            axum::http::Method::PATCH,
            path,
            notion_client::Idempotency::Unsafe,
        )
        .json(&body)
        .map_err(upstream)?;
        let answer: Value = op.conn().send(req).await.map_err(upstream)?;
        let block_id = attach
            .block_type()
            .and_then(|_| answer.get("results"))
            .and_then(Value::as_array)
            .and_then(|r| r.last())
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(FileAttached {
            page_id: page_id.canonical(),
            file_upload_id: upload.id.canonical(),
            filename,
            attached_as: attach,
            block_id,
        })
    }
    .await;
    op.end(result).await
}

// ---- REST handlers ------------------------------------------------------------------------

/// A query string, decoded; a bad one is a 400 naming the parameter.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v).map_err(|rejection| {
        let text = rejection.body_text();
        let detail = text
            .split_once(": ")
            .map_or(text.as_str(), |(_, rest)| rest)
            .to_owned();
        let mut err = ApiError::new(
            ErrorCode::InvalidRequest,
            format!("invalid query string: {detail}"),
        );
        if let Some((field, _)) = detail.split_once(": ") {
            if !field.contains(' ') {
                err = err.detail("field", field);
            }
        } else if let Some(rest) = detail.strip_prefix("unknown field `")
            && let Some((field, _)) = rest.split_once('`')
        {
            err = err.detail("field", field);
        }
        err
    })
}

/// Search titles of pages and databases.
#[utoipa::path(post, path = "/api/v1/notion/search", tag = "notion",
    security(("bearer" = [])), request_body = SearchInput,
    responses((status = 200, body = ObjectList), (status = 400, description = "Bad input"),
              (status = 401), (status = 403, description = "Denied by policy or local-only")))]
pub async fn search_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<SearchInput>,
) -> Result<Json<ObjectList>, ApiError> {
    search(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// List the databases (data sources) the connection can see.
#[utoipa::path(get, path = "/api/v1/notion/databases", tag = "notion",
    security(("bearer" = [])), params(ListInput),
    responses((status = 200, body = ObjectList), (status = 400), (status = 401), (status = 403)))]
pub async fn list_databases_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    q: Result<Query<ListInput>, QueryRejection>,
) -> Result<Json<ObjectList>, ApiError> {
    let input = query(q)?;
    list_databases(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// The schema of a database (all its data sources) or of a data source.
#[utoipa::path(get, path = "/api/v1/notion/databases/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Database or data source id")),
    responses((status = 200, body = DatabaseSchema), (status = 400), (status = 401), (status = 403),
              (status = 404, description = "Not found or not shared")))]
pub async fn get_database_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<DatabaseSchema>, ApiError> {
    get_database(&st.gate, &caller, Surface::Rest, &id)
        .await
        .map(Json)
}

/// Query the rows of a data source (or of a database with one data source).
#[utoipa::path(post, path = "/api/v1/notion/databases/{id}/query", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Database or data source id")),
    request_body = QueryInput,
    responses((status = 200, body = QueryResult), (status = 400, description = "Bad input, or several data sources"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn query_database_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<QueryInput>,
) -> Result<Json<QueryResult>, ApiError> {
    query_database(&st.gate, &caller, Surface::Rest, &id, input, true)
        .await
        .map(Json)
}

/// A page with its properties and content (Markdown, text or blocks).
#[utoipa::path(get, path = "/api/v1/notion/pages/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id"), PageQuery),
    responses((status = 200, body = PageContent), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn get_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<PageContent>, ApiError> {
    let q = query(q)?;
    get_page(&st.gate, &caller, Surface::Rest, &id, q)
        .await
        .map(Json)
}

/// Create a page under a page, a database or a data source.
#[utoipa::path(post, path = "/api/v1/notion/pages", tag = "notion",
    security(("bearer" = [])), request_body = CreatePageInput,
    responses((status = 200, body = PageWritten), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404), (status = 502)))]
pub async fn create_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<CreatePageInput>,
) -> Result<Json<PageWritten>, ApiError> {
    create_page(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// Update a page's properties, icon, cover or trash state.
#[utoipa::path(patch, path = "/api/v1/notion/pages/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id")),
    request_body = UpdatePageInput,
    responses((status = 200, body = PageWritten), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_page_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdatePageInput>,
) -> Result<Json<PageWritten>, ApiError> {
    update_page(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}

/// Append Markdown or blocks to a page.
#[utoipa::path(post, path = "/api/v1/notion/pages/{id}/blocks", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page or block id")),
    request_body = AppendInput,
    responses((status = 200, body = Appended), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404),
              (status = 502, description = "Failed; `details.written` and `details.block_ids` say what was written")))]
pub async fn append_blocks_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AppendInput>,
) -> Result<Json<Appended>, ApiError> {
    append_blocks(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}

/// Comments on a page (or block), one page at a time.
#[utoipa::path(get, path = "/api/v1/notion/pages/{id}/comments", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page or block id"), ListInput),
    responses((status = 200, body = CommentList), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn list_comments_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    q: Result<Query<ListInput>, QueryRejection>,
) -> Result<Json<CommentList>, ApiError> {
    let input = query(q)?;
    list_comments(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}

/// Comment on a page (a new discussion) or reply in a discussion.
#[utoipa::path(post, path = "/api/v1/notion/comments", tag = "notion",
    security(("bearer" = [])), request_body = CommentInput,
    responses((status = 200, body = CommentOut), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn add_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Json<CommentOut>, ApiError> {
    add_comment(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// Replace a comment's text.
#[utoipa::path(patch, path = "/api/v1/notion/comments/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Comment id")),
    request_body = UpdateCommentInput,
    responses((status = 200, body = CommentOut), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateCommentInput>,
) -> Result<Json<CommentOut>, ApiError> {
    update_comment(&st.gate, &caller, Surface::Rest, &id, &input.text)
        .await
        .map(Json)
}

/// Delete a comment.
#[utoipa::path(delete, path = "/api/v1/notion/comments/{id}", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, body = CommentDeleted), (status = 202, description = "Held for approval"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_comment_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<CommentDeleted>, ApiError> {
    delete_comment(&st.gate, &caller, Surface::Rest, &id)
        .await
        .map(Json)
}

/// The views of a database or of a data source.
#[utoipa::path(get, path = "/api/v1/notion/views", tag = "notion",
    security(("bearer" = [])), params(ViewsInput),
    responses((status = 200, body = ViewList), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn list_views_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    q: Result<Query<ViewsInput>, QueryRejection>,
) -> Result<Json<ViewList>, ApiError> {
    let input = query(q)?;
    list_views(&st.gate, &caller, Surface::Rest, input)
        .await
        .map(Json)
}

/// The rows of a view (its filter and sorts), flattened as in a database query.
#[utoipa::path(post, path = "/api/v1/notion/views/{id}/query", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "View id")),
    request_body = ViewQueryInput,
    responses((status = 200, body = ViewRows), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn query_view_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ViewQueryInput>,
) -> Result<Json<ViewRows>, ApiError> {
    query_view(&st.gate, &caller, Surface::Rest, &id, input, true)
        .await
        .map(Json)
}

/// Upload a file (from a URL or base64 content, at most 1 MiB decoded) and attach it to a
/// page: as a file, image, video, audio or PDF block, a files property, the icon or the cover.
#[utoipa::path(post, path = "/api/v1/notion/pages/{id}/files", tag = "notion",
    security(("bearer" = [])), params(("id" = String, Path, description = "Page id")),
    request_body = UploadInput,
    responses((status = 200, body = FileAttached), (status = 202, description = "Held for approval (a URL only)"),
              (status = 400, description = "Bad input (the field is named), or content over 1 MiB"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn upload_file_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UploadInput>,
) -> Result<Json<FileAttached>, ApiError> {
    upload_file(&st.gate, &caller, Surface::Rest, &id, input)
        .await
        .map(Json)
}

/// The Notion routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notion/search", post(search_handler))
        .route("/api/v1/notion/databases", get(list_databases_handler))
        .route("/api/v1/notion/databases/{id}", get(get_database_handler))
        .route(
            "/api/v1/notion/databases/{id}/query",
            post(query_database_handler),
        )
        .route("/api/v1/notion/pages", post(create_page_handler))
        .route(
            "/api/v1/notion/pages/{id}",
            get(get_page_handler).merge(patch(update_page_handler)),
        )
        .route(
            "/api/v1/notion/pages/{id}/blocks",
            post(append_blocks_handler),
        )
        .route(
            "/api/v1/notion/pages/{id}/comments",
            get(list_comments_handler),
        )
        .route("/api/v1/notion/pages/{id}/files", post(upload_file_handler))
        .route("/api/v1/notion/comments", post(add_comment_handler))
        .route(
            "/api/v1/notion/comments/{id}",
            patch(update_comment_handler).merge(delete(delete_comment_handler)),
        )
        .route("/api/v1/notion/views", get(list_views_handler))
        .route("/api/v1/notion/views/{id}/query", post(query_view_handler))
}

/// The OpenAPI paths of the Notion routes.
#[derive(OpenApi)]
#[openapi(paths(
    search_handler,
    list_databases_handler,
    get_database_handler,
    query_database_handler,
    get_page_handler,
    create_page_handler,
    update_page_handler,
    append_blocks_handler,
    list_comments_handler,
    add_comment_handler,
    update_comment_handler,
    delete_comment_handler,
    list_views_handler,
    query_view_handler,
    upload_file_handler
))]
pub struct NotionApi;
