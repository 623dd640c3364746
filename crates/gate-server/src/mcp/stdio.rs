//! MCP over stdio (what `notion-gate mcp` runs): [`serve_stdio`] on the process's standard
//! streams, [`serve_io`] on any pair of byte streams (the same path, used by the tests over
//! an in-memory pipe). Nothing but MCP messages may be written to stdout: logs go to stderr.

use gate_core::GateError;
use rmcp::ServiceExt as _;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};

use super::McpServeError;
use super::server::GateMcp;
use crate::state::AppState;

/// Serves MCP on stdin/stdout as the holder of `agent_key` until the client closes the
/// stream.
///
/// The key is authenticated first: a missing, unknown or revoked key fails at once with
/// [`McpServeError::Unauthenticated`] and a message that says what to set. Afterwards every
/// request authenticates it again (cached) and every call is decided by the policy.
pub async fn serve_stdio(state: AppState, agent_key: SecretString) -> Result<(), McpServeError> {
    let (stdin, stdout) = rmcp::transport::io::stdio();
    serve_io(state, agent_key, stdin, stdout).await
}

/// Serves MCP on `reader`/`writer` (newline-delimited JSON-RPC) as the holder of
/// `agent_key` until the client closes the stream; see [`serve_stdio`].
pub async fn serve_io<R, W>(
    state: AppState,
    agent_key: SecretString,
    reader: R,
    writer: W,
) -> Result<(), McpServeError>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let caller = state
        .gate
        .authenticate(agent_key.expose_secret())
        .await
        .map_err(|e| match e {
            GateError::Unauthenticated => McpServeError::Unauthenticated,
            other => McpServeError::Auth(other),
        })?;
    tracing::info!(
        caller = %caller.name,
        maturity = ?caller.maturity,
        "MCP server on stdio"
    );
    let running = GateMcp::with_key(state, agent_key)
        .serve((reader, writer))
        .await
        .map_err(|e| McpServeError::Start(e.to_string()))?;
    let reason = running
        .waiting()
        .await
        .map_err(|e| McpServeError::Stopped(e.to_string()))?;
    tracing::info!(?reason, "MCP server on stdio stopped");
    Ok(())
}
