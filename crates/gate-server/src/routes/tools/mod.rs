//! The single `notion` tool for agent frameworks: `GET /api/v1/tools/notion` lists the
//! actions the caller may use (filtered by the policy for the caller's maturity, with the
//! JSON Schema of each action's params), and `POST /api/v1/tools/notion` runs one action,
//! `{action, params}` → `{ok: true, action, result}` or the error envelope.
//!
//! The actions are [`gate_policy::ToolAction`] (listed in `docs/tool-actions.md`, generated
//! from it; `search_local` searches the local mirror, `routes::mirror`): each arm of [`describe`] and [`run_action`] matches it exhaustively, so a new
//! action does not compile without its description, params schema and handler. Each calls
//! the same operation as the REST API (`routes::notion`), on the `tool` surface; results are
//! compact (flattened properties, Markdown content, no raw property values). As in the
//! original, `filter`, `sorts`, `properties` and `blocks` may
//! also be given as JSON strings.

use axum::Json;
use axum::extract::State;
use gate_core::{Caller, Gate, GateError, Refusal, Surface};
use gate_policy::{Decision, Operation, OperationScope, ToolAction as Action, decide};
use gate_store::ApprovalId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::approvals::{self, HeldCall};
use super::notion::{
    self, AppendInput, CommentInput, CreatePageInput, Format, ListInput, PageQuery, ParentInput,
    QueryInput, SearchInput, UpdatePageInput, UploadInput, ViewQueryInput, ViewsInput,
};
use crate::auth::Authed;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::state::AppState;

mod params;
pub use params::*;

/// `POST /tools/notion`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The action's name (see `GET /tools/notion`).
    pub action: String,
    /// The action's parameters.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
}

/// A successful tool call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolResult {
    /// Always `true` (errors use the error envelope).
    pub ok: bool,
    /// The action that ran.
    pub action: String,
    /// Its result.
    #[schema(value_type = Object)]
    pub result: Value,
}

/// One action the caller may use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolAction {
    /// The action's name.
    pub name: String,
    /// Its action class (`read`, `create`, `update`, `delete`).
    pub class: String,
    /// What it does.
    pub description: String,
    /// Whether the caller's calls wait for a human's approval.
    pub approval_required: bool,
    /// JSON Schema of `params`.
    #[schema(value_type = Object)]
    pub params_schema: Value,
}

/// The actions available to the caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolList {
    /// The tool's name.
    pub tool: String,
    /// Actions the caller may use (those its maturity can never use are left out).
    pub actions: Vec<ToolAction>,
}

/// What an action does and the schema of its params (one arm per action: a new action does
/// not compile without them).
pub(crate) fn describe(action: Action) -> (&'static str, Value) {
    fn schema<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap_or(Value::Null)
    }
    match action {
        Action::Search => ("Search page and database titles", schema::<SearchInput>()),
        Action::SearchLocal => (
            "Full-text search of the local mirror (titles and content), ranked, with snippets; spends no Notion request",
            schema::<super::mirror::SearchLocalInput>(),
        ),
        Action::ListDatabases => (
            "List the databases the connection can see",
            schema::<ListInput>(),
        ),
        Action::QueryDatabase => (
            "Query a database's rows (flattened properties)",
            schema::<QueryParams>(),
        ),
        Action::GetSchema => (
            "A database's properties with types and options",
            schema::<SchemaParams>(),
        ),
        Action::GetPage => (
            "A page's properties and content as Markdown",
            schema::<PageParams>(),
        ),
        Action::GetBlocks => (
            "A page's blocks as Notion JSON, nested",
            schema::<PageParams>(),
        ),
        Action::GetPageMarkdown => ("A page's content as Markdown", schema::<PageParams>()),
        Action::ListComments => ("Comments on a page", schema::<ListCommentsParams>()),
        Action::ListViews => (
            "The views of a database or data source (name, type, whether filtered or sorted)",
            schema::<ViewsInput>(),
        ),
        Action::QueryView => (
            "A view's rows, filtered and sorted as the view is (flattened properties)",
            schema::<QueryViewParams>(),
        ),
        Action::CreatePage => (
            "Create a page (content in Markdown or blocks)",
            schema::<CreateParams>(),
        ),
        Action::AppendBlocks => (
            "Append Notion blocks to a page",
            schema::<AppendBlocksParams>(),
        ),
        Action::AppendMarkdown => (
            "Append Markdown to a page",
            schema::<AppendMarkdownParams>(),
        ),
        Action::AddComment => (
            "Comment on a page (`page_id`) or reply in a discussion (`discussion_id`)",
            schema::<CommentInput>(),
        ),
        Action::UploadFile => (
            "Upload a file (from an https URL, or base64 `content` up to 1 MiB) and attach it \
             to a page as a file, image, video, audio or PDF block, a files property, the icon \
             or the cover",
            schema::<UploadFileParams>(),
        ),
        Action::UpdateComment => ("Replace a comment's text", schema::<UpdateCommentParams>()),
        Action::DeleteComment => ("Delete a comment", schema::<DeleteCommentParams>()),
        Action::UpdatePage => (
            "Update a page's properties, icon or cover",
            schema::<UpdateParams>(),
        ),
        Action::TrashPage => ("Move a page to the trash", schema::<TrashParams>()),
        Action::GetApproval => (
            "Follow a call held for a human's approval (by its `approval_id`): its status, the \
             human's note, and once it ran, its result (for a created page: id and URL); with \
             `wait` (up to 60 s) it answers as soon as the approval is final",
            schema::<GetApprovalParams>(),
        ),
        Action::ListApprovals => (
            "Your calls held for approval, newest first (optionally by `status`)",
            schema::<ListApprovalsParams>(),
        ),
        Action::WithdrawApproval => (
            "Take back a held call of yours that nobody has decided yet; it will never run",
            schema::<WithdrawApprovalParams>(),
        ),
    }
}

