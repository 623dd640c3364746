//! [`GateMcp`], the rmcp `ServerHandler`: it finds the caller (the stdio key, authenticated
//! again on each request through the gate's cache, or the caller the `/mcp` route's bearer
//! check put in the HTTP request), lists the caller's tools ([`super::catalog`]) and runs a
//! call through the tool endpoint's shared action function on the `mcp` surface, mapping the
//! answer with [`super::results`]. It decides nothing itself: the policy, approvals, the
//! local-only guard and the audit record all happen in `Gate::call`.

use std::sync::Arc;

use gate_core::{Caller, GateError, Surface};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{INSTRUCTIONS, SERVER_NAME, catalog, results};
use crate::error::ApiError;
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

impl ServerHandler for GateMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
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
        let action = request.name.as_ref();
        if !catalog::is_action(action) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{action}`; list the tools with tools/list"),
                None,
            ));
        }
        let caller = match self.caller(&context).await {
            Ok(caller) => caller,
            Err(e) => return Ok(results::tool_error(&e).into()),
        };
        let mut args = request.arguments.clone().map(Value::Object);
        let cursor = results::take_markdown_cursor(action, &mut args);
        let answer = run_action(&self.state.gate, &caller, Surface::Mcp, action, args).await;
        let result = match answer {
            Ok(value) => results::success(action, value, cursor.as_ref()),
            Err(e) => results::tool_error(&e.detail("action", action.to_owned())),
        };
        Ok(result.into())
    }
}
