//! Calls held for a human: `GET /api/v1/approvals`, `GET /api/v1/approvals/{id}` (with an
//! optional `wait`), `POST /api/v1/approvals/{id}/approve`, `…/deny` (each with an optional
//! note for the requester) and `…/withdraw`.
//!
//! Users see and decide their own and their agents' approvals, admins all; agents see their
//! own (and their results) but decide nothing (403 `forbidden`); an agent withdraws its own
//! pending ones. Approving runs the stored request **exactly once**, even when two approvals
//! race (in this instance or another): the loser gets 409 `conflict` with the approval's
//! current status, never a second execution.
//!
//! Agents follow their held calls here, with the tool endpoint's and MCP's `get_approval`,
//! `list_approvals` and `withdraw_approval` ([`HeldCall`] is what those answer), or through
//! the proxy's `additional_data.status_url`.

use std::str::FromStr;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use gate_core::{Caller, Gate, GateError, MAX_APPROVAL_WAIT};
use gate_store::{
    AgentId, Approval, ApprovalFilter, ApprovalId, ApprovalStatus, ConnectionId, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::agents::{path_id, rfc3339};
use super::notion::compact_result;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::{AppState, ServerSettings};

/// Where approvals live in the REST API.
pub const APPROVALS_PATH: &str = "/api/v1/approvals";

/// The absolute URL of an approval (its status, and its result once it ran).
pub fn status_url(settings: &ServerSettings, id: ApprovalId) -> String {
    format!("{}{APPROVALS_PATH}/{id}", settings.public_url)
}

/// The statuses, as `status` filters and error messages spell them.
const STATUSES: &str = "pending, approved, executing, executed, failed, denied, expired, withdrawn";

/// The result of an executed approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResult {
    /// Notion's HTTP status, when the call reached Notion.
    pub status: Option<u16>,
    /// Notion's answer (or the gateway's error) as JSON.
    #[schema(value_type = Object)]
    pub body: Value,
    /// Notion's answer in the REST API's compact form (a created page's id, URL, title and
    /// flattened properties, …); absent when the run failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
}

/// A call held for approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ApprovalId,
    /// `pending`, `approved`, `executing`, `executed`, `failed`, `denied`, `expired` or
    /// `withdrawn`, as it stands now (a pending approval past its expiry is `expired`).
    #[schema(example = "pending")]
    pub status: String,
    /// `agent` or `user`.
    pub requester_kind: String,
    /// The requesting agent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_id: Option<AgentId>,
    /// The requesting user (an agent's owner).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub requester_user_id: Option<UserId>,
    /// The connection it will use.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub connection_id: Option<ConnectionId>,
    /// The operation (`pages.create`, …).
    pub operation: String,
    /// Its action class (`create`, `update`, …).
    pub action_class: String,
    /// Exactly the request that will run: method, path, query, body.
    #[schema(value_type = Object)]
    pub request: Value,
    /// SHA-256 of the stored request.
    pub request_hash: String,
    /// Requested (RFC 3339).
    pub created_at: String,
    /// After this it can no longer be approved (RFC 3339).
    pub expires_at: String,
    /// Who decided.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub decided_by: Option<UserId>,
    /// When it was decided or withdrawn (RFC 3339).
    pub decided_at: Option<String>,
    /// What the human who approved or denied it wrote for the requester.
    pub note: Option<String>,
    /// When the execution finished (RFC 3339).
    pub finished_at: Option<String>,
    /// The result, once executed (or failed).
    pub result: Option<ApprovalResult>,
}

