//! The harness of the route tests: the real server on port 0 ([`spawn_gateway`], over the
//! Notion emulator, with an admin, two users and an agent of each maturity; [`spawn_app`],
//! the bare application with extra routes) and the clients the tests drive it with (MCP,
//! the console, the OAuth consent). The route tests beside each route (`routes/*/tests.rs`)
//! use it as `crate::test_support`; the cross-cutting tests in `tests/api/` include the same
//! files with `#[path]`, so both see one harness. It names this crate `gate_server`, which
//! the library aliases to itself under `cfg(test)`.
#![allow(dead_code, unused_imports)] // Each test module uses a different part of it.

#[cfg(test)]
mod app;
#[cfg(test)]
mod console;
#[cfg(test)]
mod gateway;
#[cfg(test)]
mod mcp;
#[cfg(test)]
mod mirror;
#[cfg(test)]
mod oauth;

pub use app::{TestApp, spawn_app, spawn_default};
pub use console::{Browser, ROOT, held_create};
pub use gateway::{
    Backend, CLIENT_ID, CLIENT_SECRET, Gateway, GatewayOpts, audit, me, spawn_gateway,
    spawn_gateway_with,
};
pub use mcp::{Client, http_client};
pub use mirror::{sync_now, synced};
pub use oauth::{consent, no_redirects};