/// Decodes params, naming the bad field as `params.<path>`. `filter`, `sorts`,
/// `properties` and `blocks` may be JSON strings.
fn params<T: DeserializeOwned>(raw: Option<Value>) -> Result<T, ApiError> {
    let mut v = raw.unwrap_or_else(|| json!({}));
    if let Some(m) = v.as_object_mut() {
        for key in ["filter", "sorts", "properties", "blocks"] {
            if let Some(Value::String(s)) = m.get(key) {
                let parsed: Value = serde_json::from_str(s).map_err(|_| {
                    ApiError::invalid_field(
                        &format!("params.{key}"),
                        format!("`{key}` is a string but not valid JSON"),
                    )
                })?;
                m.insert(key.to_owned(), parsed);
            }
        }
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "params".to_owned()
        } else {
            format!("params.{path}")
        };
        ApiError::invalid_field(&field, format!("invalid params: {}", e.into_inner()))
    })
}

fn to_value<T: Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(&e))
}

/// Runs one action for `caller` (the tool surface).
pub async fn run(
    gate: &Gate,
    caller: &Caller,
    action: Action,
    raw: Option<Value>,
) -> Result<Value, ApiError> {
    run_action(gate, caller, Surface::Tool, action, raw).await
}

/// Runs one action for `caller` on `surface` (the tool endpoint and the MCP server share
/// it): params decoded as for the tool endpoint, then the REST operation.
pub(crate) async fn run_action(
    gate: &Gate,
    caller: &Caller,
    surface: Surface,
    action: Action,
    raw: Option<Value>,
) -> Result<Value, ApiError> {
    let s = surface;
    let page_query = |p: &PageParams, format| PageQuery {
        format: Some(format),
        depth: p.depth,
        max_blocks: p.max_blocks,
    };
    match action {
        Action::Search => {
            to_value(notion::search(gate, caller, s, params::<SearchInput>(raw)?).await?)
        }
        Action::SearchLocal => {
            to_value(super::mirror::search_local(gate, caller, s, params(raw)?).await?)
        }
        Action::ListDatabases => {
            to_value(notion::list_databases(gate, caller, s, params::<ListInput>(raw)?).await?)
        }
        Action::QueryDatabase => {
            let p: QueryParams = params(raw)?;
            let input = QueryInput {
                filter: p.filter,
                sorts: p.sorts,
                cursor: p.cursor,
                limit: p.limit,
            };
            to_value(notion::query_database(gate, caller, s, &p.database_id, input, false).await?)
        }
        Action::GetSchema => {
            let p: SchemaParams = params(raw)?;
            to_value(notion::get_database(gate, caller, s, &p.database_id).await?)
        }
        Action::GetPage | Action::GetPageMarkdown | Action::GetBlocks => {
            let p: PageParams = params(raw)?;
            let format = if action == Action::GetBlocks {
                Format::Blocks
            } else {
                Format::Markdown
            };
            to_value(notion::get_page(gate, caller, s, &p.page_id, page_query(&p, format)).await?)
        }
        Action::ListComments => {
            let p: ListCommentsParams = params(raw)?;
            let input = ListInput {
                cursor: p.cursor,
                limit: p.limit,
            };
            to_value(notion::list_comments(gate, caller, s, &p.page_id, input).await?)
        }
        Action::CreatePage => {
            let p: CreateParams = params(raw)?;
            let parent = match (p.parent, p.database_id) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::invalid_field(
                        "params.database_id",
                        "give `parent` or `database_id`, not both",
                    ));
                }
                (Some(parent), None) => parent,
                (None, Some(db)) => ParentInput {
                    database_id: Some(db),
                    ..ParentInput::default()
                },
                (None, None) => {
                    return Err(ApiError::invalid_field(
                        "params.parent",
                        "give `parent` ({page_id}, {database_id} or {data_source_id}) or `database_id`",
                    ));
                }
            };
            let input = CreatePageInput {
                parent,
                properties: p.properties,
                title: p.title,
                markdown: p.markdown,
                blocks: p.blocks,
                icon: p.icon,
                cover: p.cover,
            };
            to_value(notion::create_page(gate, caller, s, input).await?)
        }
        Action::UpdatePage => {
            let p: UpdateParams = params(raw)?;
            let input = UpdatePageInput {
                properties: p.properties,
                icon: p.icon,
                cover: p.cover,
                in_trash: p.in_trash,
            };
            to_value(notion::update_page(gate, caller, s, &p.page_id, input).await?)
        }
        Action::TrashPage => {
            let p: TrashParams = params(raw)?;
            let input = UpdatePageInput {
                in_trash: Some(true),
                ..UpdatePageInput::default()
            };
            to_value(notion::update_page(gate, caller, s, &p.page_id, input).await?)
        }
        Action::AppendBlocks => {
            let p: AppendBlocksParams = params(raw)?;
            let input = AppendInput {
                markdown: None,
                blocks: Some(p.blocks),
                position: p.position,
            };
            to_value(notion::append_blocks(gate, caller, s, &p.page_id, input).await?)
        }
        Action::AppendMarkdown => {
            let p: AppendMarkdownParams = params(raw)?;
            let input = AppendInput {
                markdown: Some(p.markdown),
                blocks: None,
                position: p.position,
            };
            to_value(notion::append_blocks(gate, caller, s, &p.page_id, input).await?)
        }
        Action::AddComment => to_value(notion::add_comment(gate, caller, s, params(raw)?).await?),
        Action::UploadFile => {
            let p: UploadFileParams = params(raw)?;
            let input = UploadInput {
                url: p.url,
                content: p.content,
                filename: p.filename,
                content_type: p.content_type,
                attach_as: p.attach_as,
                property: p.property,
            };
            to_value(notion::upload_file(gate, caller, s, &p.page_id, input).await?)
        }
        Action::UpdateComment => {
            let p: UpdateCommentParams = params(raw)?;
            to_value(notion::update_comment(gate, caller, s, &p.comment_id, &p.text).await?)
        }
        Action::DeleteComment => {
            let p: DeleteCommentParams = params(raw)?;
            to_value(notion::delete_comment(gate, caller, s, &p.comment_id).await?)
        }
        Action::ListViews => to_value(notion::list_views(gate, caller, s, params(raw)?).await?),
        Action::QueryView => {
            let p: QueryViewParams = params(raw)?;
            let input = ViewQueryInput {
                cursor: p.cursor,
                limit: p.limit,
            };
            to_value(notion::query_view(gate, caller, s, &p.view_id, input, false).await?)
        }
        Action::GetApproval => {
            may_follow(gate, caller, action)?;
            let p: GetApprovalParams = params(raw)?;
            let wait = approvals::parse_wait(p.wait.map(Value::from).as_ref(), "params.wait")?;
            to_value(approvals::held_call(gate, caller, &p.approval_id, wait).await?)
        }
        Action::ListApprovals => {
            may_follow(gate, caller, action)?;
            let p: ListApprovalsParams = params(raw)?;
            list_approvals(gate, caller, p).await
        }
        Action::WithdrawApproval => {
            may_follow(gate, caller, action)?;
            let p: WithdrawApprovalParams = params(raw)?;
            let id: ApprovalId = p
                .approval_id
                .trim()
                .parse()
                .map_err(|_| ApiError::not_found("approval"))?;
            to_value(HeldCall::from(gate.withdraw(caller, id).await?))
        }
    }
}