fn json_or_text(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

impl From<Approval> for ApprovalView {
    fn from(a: Approval) -> Self {
        gate_core::ApprovalView::new(a).into()
    }
}

impl From<gate_core::ApprovalView> for ApprovalView {
    fn from(v: gate_core::ApprovalView) -> Self {
        let request = json_or_text(&v.approval.request.request_json);
        let result = match v.status {
            ApprovalStatus::Executed | ApprovalStatus::Failed => Some(ApprovalResult {
                status: v.approval.result_status,
                body: v.result.clone().or(v.error.clone()).unwrap_or(Value::Null),
                summary: v
                    .result
                    .as_ref()
                    .map(|r| compact_result(&v.approval.request.operation, &request, r)),
            }),
            _ => None,
        };
        let a = v.approval;
        Self {
            id: a.id,
            status: v.status.to_string(),
            requester_kind: a.request.requester_kind.to_string(),
            agent_id: a.request.agent_id,
            requester_user_id: a.request.requester_user_id,
            connection_id: a.request.connection_id,
            operation: a.request.operation,
            action_class: a.request.action_class,
            request,
            request_hash: a.request_hash,
            created_at: rfc3339(a.created_at),
            expires_at: rfc3339(a.expires_at),
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(rfc3339),
            note: v.note,
            finished_at: a.finished_at.map(rfc3339),
            result,
        }
    }
}

/// What an agent sees of one of its held calls: the answer of the tool endpoint's and MCP's
/// `get_approval`, `list_approvals` and `withdraw_approval`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldCall {
    /// The approval's id.
    #[schema(value_type = String, format = Uuid)]
    pub approval_id: ApprovalId,
    /// `pending`, `approved`, `executing`, `executed`, `failed`, `denied`, `expired` or
    /// `withdrawn`.
    pub status: String,
    /// Whether the status is final (nothing more will happen).
    pub done: bool,
    /// What the status means and what to do next.
    pub message: String,
    /// The operation held (`pages.create`, …).
    pub operation: String,
    /// Its action class.
    pub action_class: String,
    /// Requested (RFC 3339).
    pub created_at: String,
    /// After this nobody can approve it (RFC 3339).
    pub expires_at: String,
    /// When it was decided or withdrawn (RFC 3339).
    pub decided_at: Option<String>,
    /// When the run finished (RFC 3339).
    pub finished_at: Option<String>,
    /// What the human who approved or denied it wrote.
    pub note: Option<String>,
    /// Once executed: Notion's answer in compact form (for a created page: `id`, `url`, …).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Once failed: why (Notion's error, or the gateway's `{code, message}`).
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    /// Notion's HTTP status of the run.
    pub result_status: Option<u16>,
}

impl From<gate_core::ApprovalView> for HeldCall {
    fn from(v: gate_core::ApprovalView) -> Self {
        let message = match v.status {
            ApprovalStatus::Pending => {
                "waiting for a human's approval: call get_approval again (with `wait`, up to \
                 60 seconds) to follow it, or withdraw_approval to take it back; do not repeat \
                 the original call"
            }
            ApprovalStatus::Approved | ApprovalStatus::Executing => {
                "approved; the call is running now"
            }
            ApprovalStatus::Executed => "approved and run once; `result` is Notion's answer",
            ApprovalStatus::Failed => "approved, but the run failed; `error` says why",
            ApprovalStatus::Denied => {
                "denied by a human (see `note`); it will not run, and repeating the call would \
                 be denied again"
            }
            ApprovalStatus::Expired => "nobody decided in time; it will not run",
            ApprovalStatus::Withdrawn => "withdrawn by its requester; it will not run",
            _ => "",
        };
        let request = json_or_text(&v.approval.request.request_json);
        let result = v
            .result
            .as_ref()
            .map(|r| compact_result(&v.approval.request.operation, &request, r));
        let a = v.approval;
        Self {
            approval_id: a.id,
            status: v.status.to_string(),
            done: v.status.is_final(),
            message: message.to_owned(),
            operation: a.request.operation,
            action_class: a.request.action_class,
            created_at: rfc3339(a.created_at),
            expires_at: rfc3339(a.expires_at),
            decided_at: a.decided_at.map(rfc3339),
            finished_at: a.finished_at.map(rfc3339),
            note: v.note,
            result,
            error: v.error,
            result_status: a.result_status,
        }
    }
}

/// Parses a `status` filter (`all` → none).
pub(crate) fn parse_status(
    raw: Option<&str>,
    field: &str,
) -> Result<Option<ApprovalStatus>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("all") => Ok(None),
        Some(s) => ApprovalStatus::from_str(&s.to_ascii_lowercase())
            .map(Some)
            .map_err(|_| ApiError::invalid_field(field, format!("expected {STATUSES} or all"))),
    }
}

