//! `notion-gate mcp`: an MCP server on stdin/stdout for one agent (its key from
//! `NOTION_GATE_AGENT_KEY` or `--agent-key`), over the same database and policy as the HTTP
//! server. Every tool call goes through the gate (policy decision, one audit record). Only MCP
//! messages go to stdout; logs go to stderr.

use anyhow::{Result, anyhow};
use gate_server::{AppState, ServerSettings};
use secrecy::SecretString;

use crate::config::{ProcessEnv, ResolveOptions, Settings, vars};
use crate::opts::McpArgs;
use crate::setup;

/// `notion-gate mcp`.
pub async fn mcp(args: McpArgs) -> Result<()> {
    let key = args
        .agent_key
        .clone()
        .or_else(|| std::env::var(vars::AGENT_KEY).ok())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| {
            anyhow!(
                "no agent key: set {} to the agent's key (nga_…) or pass --agent-key",
                vars::AGENT_KEY
            )
        })?;
    let mut flags = args.store.flags_with(&args.notion);
    flags.policy_file = args.policy_file.clone();
    let settings = Settings::resolve(
        &flags,
        &ProcessEnv,
        ResolveOptions {
            sandbox_notion_url: true,
        },
    )?;
    let gate = setup::open_gate(&settings, &settings.notion_url).await?;
    let public = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    let state = AppState::new(
        gate.clone(),
        ServerSettings::new(public, settings.notion_url.clone()),
    );
    tracing::info!(notion_url = %settings.notion_url, "MCP server on stdio");
    let served = gate_server::mcp::serve_stdio(state, key).await;
    let stats = gate.shutdown().await;
    gate.store().close().await;
    served.map_err(|e| anyhow!("{e}"))?;
    if stats.lost > 0 {
        return Err(anyhow!(
            "{} audit record(s) could not be written before exiting",
            stats.lost
        ));
    }
    Ok(())
}
