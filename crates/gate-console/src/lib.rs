//! The notion-gate web console: the screens of the people who govern agents. Sign in with a
//! user key, decide held calls in the approval inbox with the facts in view, manage agents,
//! connections and users, read and export the audit trail, and see the effective policy.
//!
//! Pages are rendered on the server ([`maud`]) and work without JavaScript: every state
//! change is a `<form method="post">` carrying a CSRF token bound to the session. The one
//! script is htmx (vendored, embedded, served from `/console/assets/` under a content hash)
//! plus a few lines of our own for copy buttons; it boosts links and forms into partial
//! updates and keeps the inbox and the audit tail live (a poll every 2 s). Responses carry a
//! strict Content-Security-Policy (no inline script or style), `X-Frame-Options: DENY` and
//! `Referrer-Policy: no-referrer`.
//!
//! The console calls the same [`gate_core::Gate`] operations as the REST API, with the same
//! authorization: a user sees only what the REST API would show them; an admin sees all.
//! Notion is read (for an approval's preview) through [`gate_core::Gate::call`] as the
//! approver, on the `console` surface: governed and audited like any other call.

mod assets;
mod config;
mod csrf;
mod error;
mod layout;
mod pages;
mod preview;
mod security;
mod session;
mod ui;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

pub use config::ConsoleConfig;
pub use error::ConsoleError;
pub use session::{SESSION_COOKIE, Signed};

/// Everything a console handler needs.
#[derive(Clone)]
pub struct ConsoleState {
    /// The governance path (and the admin operations).
    pub gate: gate_core::Gate,
    /// The console's settings.
    pub config: std::sync::Arc<ConsoleConfig>,
}

impl std::fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ConsoleState {
    /// State from a gate and settings.
    pub fn new(gate: gate_core::Gate, config: ConsoleConfig) -> Self {
        Self {
            gate,
            config: std::sync::Arc::new(config),
        }
    }
}

/// The page a browser gets while its address is blocked after too many failed sign-ins
/// (429; the caller sets `Retry-After`).
pub fn too_many_attempts(retry_after_secs: u64) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let minutes = retry_after_secs.div_ceil(60);
    let body = layout::bare(
        "Too many attempts",
        maud::html! {
            main class="card narrow" {
                h1 { "Too many attempts" }
                p class="lead" { "Too many sign-ins with a wrong key came from this address." }
                p class="muted" { "Try again in about " (minutes) " minute" @if minutes != 1 { "s" } "." }
            }
        },
    );
    (axum::http::StatusCode::TOO_MANY_REQUESTS, body).into_response()
}

/// The console's routes (`/`, `/console`, `/console/...`), with their security headers.
/// Mounted by `gate-server` next to the API.
pub fn router(state: ConsoleState) -> Router {
    use pages::{
        agents, approvals, audit, connections, login, mcp_consent, overview, policy, sessions,
        users,
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(overview::home))
        .route(
            "/console/",
            get(|| async { Redirect::permanent("/console") }),
        )
        .route("/console/login", get(login::form).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/overview", get(overview::page_handler))
        .route("/console/approvals", get(approvals::inbox))
        .route("/console/approvals/live", get(approvals::inbox_live))
        .route("/console/approvals/{id}", get(approvals::detail))
        .route("/console/approvals/{id}/approve", post(approvals::approve))
        .route("/console/approvals/{id}/deny", post(approvals::deny))
        .route("/console/agents", get(agents::list).post(agents::create))
        .route("/console/agents/{id}", get(agents::detail))
        .route("/console/agents/{id}/maturity", post(agents::set_maturity))
        .route("/console/agents/{id}/disable", post(agents::disable))
        .route("/console/agents/{id}/enable", post(agents::enable))
        .route("/console/agents/{id}/keys", post(agents::new_key))
        .route("/console/connections", get(connections::list))
        .route("/console/connections/token", post(connections::add_token))
        .route("/console/connections/oauth", post(connections::start_oauth))
        .route(
            "/console/connections/{id}/revoke",
            post(connections::revoke),
        )
        .route("/console/audit", get(audit::page_handler))
        .route("/console/audit/rows", get(audit::rows))
        .route("/console/audit/export", get(audit::export))
        .route("/console/policy", get(policy::page_handler))
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{id}/disable", post(users::disable))
        .route("/console/users/{id}/enable", post(users::enable))
        .route("/console/sessions", get(sessions::list))
        .route("/console/sessions/{id}/revoke", post(sessions::revoke))
        .route(
            gate_core::MCP_CONSENT_PATH,
            get(mcp_consent::page_handler).post(mcp_consent::decide),
        )
        .route("/console/assets/{name}", get(assets::serve))
        .route("/console/{*rest}", get(error::not_found))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}
