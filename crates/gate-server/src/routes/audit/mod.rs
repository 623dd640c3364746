//! The audit trail: `GET /api/v1/audit` (filters and cursor pagination, newest first) and
//! `GET /api/v1/audit/export` (every matching event as JSON lines, oldest first, streamed
//! page by page).
//!
//! A user sees their own calls and their agents'; an admin everything; an agent nothing
//! (403 `forbidden`). Filtering on someone else's agent answers 404, like any other id of
//! someone else's.

use std::str::FromStr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gate_core::{Caller, Gate};
use gate_store::{
    AgentId, AuditCursor, AuditEvent, AuditOrder, AuditQuery, ConnectionId, Outcome, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::agents::rfc3339;
use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// One recorded call.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Monotonic id.
    pub id: i64,
    /// When (RFC 3339).
    pub timestamp: String,
    /// The request id the caller was given.
    pub request_id: String,
    /// `agent`, `user`, `system` or `anonymous`.
    pub caller_kind: String,
    /// The user (an agent's owner).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    /// The agent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_id: Option<AgentId>,
    /// The connection used.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub connection_id: Option<ConnectionId>,
    /// `rest`, `tool`, `mcp`, `proxy` or `cli`.
    pub surface: String,
    /// `read`, `create`, `update`, `delete` or `schema`.
    pub action_class: Option<String>,
    /// The operation.
    pub operation: String,
    /// Notion ids the call targeted.
    pub target_ids: Vec<String>,
    /// `allow`, `deny` or `needs_approval`.
    pub decision: String,
    /// Why (a reason code).
    pub reason: Option<String>,
    /// `ok`, `error`, `denied`, `pending`, or `unknown`: a write whose process stopped
    /// between its intent and its record, which Notion could not decide at recovery (it may
    /// or may not have happened; `reason` says what is known).
    pub outcome: String,
    /// Notion's HTTP status.
    pub upstream_status: Option<u16>,
    /// Wall time in milliseconds.
    pub duration_ms: Option<u64>,
    /// Argument summary (ids, counts and sizes; never content or secrets).
    #[schema(value_type = Option<Object>)]
    pub args_summary: Option<Value>,
    /// On a write: the id of its intent (made durable before the write was sent).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub intent_id: Option<String>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        let r = e.record;
        Self {
            id: e.id.0,
            timestamp: rfc3339(r.call.at),
            request_id: r.call.request_id,
            caller_kind: r.call.caller_kind.to_string(),
            user_id: r.call.user_id,
            agent_id: r.call.agent_id,
            connection_id: r.call.connection_id,
            surface: r.call.surface.to_string(),
            action_class: r.call.action_class,
            operation: r.call.operation,
            target_ids: r.call.target_ids,
            decision: r.decision.to_string(),
            reason: r.reason,
            outcome: r.outcome.to_string(),
            upstream_status: r.upstream_status,
            duration_ms: r.duration_ms,
            args_summary: r.args_summary,
            intent_id: r.intent_id.map(|i| i.to_string()),
        }
    }
}

/// One page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// The events, newest first.
    pub results: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Whether there is a next page.
    pub has_more: bool,
}

/// Filters of the audit routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this agent's calls.
    pub agent_id: Option<String>,
    /// Only this user's calls (admins; a user always sees only their own).
    pub user_id: Option<String>,
    /// Only this action class (`read`, `create`, `update`, `delete`, `schema`).
    pub class: Option<String>,
    /// Only this outcome (`ok`, `error`, `denied`, `pending`, `unknown`).
    pub outcome: Option<String>,
    /// At or after this time (RFC 3339).
    pub since: Option<String>,
    /// Strictly before this time (RFC 3339).
    pub until: Option<String>,
    /// Continue from a previous page's `next_cursor` (not for the export).
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 100; not for the export).
    pub limit: Option<u32>,
}

fn parse_time(field: &str, v: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(v.trim(), &Rfc3339).map_err(|_| {
        ApiError::invalid_field(
            field,
            "expected an RFC 3339 time, e.g. 2026-01-31T12:00:00Z",
        )
    })
}