/// A wait in seconds (0–60), or a 400 naming `field`.
pub(crate) fn parse_wait(raw: Option<&Value>, field: &str) -> Result<Duration, ApiError> {
    let max = MAX_APPROVAL_WAIT.as_secs();
    let bad = || {
        ApiError::invalid_field(
            field,
            format!("expected a number of seconds from 0 to {max}"),
        )
    };
    let secs = match raw {
        None | Some(Value::Null) => return Ok(Duration::ZERO),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
    };
    if !secs.is_finite() || !(0.0..=max as f64).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// One held call of the caller's, after waiting up to `wait` for it to be final.
pub(crate) async fn held_call(
    gate: &Gate,
    caller: &Caller,
    id: &str,
    wait: Duration,
) -> Result<HeldCall, ApiError> {
    let id: ApprovalId = id
        .trim()
        .parse()
        .map_err(|_| ApiError::not_found("approval"))?;
    Ok(gate.wait_approval(caller, id, wait).await?.into())
}

/// A list of approvals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalList {
    /// The approvals, newest first.
    pub results: Vec<ApprovalView>,
    /// Always `null`: at most `limit` are returned.
    pub next_cursor: Option<String>,
    /// Whether more may exist beyond `limit`.
    pub has_more: bool,
}

/// Query of `GET /approvals`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalsQuery {
    /// `pending` (default), another status (`approved`, `executing`, `executed`, `failed`,
    /// `denied`, `expired`, `withdrawn`), or `all`.
    pub status: Option<String>,
    /// At most this many (1–100, default 100), newest first.
    pub limit: Option<u32>,
}

/// Approvals the caller may see (pending ones unless `status` says otherwise).
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", security(("bearer" = [])),
    params(ApprovalsQuery),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The approvals", body = ApprovalList),
              (status = 400, description = "Unknown status or bad limit")))]
pub async fn list_approvals(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(q): ApiQuery<ApprovalsQuery>,
) -> Result<Json<ApprovalList>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            "expected a number from 1 to 100",
        ));
    }
    let mut filter = ApprovalFilter::new().limit(limit + 1);
    match q.status.as_deref().map(str::trim) {
        None | Some("") => filter = filter.status(ApprovalStatus::Pending),
        other => {
            if let Some(status) = parse_status(other, "status")? {
                filter = filter.status(status);
            }
        }
    }
    let mut found = state.gate.list_approvals(&caller, filter).await?;
    let has_more = found.len() > limit as usize;
    found.truncate(limit as usize);
    Ok(Json(ApprovalList {
        results: found.into_iter().map(ApprovalView::from).collect(),
        next_cursor: None,
        has_more,
    }))
}

/// Query of `GET /approvals/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds (0–60) to wait for the approval to become final (`executed`, `failed`,
    /// `denied`, `expired` or `withdrawn`): the answer comes as soon as it is, or at the end
    /// of the wait with the approval as it stands. Default 0: at once.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 60)]
    pub wait: Option<String>,
}

/// One approval, with its status, the decider's note and its result once it ran (for its
/// requester, their owner, or an admin); with `wait`, as soon as it is final.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid), WaitQuery),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The approval", body = ApprovalView),
              (status = 400, description = "Malformed request; `wait` is not a number of seconds from 0 to 60 (`details.field` names it)"),
              (status = 404, description = "No such approval of yours"),
              (status = 429, description = "This key already holds the most waits it may (`details.reason = too_many_waits`), or too many failed authentications from this address (`details.reason = too_many_failed_auth`); `Retry-After` says when to retry")))]
pub async fn get_approval(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<ApprovalView>, ApiError> {
    let wait = parse_wait(q.wait.map(Value::String).as_ref(), "wait")?;
    let id: ApprovalId = path_id(&id, "approval")?;
    Ok(Json(
        state.gate.wait_approval(&caller, id, wait).await?.into(),
    ))
}

/// The optional body of approve and deny.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// A note for the requester (at most 2000 characters): why it was denied, or what to
    /// know about the approved call. The agent reads it with the approval.
    pub note: Option<String>,
}

