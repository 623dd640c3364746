//! The top-level `--help`: commands grouped by purpose, one line each, and examples. clap
//! lists subcommands in one flat block, so the grouped list is a template; a test checks that
//! it names every subcommand.

/// The help template of `notion-gate` (clap fills usage, options and after-help).
pub const TEMPLATE: &str = "\
{about-with-newline}
{usage-heading} {usage}

Run the gateway:
  serve         Run the gateway: REST API, tool endpoint, MCP (/mcp), Notion-compatible proxy (/v1)
  sandbox       Run the gateway on a built-in demo Notion workspace (no Notion account needed)
  mcp           Serve MCP on stdin/stdout for one agent (key from NOTION_GATE_AGENT_KEY)
  migrate       Create or upgrade the database schema, then exit

Administer (same data folder or database as the server, also while it runs):
  user          Add and list users (`user add NAME [--admin]` prints only the key)
  agent         Add, list, promote/demote and disable agents (`agent add` prints only the key)
  connect       Connect a Notion workspace with an internal integration token
  approvals     List, approve and deny calls held for a human
  audit         Show (`tail`, `--follow`) or export (JSON lines) the audit trail
  keys          Re-encrypt stored Notion tokens with the first encryption key (`keys rotate`)
  mirror        Sync the local mirror (Markdown + full-text index) or show its status

Use Notion directly (no gateway):
  export        Export a page (title, properties and every block below it) as Markdown, text or JSON
  check         Check a token: show the workspace and the bot it acts as
  help          Print this message or the help of a command

Options:
{options}{after-help}";

/// Examples, shown after the options.
pub const EXAMPLES: &str = "\
Examples:
  notion-gate sandbox                                  # try it: demo workspace on 127.0.0.1:8787
  KEY=$(notion-gate agent add bot --maturity intern)   # an agent key, for the first admin's connection
  notion-gate connect --token \"$NOTION_TOKEN\"          # connect a real workspace (internal integration)
  notion-gate serve --listen 0.0.0.0:8787 --data-dir /var/lib/notion-gate
  notion-gate audit tail -n 50 --follow
  notion-gate export 59833787-2cf9-4fdf-8782-e53db20768a5 --token \"$NOTION_TOKEN\" > page.md

Configuration: flags > NOTION_GATE_* environment variables > TOML file (--config FILE or
NOTION_GATE_CONFIG) > defaults. `notion-gate COMMAND --help` lists each command's flags.";

/// Every subcommand named in [`TEMPLATE`].
pub const GROUPED: &[&str] = &[
    "serve",
    "sandbox",
    "mcp",
    "migrate",
    "user",
    "agent",
    "connect",
    "approvals",
    "audit",
    "keys",
    "mirror",
    "export",
    "check",
];