/// Whether `caller` may follow its own held calls (`get_approval`, `list_approvals`,
/// `withdraw_approval`): where the policy lets it read. They send nothing to Notion and see
/// only the caller's own approvals (someone else's is `not_found`).
fn may_follow(gate: &Gate, caller: &Caller, action: Action) -> Result<(), ApiError> {
    let op = Operation::new(
        action.class(),
        action.name(),
        OperationScope::Data,
        Vec::new(),
    );
    if let Decision::Deny { reason, needed } = decide(gate.policy(), &caller.policy_caller(), &op) {
        return Err(GateError::Forbidden {
            code: Refusal::from(&reason),
            reason: reason.to_string(),
            needed,
        }
        .into());
    }
    Ok(())
}

/// `list_approvals`: the caller's own held calls, newest first.
async fn list_approvals(
    gate: &Gate,
    caller: &Caller,
    p: ListApprovalsParams,
) -> Result<Value, ApiError> {
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field(
            "params.limit",
            "expected a number from 1 to 100",
        ));
    }
    let status = approvals::parse_status(p.status.as_deref(), "params.status")?;
    let mut found = gate.approval_views(caller, status, limit + 1).await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let results: Vec<HeldCall> = found.into_iter().map(HeldCall::from).collect();
    Ok(json!({"results": to_value(results)?, "next_cursor": null, "has_more": has_more}))
}

