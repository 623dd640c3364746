//! The gateway's API: every `/api/v1` route, each registered once with its OpenAPI entry
//! (each resource module's `routes()`, utoipa-axum), and the document of all of them.

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Security scheme: the bearer key.
struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A gateway key: `ngu_…` (user) or `nga_…` (agent)"))
                    .build(),
            ),
        );
    }
}

/// The document's root: the security scheme and the tags.
#[derive(OpenApi)]
#[openapi(
    modifiers(&BearerKey),
    tags(
        (name = "notion", description = "Notion operations, governed"),
        (name = "tools", description = "The single notion tool for agent frameworks"),
        (name = "agents", description = "Agents and their keys"),
        (name = "users", description = "Users (admins)"),
        (name = "connections", description = "Notion connections"),
        (name = "approvals", description = "Calls held for a human"),
        (name = "audit", description = "The audit trail"),
    )
)]
pub struct RootApi;

/// Every `/api/v1` route that is registered with its OpenAPI entry (utoipa-axum), and the
/// document of them all: one registration gives both.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(RootApi::openapi())
        .merge(crate::routes::agents::routes())
        .merge(crate::routes::users::routes())
        .merge(crate::routes::connections::routes())
        .merge(crate::routes::oauth::routes())
        .merge(crate::routes::approvals::routes())
        .merge(crate::routes::audit::routes())
        .merge(crate::routes::notion::routes())
        .merge(crate::routes::tools::routes())
        .merge(crate::routes::mirror::routes())
        .split_for_parts()
}

/// Every API route, with its state.
pub fn router(state: AppState) -> Router {
    let console = gate_console::router(gate_console::ConsoleState::new(
        state.gate.clone(),
        state.settings.console(state.gate.oauth_configured()),
    ));
    Router::new()
        .merge(documented().0)
        .merge(crate::routes::proxy::router())
        .merge(crate::mcp::router(state.clone()))
        .merge(crate::routes::mcp_oauth::router())
        .merge(crate::routes::notion_webhooks::router())
        .with_state(state)
        .merge(console)
}

/// The database answers: the gateway is ready.
#[async_trait::async_trait]
impl crate::app::ReadyCheck for AppState {
    async fn ready(&self) -> Result<(), String> {
        self.gate
            .store()
            .list_users()
            .await
            .map(|_| ())
            .map_err(|_| "the database does not answer".to_owned())
    }
}

/// The complete application router: API routes, common routes and every layer.
pub fn app(state: AppState, options: &crate::app::ServerOptions) -> Router {
    let ready: std::sync::Arc<dyn crate::app::ReadyCheck> = std::sync::Arc::new(state.clone());
    crate::app::router(router(state), ready, options)
}

/// The whole OpenAPI document: common routes plus every API module.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = crate::routes::docs::document();
    doc.merge(documented().1);
    common_responses(&mut doc);
    notion_id_patterns(&mut doc);
    doc
}

/// Every `{id}` of a Notion route is a Notion ID: its schema gets the pattern the gateway
/// checks ([`notion_client::ids::ID_PATTERN`]), so that generated clients and fuzzers know it.
fn notion_id_patterns(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{RefOr, Schema};
    for (path, op) in operations_mut(doc) {
        if !path.starts_with("/api/v1/notion/") || !path.contains("{id}") {
            continue;
        }
        for param in op.parameters.iter_mut().flatten() {
            if param.name == "id"
                && matches!(param.parameter_in, ParameterIn::Path)
                && let Some(RefOr::T(Schema::Object(object))) = &mut param.schema
            {
                object.pattern = Some(notion_client::ids::ID_PATTERN.to_owned());
            }
        }
    }
}

/// Every operation of the document, with its path.
fn operations_mut(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&str, &mut utoipa::openapi::path::Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        let utoipa::openapi::PathItem {
            get,
            post,
            patch,
            put,
            delete,
            ..
        } = item;
        [get, post, patch, put, delete]
            .into_iter()
            .flatten()
            .map(move |op| (path.as_str(), op))
    })
}

/// Answers every `/api/v1` operation can give, declared once here rather than on each:
/// 400 (a malformed query string, path or body; `details.field` names it) and, on the
/// authenticated ones, 429 (too many failed authentications from the client's address, see
/// `auth_limit`, or Notion's limit outlasting the retry budget), both with `Retry-After` for 429.
fn common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::ResponseBuilder;
    for (path, op) in operations_mut(doc) {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let responses = &mut op.responses.responses;
        responses.entry("400".to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description("Malformed request (query string, path or body); `details.field` names the field")
                .into()
        });
        if path.starts_with("/api/v1/notion/") && !path.starts_with("/api/v1/notion/oauth/") {
            responses.entry("404".to_owned()).or_insert_with(|| {
                ResponseBuilder::new()
                    .description(
                        "`notion_not_found`: Notion has no such object (or it is not shared \
                         with the integration); `not_found`: the caller has no connection",
                    )
                    .into()
            });
        }
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            responses.entry("429".to_owned()).or_insert_with(|| {
                ResponseBuilder::new()
                    .description(
                        "Too many failed authentications from this address \
                         (`details.reason = too_many_failed_auth`), or Notion's rate limit; \
                         `Retry-After` says when to retry",
                    )
                    .into()
            });
        }
    }
}
