//! Calls held for a human: `GET /api/v1/approvals`, `GET /api/v1/approvals/{id}`,
//! `POST /api/v1/approvals/{id}/approve` and `POST /api/v1/approvals/{id}/deny`.
//!
//! Users see and decide their own and their agents' approvals, admins all; agents see their
//! own (and their results) but decide nothing (403 `forbidden`). Approving runs the stored
//! request **exactly once**, even when two approvals race (in this instance or another): the
//! loser gets 409 `conflict` with the approval's current status, never a second execution.

use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use gate_core::GateError;
use gate_store::{
    AgentId, Approval, ApprovalFilter, ApprovalId, ApprovalStatus, ConnectionId, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::agents::{path_id, rfc3339};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;

/// The result of an executed approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResult {
    /// Notion's HTTP status, when the call reached Notion.
    pub status: Option<u16>,
    /// Notion's answer (or the gateway's error) as JSON.
    #[schema(value_type = Object)]
    pub body: Value,
}

/// A call held for approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: ApprovalId,
    /// `pending`, `approved`, `denied`, `expired`, `executing`, `executed` or `failed`.
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
    /// When (RFC 3339).
    pub decided_at: Option<String>,
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
        let result = match a.status {
            ApprovalStatus::Executed | ApprovalStatus::Failed => Some(ApprovalResult {
                status: a.result_status,
                body: a.result_json.as_deref().map_or(Value::Null, json_or_text),
            }),
            _ => None,
        };
        Self {
            id: a.id,
            status: a.status.to_string(),
            requester_kind: a.requester_kind.to_string(),
            agent_id: a.agent_id,
            requester_user_id: a.requester_user_id,
            connection_id: a.connection_id,
            operation: a.operation,
            action_class: a.action_class,
            request: json_or_text(&a.request_json),
            request_hash: a.request_hash,
            created_at: rfc3339(a.created_at),
            expires_at: rfc3339(a.expires_at),
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(rfc3339),
            finished_at: a.finished_at.map(rfc3339),
            result,
        }
    }
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
    /// `pending` (default), another status, or `all`.
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
    query: Result<Query<ApprovalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ApprovalList>, ApiError> {
    let Query(q) =
        query.map_err(|_| ApiError::invalid_field("limit", "expected a number from 1 to 100"))?;
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
        Some(s) if s.eq_ignore_ascii_case("all") => {}
        Some(s) => {
            let status = ApprovalStatus::from_str(&s.to_ascii_lowercase()).map_err(|_| {
                ApiError::invalid_field(
                    "status",
                    "expected pending, approved, denied, expired, executing, executed, failed or all",
                )
            })?;
            filter = filter.status(status);
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

/// One approval, with its result once it ran (for its requester, their owner, or an admin).
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "The approval", body = ApprovalView),
              (status = 404, description = "No such approval of yours")))]
pub async fn get_approval(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id: ApprovalId = path_id(&id, "approval")?;
    Ok(Json(state.gate.approval_result(&caller, id).await?.into()))
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
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Approved and run; the result is in `result`", body = ApprovalView),
              (status = 403, description = "Agents cannot approve; or local-only mode"),
              (status = 404, description = "No such approval of yours"),
              (status = 409, description = "Already decided, running, or expired; `details.status` says which")))]
pub async fn approve(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id: ApprovalId = path_id(&id, "approval")?;
    match state.gate.approve(&caller, id).await {
        Ok(a) => Ok(Json(a.into())),
        Err(GateError::Conflict { what }) => Err(conflict(&state, &caller, id, what).await),
        Err(e) => Err(e.into()),
    }
}

/// Denies the held call; it will never run.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/deny", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path, description = "Approval id", format = Uuid)),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "Denied", body = ApprovalView),
              (status = 403, description = "Agents cannot deny"),
              (status = 404, description = "No such approval of yours"),
              (status = 409, description = "Already decided or expired; `details.status` says which")))]
pub async fn deny(
    State(state): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let id: ApprovalId = path_id(&id, "approval")?;
    match state.gate.deny(&caller, id).await {
        Ok(a) => Ok(Json(a.into())),
        Err(GateError::Conflict { what }) => Err(conflict(&state, &caller, id, what).await),
        Err(e) => Err(e.into()),
    }
}

/// The approval routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/approvals", get(list_approvals))
        .route("/api/v1/approvals/{id}", get(get_approval))
        .route("/api/v1/approvals/{id}/approve", post(approve))
        .route("/api/v1/approvals/{id}/deny", post(deny))
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(list_approvals, get_approval, approve, deny),
    components(schemas(ApprovalView, ApprovalResult, ApprovalList))
)]
pub struct ApprovalsApi;
