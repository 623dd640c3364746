//! The MCP server: one MCP tool per action of the tool endpoint (`routes::tools`), over two
//! transports.
//!
//! - **stdio** ([`serve_stdio`], what `notion-gate mcp` runs): the agent key is authenticated
//!   once at start, so a wrong key fails at once with [`McpServeError::Unauthenticated`]; it
//!   is authenticated again (through the gate's key cache) on every request, so a revoked key,
//!   a disabled agent or a changed maturity takes effect within the cache's TTL.
//! - **streamable HTTP at `/mcp`** ([`router`]): stateless (no MCP session to pin, so any
//!   instance can answer), JSON answers, the agent key as `Authorization: Bearer` on every
//!   request; a missing or unknown key is a 401 in the gateway's error envelope.
//!
//! Governance stays out of rmcp's types: [`server`] is the thin `ServerHandler`, and the
//! adapter modules map rmcp requests to the shared action functions
//! (`routes::tools::run_action` on the `mcp` surface, so every call goes through
//! `Gate::call` with its policy decision and exactly one audit record) and their answers back:
//!
//! - [`catalog`]: the tool list, filtered by the caller's maturity like the tool endpoint's
//!   action list, with the same JSON Schemas and MCP annotations;
//! - [`results`]: results as compact JSON (Markdown for page reads, with a continuation
//!   cursor past a cap), and every refusal (policy, local-only, approval, rate limit, bad
//!   params, Notion errors) as a tool error (`isError: true`) whose content is
//!   `{"error": code, "message", "needed"?, "retry_after_seconds"?, "approval_id"?, …}`.

pub mod catalog;
mod http;
pub mod results;
pub mod server;
mod stdio;
pub mod tasks;

pub use http::router;
pub use server::GateMcp;
pub use stdio::{serve_io, serve_stdio};

/// The server's name in MCP's `serverInfo`.
pub const SERVER_NAME: &str = "notion-gate";

/// What the server tells the client (and its model) about the tools and their governance.
pub const INSTRUCTIONS: &str = "\
notion-gate gives governed access to one Notion workspace. Every tool is one action: read \
tools (search, list_databases, query_database, get_schema, get_page, get_page_markdown, \
get_blocks, list_comments, list_views, query_view, and search_local: full-text search of the \
gateway's local mirror, ranked with snippets) and, depending on this agent's maturity, \
write tools (create_page, append_markdown, append_blocks, add_comment, update_comment, \
update_page, trash_page, delete_comment), plus \
get_approval, list_approvals and withdraw_approval for calls held for a human's approval. Only \
the tools this agent may use are listed.

Results are compact: page content is Markdown and properties are flattened to simple values. \
Lists and long pages stop at a cap and give a `next_cursor`; pass it back as `cursor` to \
continue.

Every call is checked by the gateway's policy and audited. A refused call returns a tool error \
whose text is JSON: {\"error\": code, \"message\": ...}. `forbidden_by_policy` names the \
maturity `needed`; `approval_required` means a human must approve the call first (it gives an \
`approval_id`; do not repeat the call, the approved call runs once): follow it with \
get_approval (pass `wait`, up to 60 seconds, to get the outcome as soon as a human decides: \
the result, such as the new page's id and URL, or the denial with the human's note), list your \
held calls with list_approvals, or take one back with withdraw_approval; `rate_limited` gives \
`retry_after_seconds`; `local_only` means cloud calls are switched off; `invalid_request` \
names the `field` at fault. Notion IDs may be given with or without dashes.";

/// Why the MCP server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpServeError {
    /// The key is missing, unknown or revoked.
    #[error(
        "the agent key was refused (missing, unknown or revoked): set NOTION_GATE_AGENT_KEY to a \
         key issued for the agent (`nga_…`)"
    )]
    Unauthenticated,
    /// Authenticating the key failed for another reason (the database did not answer, …).
    #[error("the agent key could not be checked: {0}")]
    Auth(#[source] gate_core::GateError),
    /// The MCP handshake failed (the client closed the stream, sent something else, …).
    #[error("the MCP session could not start: {0}")]
    Start(String),
    /// The server task failed.
    #[error("the MCP server stopped unexpectedly: {0}")]
    Stopped(String),
}

#[cfg(test)]
mod tests;
