//! [`GateMcp`], the rmcp `ServerHandler`: it finds the caller (the stdio key, authenticated
//! again on each request through the gate's cache, or the caller the `/mcp` route's bearer
//! check put in the HTTP request), lists the caller's tools ([`super::catalog`]) and runs a
//! call through the tool endpoint's shared action function on the `mcp` surface, mapping the
//! answer with [`super::results`]. It decides nothing itself: the policy, approvals, the
//! local-only guard and the audit record all happen in `Gate::call`.

use std::sync::Arc;

use gate_core::{Caller, GateError, MAX_APPROVAL_WAIT, Surface};
use gate_store::ApprovalId;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, GetTaskParams, GetTaskResult,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    ServerNotification, TaskStatusNotification, TaskStatusNotificationParams,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{INSTRUCTIONS, SERVER_NAME, catalog, results, tasks};
use crate::error::{ApiError, ErrorCode};
use crate::routes::tools::run_action;
use crate::state::AppState;

/// Where the caller of a request comes from.
#[derive(Clone)]
enum CallerSource {
    /// A key given at start (stdio).
    Key(Arc<SecretString>),
    /// The caller the HTTP route authenticated for this request.
    Http,
}

/// The MCP server of one connection (stdio) or one HTTP request (`/mcp`).
#[derive(Clone)]
pub struct GateMcp {
    state: AppState,
    source: CallerSource,
}

impl std::fmt::Debug for GateMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match self.source {
            CallerSource::Key(_) => "key",
            CallerSource::Http => "http",
        };
        f.debug_struct("GateMcp")
            .field("source", &source)
            .finish_non_exhaustive()
    }
}

impl GateMcp {
    /// A server whose every request acts as the holder of `key` (authenticated per request).
    pub fn with_key(state: AppState, key: SecretString) -> Self {
        Self {
            state,
            source: CallerSource::Key(Arc::new(key)),
        }
    }

    /// A server for the `/mcp` route: the caller is the one its bearer check authenticated.
    pub(crate) fn for_http(state: AppState) -> Self {
        Self {
            state,
            source: CallerSource::Http,
        }
    }

    /// The caller of this request.
    async fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, ApiError> {
        match &self.source {
            CallerSource::Key(key) => Ok(self.state.gate.authenticate(key.expose_secret()).await?),
            CallerSource::Http => context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Caller>())
                .cloned()
                .ok_or_else(|| ApiError::from(GateError::Unauthenticated)),
        }
    }
}

impl GateMcp {
    /// The caller of a `tasks/*` request, as a protocol error when it cannot be found.
    async fn task_caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        self.caller(context).await.map_err(|e| {
            ErrorData::invalid_request(e.message.clone(), Some(results::error_json(&e)))
        })
    }

    /// The caller's approval a task id names; someone else's is as unknown as a made-up id.
    async fn task_view(
        &self,
        caller: &Caller,
        task_id: &str,
    ) -> Result<gate_core::ApprovalView, ErrorData> {
        let unknown = || ErrorData::invalid_params(format!("unknown task `{task_id}`"), None);
        let id: ApprovalId = task_id.trim().parse().map_err(|_| unknown())?;
        match self.state.gate.approval_view(caller, id).await {
            Ok(v) => Ok(v),
            Err(GateError::NotFound { .. }) => Err(unknown()),
            Err(e) => Err(ErrorData::internal_error(ApiError::from(e).message, None)),
        }
    }

    /// A held call as a task, for a client that declared task support; `None` for any other
    /// answer (which stays a tool error).
    async fn held_as_task(
        &self,
        caller: &Caller,
        err: &ApiError,
        peer: &Peer<RoleServer>,
    ) -> Option<CallToolResponse> {
        if err.code != ErrorCode::ApprovalRequired {
            return None;
        }
        let id: ApprovalId = err.details.get("approval_id")?.as_str()?.parse().ok()?;
        let view = self.state.gate.approval_view(caller, id).await.ok()?;
        if matches!(self.source, CallerSource::Key(_)) {
            self.notify_when_final(caller.clone(), id, peer.clone());
        }
        Some(CallToolResponse::Task(tasks::created(&view)))
    }

    /// Over stdio (one long-lived session), sends `notifications/tasks` once the approval is
    /// final. The stateless HTTP transport has no channel for it; its clients poll.
    fn notify_when_final(&self, caller: Caller, id: ApprovalId, peer: Peer<RoleServer>) {
        let gate = self.state.gate.clone();
        tokio::spawn(async move {
            loop {
                let view = match gate.wait_approval(&caller, id, MAX_APPROVAL_WAIT).await {
                    Ok(v) => v,
                    Err(GateError::TooManyWaits { .. }) => {
                        // The agent's own waits come first; look again later.
                        tokio::time::sleep(MAX_APPROVAL_WAIT / 4).await;
                        continue;
                    }
                    Err(_) => return,
                };
                if view.is_final() {
                    let params = TaskStatusNotificationParams::new(tasks::detailed(&view));
                    let note = ServerNotification::TaskStatusNotification(
                        TaskStatusNotification::new(params),
                    );
                    let _ = peer.send_notification(note).await;
                    return;
                }
                if peer.is_transport_closed() {
                    return;
                }
            }
        });
    }
}

impl ServerHandler for GateMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tasks()
                .build(),
        )
        .with_server_info(
            Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION"))
                .with_title("notion-gate")
                .with_description("Governed access to a Notion workspace"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context).await.map_err(|e| {
            ErrorData::invalid_request(e.message.clone(), Some(results::error_json(&e)))
        })?;
        Ok(ListToolsResult::with_all_items(catalog::tools_for(
            &self.state.gate,
            &caller,
        )))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(action) = catalog::action(request.name.as_ref()) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{}`; list the tools with tools/list",
                    request.name
                ),
                None,
            ));
        };
        let caller = match self.caller(&context).await {
            Ok(caller) => caller,
            Err(e) => return Ok(results::tool_error(&e).into()),
        };
        let mut args = request.arguments.clone().map(Value::Object);
        let cursor = results::take_markdown_cursor(action, &mut args);
        let answer = run_action(&self.state.gate, &caller, Surface::Mcp, action, args).await;
        let result = match answer {
            Ok(value) => results::success(action, value, cursor.as_ref()),
            Err(e) => {
                let tasks_declared = context
                    .client_capabilities()
                    .is_some_and(|c| c.supports_tasks());
                if tasks_declared
                    && let Some(task) = self.held_as_task(&caller, &e, &context.peer).await
                {
                    return Ok(task);
                }
                results::tool_error(&e.detail("action", action.name()))
            }
        };
        Ok(result.into())
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let caller = self.task_caller(&context).await?;
        let view = self.task_view(&caller, &request.task_id).await?;
        Ok(GetTaskResult::new(tasks::detailed(&view)))
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let caller = self.task_caller(&context).await?;
        let view = self.task_view(&caller, &request.task_id).await?;
        match self.state.gate.withdraw(&caller, view.id()).await {
            Ok(_) => Ok(()),
            Err(GateError::Conflict { .. }) => {
                // Cancelling a task that already ended (or runs now) changes nothing.
                let now = self.task_view(&caller, &request.task_id).await?;
                if now.status == gate_store::ApprovalStatus::Withdrawn {
                    Ok(())
                } else {
                    Err(ErrorData::invalid_params(
                        format!(
                            "task `{}` can no longer be cancelled: its approval is {}",
                            request.task_id, now.status
                        ),
                        None,
                    ))
                }
            }
            Err(e) => Err(ErrorData::internal_error(ApiError::from(e).message, None)),
        }
    }
}
