//! The notion-gate HTTP application (axum): the error envelope, the JSON extractor that names
//! the offending field, the tower layers (request id, tracing, body limit, timeout,
//! compression), health and readiness, Prometheus metrics, the OpenAPI document and the
//! vendored Swagger UI.
//!
//! [`Application::build`] binds a listener it is given (port 0 in tests) and exposes its port;
//! [`Application::run_until_stopped`] serves until a shutdown signal and then lets the caller
//! flush what it must (the audit) before returning.

pub mod api;
pub mod app;
pub mod auth;
pub mod auth_limit;
pub mod cors;
pub mod error;
pub mod extract;
mod gate_error;
pub mod mcp;
pub mod routes;
pub mod state;
pub mod transform;

// The route tests' harness names this crate as the cross-cutting tests in `tests/api/` do.
#[cfg(test)]
extern crate self as gate_server;
#[cfg(test)]
mod test_support;

pub use app::{Application, ReadyCheck, ServerOptions};
pub use auth::Authed;
pub use error::{ApiError, ErrorCode};
pub use extract::ApiJson;
pub use state::{AppState, ServerSettings};