/// Builds the store query from the parameters, checking every id against the caller.
async fn build_query(
    gate: &Gate,
    caller: &Caller,
    p: &AuditParams,
) -> Result<AuditQuery, ApiError> {
    let mut q = AuditQuery::new();
    if let Some(a) = p.agent_id.as_deref() {
        let id: AgentId = super::agents::path_id(a, "agent")?;
        // Someone else's agent is "not found", as on every other path.
        gate.get_agent(caller, id).await?;
        q = q.agent(id);
    }
    if let Some(u) = p.user_id.as_deref() {
        let id: UserId = super::agents::path_id(u, "user")?;
        if !caller.is_admin() && id != caller.user_id {
            return Err(ApiError::not_found("user"));
        }
        q = q.user(id);
    }
    if let Some(c) = p.class.as_deref() {
        let c = c.trim().to_ascii_lowercase();
        if !matches!(
            c.as_str(),
            "read" | "create" | "update" | "delete" | "schema"
        ) {
            return Err(ApiError::invalid_field(
                "class",
                "expected read, create, update, delete or schema",
            ));
        }
        q = q.action_class(c);
    }
    if let Some(o) = p.outcome.as_deref() {
        let o = Outcome::from_str(&o.trim().to_ascii_lowercase()).map_err(|_| {
            ApiError::invalid_field("outcome", "expected ok, error, denied, pending or unknown")
        })?;
        q = q.outcome(o);
    }
    if let Some(s) = p.since.as_deref() {
        q = q.since(parse_time("since", s)?);
    }
    if let Some(u) = p.until.as_deref() {
        q = q.until(parse_time("until", u)?);
    }
    Ok(q)
}

fn bad_query() -> ApiError {
    ApiError::invalid_field("limit", "expected a number from 1 to 100")
}

/// One page of the audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "A page of events", body = AuditList),
              (status = 400, description = "A bad filter, cursor or limit"),
              (status = 403, description = "Agents cannot read the audit trail"),
              (status = 404, description = "The agent is not yours")))]
pub async fn query_audit(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditList>, ApiError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(bad_query());
    }
    let mut q = build_query(&state.gate, &caller, &p).await?.limit(limit);
    if let Some(c) = p.cursor.as_deref().filter(|c| !c.is_empty()) {
        let c = AuditCursor::from_str(c)
            .map_err(|_| ApiError::invalid_field("cursor", "not a cursor from a previous page"))?;
        q = q.cursor(Some(c));
    }
    let page = state.gate.query_audit(&caller, q).await?;
    Ok(Json(AuditList {
        has_more: page.next_cursor.is_some(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
        results: page.events.into_iter().map(AuditEventView::from).collect(),
    }))
}

fn lines(events: Vec<AuditEvent>) -> Bytes {
    let mut buf = Vec::with_capacity(events.len() * 400);
    for e in events {
        let id = e.id;
        match serde_json::to_writer(&mut buf, &AuditEventView::from(e)) {
            Ok(()) => buf.push(b'\n'),
            Err(err) => tracing::warn!(event = %id, error = %err, "audit event not exported"),
        }
    }
    Bytes::from(buf)
}

/// Page size of the export.
const EXPORT_PAGE: u32 = 500;

/// Every matching event as JSON lines (`application/x-ndjson`), oldest first, streamed.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 401, description = "Missing, unknown or revoked key"),(status = 200, description = "One JSON event per line", content_type = "application/x-ndjson", body = String),
              (status = 400, description = "A bad filter"),
              (status = 403, description = "Agents cannot read the audit trail"),
              (status = 404, description = "The agent is not yours")))]
pub async fn export_audit(
    State(state): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let q = build_query(&state.gate, &caller, &p)
        .await?
        .order(AuditOrder::OldestFirst)
        .limit(EXPORT_PAGE);
    // The first page is read before answering, so refusals are proper errors.
    let first = state.gate.query_audit(&caller, q.clone()).await?;
    let first_bytes = lines(first.events);
    let next = first.next_cursor.map(|c| q.clone().cursor(Some(c)));
    let gate = state.gate.clone();
    let rest = futures::stream::try_unfold(next, move |next| {
        let gate = gate.clone();
        let caller = caller.clone();
        async move {
            let Some(q) = next else {
                return Ok::<_, std::io::Error>(None);
            };
            let page = gate.query_audit(&caller, q.clone()).await.map_err(|e| {
                tracing::warn!(error = %e, "audit export stopped early");
                std::io::Error::other("audit export failed")
            })?;
            let next = page.next_cursor.map(|c| q.cursor(Some(c)));
            Ok(Some((lines(page.events), next)))
        }
    });
    let head = futures::stream::once(async move { Ok::<_, std::io::Error>(first_bytes) });
    let body = Body::from_stream(futures::StreamExt::chain(head, rest));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// The audit routes, each registered with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AuditApi::openapi())
        .routes(routes!(query_audit))
        .routes(routes!(export_audit))
}

/// The schemas of this module (its paths come from `routes()`).
#[derive(OpenApi)]
#[openapi(components(schemas(AuditEventView, AuditList)))]
pub struct AuditApi;

#[cfg(test)]
mod tests;