/// The decision body: none, an empty body, `null`, or `{"note": …}`.
fn decision_body(bytes: &[u8]) -> Result<DecisionBody, ApiError> {
    if bytes.trim_ascii().is_empty() || bytes.trim_ascii() == b"null" {
        return Ok(DecisionBody::default());
    }
    crate::extract::parse(bytes)
}

/// A human's decision on a held call.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Approve,
    Deny,
}

/// Approves (and runs, exactly once) or denies approval `id` with the body's note; a conflict
/// says the approval's current status.
async fn decide(
    state: &AppState,
    caller: &gate_core::Caller,
    id: &str,
    body: &[u8],
    verdict: Verdict,
) -> Result<Json<ApprovalView>, ApiError> {
    let id: ApprovalId = path_id(id, "approval")?;
    let note = decision_body(body)?.note;
    let decided = match verdict {
        Verdict::Approve => state.gate.approve(caller, id, note.as_deref()).await,
        Verdict::Deny => state.gate.deny(caller, id, note.as_deref()).await,
    };
    match decided {
        Ok(a) => Ok(Json(a.into())),
        Err(GateError::Conflict { what }) => Err(conflict(state, caller, id, what).await),
        Err(e) => Err(e.into()),
    }
}

/// A conflict, with the approval's current status when the caller may see it.
async fn conflict(
    state: &AppState,
    caller: &gate_core::Caller,
    id: ApprovalId,
    what: String,
) -> ApiError {
    let mut err = ApiError::from(GateError::Conflict { what });
    if let Ok(a) = state.gate.approval_result(caller, id).await {
        err = err.detail("status", a.status.as_str());
    }
    err
}

/// Approves and runs the held call (exactly once); answers the approval with its result.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid)),
    request_body(content = Option<DecisionBody>, description = "Optional: a note for the requester", content_type = "application/json"),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Approved and run; the result is in `result`", body = ApprovalView),
              (status = 403, description = "Agents cannot approve; or local-only mode"),
              (status = 404, description = "No such approval of yours"),
              (status = 409, description = "Already decided, running, or expired; `details.status` says which")))]
pub async fn approve(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ApprovalView>, ApiError> {
    decide(&state, &caller, &id, &body, Verdict::Approve).await
}

/// Denies the held call; it will never run.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/deny", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid)),
    request_body(content = Option<DecisionBody>, description = "Optional: why, for the requester", content_type = "application/json"),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Denied", body = ApprovalView),
              (status = 403, description = "Agents cannot deny"),
              (status = 404, description = "No such approval of yours"),
              (status = 409, description = "Already decided or expired; `details.status` says which")))]
pub async fn deny(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ApprovalView>, ApiError> {
    decide(&state, &caller, &id, &body, Verdict::Deny).await
}

/// Withdraws the caller's own pending approval: the held call will never run.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/withdraw", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Withdrawn", body = ApprovalView),
              (status = 403, description = "Not the requester (the agent's owner denies instead)"),
              (status = 404, description = "No such approval of yours"),
              (status = 409, description = "No longer pending; `details.status` says what it is")))]
pub async fn withdraw(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id: ApprovalId = path_id(&id, "approval")?;
    match state.gate.withdraw(&caller, id).await {
        Ok(v) => Ok(Json(v.into())),
        Err(GateError::Conflict { what }) => Err(conflict(&state, &caller, id, what).await),
        Err(e) => Err(e.into()),
    }
}

/// The approval routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApprovalsApi::openapi())
        .routes(routes!(list_approvals))
        .routes(routes!(get_approval))
        .routes(routes!(approve))
        .routes(routes!(deny))
        .routes(routes!(withdraw))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(
    ApprovalView,
    ApprovalResult,
    ApprovalList,
    DecisionBody,
    HeldCall
)))]
pub struct ApprovalsApi;

#[cfg(test)]
mod tests;