/// The action named `name` (trimmed, ASCII case-insensitive), or a 400 listing them all.
pub(crate) fn parse_action(name: &str) -> Result<Action, ApiError> {
    Action::parse(name).ok_or_else(|| unknown_action(name))
}

fn unknown_action(action: &str) -> ApiError {
    let names: Vec<&str> = Action::all().map(Action::name).collect();
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!(
            "unknown action `{action}`; the actions are: {}",
            names.join(", ")
        ),
    )
    .detail("field", "action")
    .detail("actions", names)
}

/// The actions `caller` may use (those whose class the policy allows or puts under
/// approval), each with whether its calls wait for a human.
pub fn offered(gate: &Gate, caller: &Caller) -> Vec<(Action, bool)> {
    let policy_caller = caller.policy_caller();
    Action::all()
        .filter_map(|action| {
            let op = Operation::new(
                action.class(),
                action.name(),
                OperationScope::Data,
                Vec::new(),
            );
            let approval = match decide(gate.policy(), &policy_caller, &op) {
                Decision::Deny { .. } => return None,
                // Following one's own held calls is never held itself.
                Decision::NeedsApproval { .. } => !action.follows_approvals(),
                _ => false,
            };
            Some((action, approval))
        })
        .collect()
}

/// The actions `caller` may use, described with their params' schemas.
pub fn available(gate: &Gate, caller: &Caller) -> Vec<ToolAction> {
    offered(gate, caller)
        .into_iter()
        .map(|(action, approval_required)| {
            let (description, params_schema) = describe(action);
            ToolAction {
                name: action.name().to_owned(),
                class: action.class().as_str().to_owned(),
                description: description.to_owned(),
                approval_required,
                params_schema,
            }
        })
        .collect()
}

/// The actions the caller may use, with their params' JSON Schemas.
#[utoipa::path(get, path = "/api/v1/tools/notion", tag = "tools", security(("bearer" = [])),
    responses((status = 200, body = ToolList), (status = 401)))]
pub async fn list_handler(State(st): State<AppState>, Authed(caller): Authed) -> Json<ToolList> {
    Json(ToolList {
        tool: "notion".to_owned(),
        actions: available(&st.gate, &caller),
    })
}

/// Runs one action.
#[utoipa::path(post, path = "/api/v1/tools/notion", tag = "tools", security(("bearer" = [])),
    request_body = ToolCall,
    responses((status = 200, body = ToolResult), (status = 202, description = "Held for approval"),
              (status = 400, description = "Bad params, or an unknown action (`details.actions` lists them)"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn call_handler(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(call): ApiJson<ToolCall>,
) -> Result<Json<ToolResult>, ApiError> {
    let action = parse_action(&call.action)?;
    let result = run(&st.gate, &caller, action, call.params)
        .await
        .map_err(|e| e.detail("action", action.name()))?;
    Ok(Json(ToolResult {
        ok: true,
        action: action.name().to_owned(),
        result,
    }))
}

/// The tool routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ToolsApi::openapi()).routes(routes!(list_handler, call_handler))
}

/// The tool routes' shared schemas (the paths come from `routes()`).
#[derive(OpenApi)]
#[openapi()]
pub struct ToolsApi;

/// The actions as a Markdown table (`docs/tool-actions.md` is this, checked by a test).
pub fn actions_markdown() -> String {
    let mut out = String::from(
        "# The `notion` tool's actions\n\n\
         Generated from `gate_policy::ToolAction` (a test fails when this file differs; \
         regenerate with `UPDATE_DOCS=1 cargo test -p gate-server --lib tool_actions_doc`).\n\
         The same actions are the MCP server's tools; `GET /api/v1/tools/notion` lists those \
         the caller may use, with each one's params schema.\n\n\
         | action | class | read-only | destructive | idempotent | what it does |\n\
         |---|---|---|---|---|---|\n",
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    for action in Action::all() {
        let (description, _) = describe(action);
        let hints = action.hints();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            action.name(),
            action.class().as_str(),
            yes(hints.read_only),
            yes(hints.destructive),
            yes(hints.idempotent),
            description.replace('|', "\\|"),
        ));
    }
    out
}

#[cfg(test)]
mod tests;
