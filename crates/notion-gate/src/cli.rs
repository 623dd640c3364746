//! Command-line definitions (clap derive). Only shapes and help texts live here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A governed gateway between AI agents and Notion.
#[derive(Debug, Parser)]
#[command(
    name = "notion-gate",
    version,
    about,
    long_about = None,
    help_template = crate::help::TEMPLATE,
    after_help = crate::help::EXAMPLES
)]
pub struct Cli {
    /// More log output on stderr (-v, -vv); `NOTION_GATE_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log filter for stderr, e.g. `info` or `notion_gate=debug,info` (else RUST_LOG).
    #[arg(long, value_name = "FILTER", global = true)]
    pub log_level: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: REST API, tool endpoint, MCP (/mcp), Notion-compatible proxy (/v1).
    Serve(crate::opts::ServeArgs),
    /// Run the gateway on a built-in demo Notion workspace (no Notion account needed).
    Sandbox(crate::opts::ServeArgs),
    /// Serve MCP on stdin/stdout for one agent (key from NOTION_GATE_AGENT_KEY).
    Mcp(crate::opts::McpArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(crate::opts::StoreArgs),
    /// Add and list users.
    #[command(subcommand)]
    User(crate::opts::UserCommand),
    /// Add, list, promote/demote and disable agents.
    #[command(subcommand)]
    Agent(crate::opts::AgentCommand),
    /// Connect a Notion workspace with an internal integration token; prints the connection id.
    Connect(crate::opts::ConnectArgs),
    /// List, approve and deny calls held for a human.
    #[command(subcommand)]
    Approvals(crate::opts::ApprovalsCommand),
    /// Show or export the audit trail.
    #[command(subcommand)]
    Audit(crate::opts::AuditCommand),
    /// Manage the encryption keys of stored Notion tokens.
    #[command(subcommand)]
    Keys(crate::opts::KeysCommand),
    /// Export a page (title, properties and every block below it) as Markdown, text or JSON.
    Export(ExportArgs),
    /// Check a token: show the workspace and the bot it acts as.
    Check(CheckArgs),
    /// The local mirror: `mirror sync` (Markdown files and a full-text index), `mirror status`.
    #[command(subcommand)]
    Mirror(crate::mirror::MirrorCommand),
}

/// How to reach Notion.
#[derive(Debug, Clone, Args)]
pub struct NotionArgs {
    /// Integration token; the original's variable `NOTION_API_KEY` is read after this one.
    /// Never printed.
    #[arg(
        long,
        env = crate::config::vars::NOTION_TOKEN,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Base URL of the Notion API (an emulator, for example).
    #[arg(
        long,
        env = crate::config::vars::NOTION_URL,
        value_name = "URL",
        default_value = "https://api.notion.com"
    )]
    pub notion_url: String,
    /// Notion-Version header, YYYY-MM-DD [default: the client's, 2026-03-11].
    #[arg(long, value_name = "V")]
    pub notion_version: Option<String>,
}

/// Output formats of `export`: the REST API's page formats (`markdown`, `text`, `blocks`;
/// `json` is another name of `blocks`).
pub use gate_server::routes::notion::Format;

/// `notion-gate export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The page: its id (32 hex digits, dashes optional) or its Notion URL.
    #[arg(value_name = "PAGE_ID")]
    pub page_id: String,
    /// How to reach Notion.
    #[command(flatten)]
    pub notion: NotionArgs,
    /// Output format: markdown (title, properties, then the blocks), text, or blocks (the page
    /// object and a nested block tree as Notion returns them; `json` is accepted too).
    #[arg(long, value_name = "FORMAT", default_value = "markdown", value_parser = parse_format)]
    pub format: Format,
    /// Deepest block level to fetch (1 = the page's own blocks only).
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Most blocks to fetch.
    #[arg(long, value_name = "N")]
    pub max_blocks: Option<usize>,
    /// Descend into child pages as well.
    #[arg(long)]
    pub include_child_pages: bool,
    /// Requests in flight at most [default: 16, or 64 with `--rate 0`].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Requests per second sent to Notion, as `serve --rate`; 0 sends without a client-side
    /// limit (for an upstream that allows more than Notion's 3/s: an emulator, a gateway's
    /// proxy that paces for you) [default: 3].
    #[arg(long, env = crate::config::vars::RATE, value_name = "R")]
    pub rate: Option<String>,
    /// Requests that may go at once after a quiet spell, as `serve --burst` [default: 10].
    #[arg(long, env = crate::config::vars::BURST, value_name = "N")]
    pub burst: Option<String>,
    /// Write here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `notion-gate check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// How to reach Notion.
    #[command(flatten)]
    pub notion: NotionArgs,
}

/// `--format`: a page format by name.
fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_grouped_help_names_every_command() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        assert_eq!(names.len(), crate::help::GROUPED.len(), "{names:?}");
        for name in &names {
            assert!(crate::help::GROUPED.contains(&name.as_str()), "{name}");
            assert!(
                crate::help::TEMPLATE.contains(&format!("\n  {name} ")),
                "{name} in the help template"
            );
        }
    }
}
