//! Command-line shapes of the gateway commands (`serve`, `sandbox`, `migrate`, `user`,
//! `agent`, `connect`, `approvals`, `audit`, `keys`, `mcp`) and their conversion into
//! [`Flags`] for the configuration loader. Values stay text here; `config` parses them, so
//! a bad value names its flag or variable the same way whichever source it came from.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Subcommand};

use crate::config::{Flags, vars};

/// The arguments (by id: the field name) whose value clap took from the environment, in the
/// command line parsed by [`record_env_sources`]; empty when nothing was recorded (tests that
/// build their arguments by hand).
static ENV_SOURCED: OnceLock<BTreeSet<String>> = OnceLock::new();

/// Records which arguments of the parsed command line (every subcommand level) clap filled
/// from an environment variable, so that a bad value names the variable, not the flag.
pub fn record_env_sources(matches: &ArgMatches) {
    let mut ids = BTreeSet::new();
    let mut level = Some(matches);
    while let Some(m) = level {
        for id in m.ids() {
            if m.value_source(id.as_str()) == Some(ValueSource::EnvVariable) {
                ids.insert(id.as_str().to_owned());
            }
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    // A second parse in one process keeps the first record: only the binary's `main` parses.
    let _ = ENV_SOURCED.set(ids);
}

fn env_sourced() -> BTreeSet<String> {
    ENV_SOURCED.get().cloned().unwrap_or_default()
}

/// The help of `--local-only`, naming both of its variables.
fn local_only_help() -> String {
    format!(
        "Refuse every call to Notion [env: {} or {}]",
        vars::LOCAL_ONLY,
        vars::ATOM_LOCAL_ONLY
    )
}

/// Where the gateway keeps its state; every gateway command takes these.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// TOML configuration file.
    #[arg(long, env = vars::CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder: SQLite database, vault key file [default: ./data].
    #[arg(long, env = vars::DATA_DIR, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: SQLite in the data folder].
    #[arg(long, env = vars::DATABASE_URL, hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,
}

/// How to reach Notion.
#[derive(Debug, Clone, Default, Args)]
pub struct NotionUrlArgs {
    /// Notion API base URL [default: https://api.notion.com].
    #[arg(long, env = vars::NOTION_URL, value_name = "URL")]
    pub notion_url: Option<String>,
    /// Notion-Version sent to Notion, YYYY-MM-DD [default: 2026-03-11].
    #[arg(long, env = vars::NOTION_VERSION, value_name = "V")]
    pub notion_version: Option<String>,
}

/// `notion-gate serve` and `notion-gate sandbox`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8787].
    #[arg(long, env = vars::LISTEN, value_name = "ADDR")]
    pub listen: Option<String>,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion (`sandbox` ignores --notion-url: it runs its own emulator).
    #[command(flatten)]
    pub notion: NotionUrlArgs,
    /// Public base URL of the gateway, for OAuth redirects [default: http://<listen address>].
    #[arg(long, env = vars::PUBLIC_URL, value_name = "URL")]
    pub public_url: Option<String>,
    /// gate-policy TOML file [default: built-in policy].
    #[arg(long, env = vars::POLICY_FILE, value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
    // Refuse every call to Notion. Two variables also turn it on (true/false, 1/0, yes/no,
    // on/off), so the resolver reads them rather than clap; the help names them from `vars`.
    #[arg(long, help = local_only_help())]
    pub local_only: bool,
    /// Keep the local mirror of every connection fresh in the background (reads in
    /// local-only mode and `search_local` answer from it).
    #[arg(long, env = vars::MIRROR, value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub mirror: bool,
    /// Requests per second per Notion connection [default: 3].
    #[arg(long, env = vars::RATE, value_name = "R")]
    pub rate: Option<String>,
    /// Burst per Notion connection [default: 10].
    #[arg(long, env = vars::BURST, value_name = "N")]
    pub burst: Option<String>,
    /// Seconds a key lookup is cached; the bound on how long another instance's change goes
    /// unseen [default: 5].
    #[arg(long, env = vars::CACHE_TTL, value_name = "SECONDS")]
    pub cache_ttl: Option<String>,
    /// How long a web console sign-in lasts, e.g. 12h, 90m, 7d [default: 12h].
    #[arg(long, env = vars::SESSION_TTL, value_name = "SPAN")]
    pub session_ttl: Option<String>,
    /// Redis shared by several instances for the per-connection rate limit, e.g.
    /// redis://cache:6379 [default: an in-process limiter].
    #[arg(long, env = vars::REDIS_URL, hide_env_values = true, value_name = "URL")]
    pub redis_url: Option<String>,
    /// Failed authentications allowed per client address and minute, then 429; 0 turns the
    /// limit off [default: 20].
    #[arg(long, env = vars::FAILED_AUTH_PER_MINUTE, value_name = "N")]
    pub failed_auth_per_minute: Option<String>,
    /// Allow this browser origin by CORS (repeatable; exact scheme://host[:port], never `*`)
    /// (the variable: comma-separated) [default: none, no CORS headers].
    #[arg(
        long = "cors-origin",
        env = vars::CORS_ORIGINS,
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub cors_origins: Vec<String>,
    /// How durable an audit record is before the call goes on: `process` (survives a crash
    /// of the process) or `fsync` (survives power loss; SQLite syncs its audit spool before
    /// answering) [default: process].
    #[arg(long, env = vars::AUDIT_DURABILITY, value_name = "LEVEL")]
    pub audit_durability: Option<String>,
    /// POST approval events (held, decided, expired) to this URL (repeatable; write
    /// slack+https://… for Slack's format; the variable: comma-separated) [default: none].
    #[arg(
        long = "approval-webhook",
        env = vars::APPROVAL_WEBHOOKS,
        hide_env_values = true,
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub approval_webhooks: Vec<String>,
    /// Sign every webhook body: X-Notion-Gate-Signature: sha256=<HMAC-SHA256>; prefer the
    /// variable, a flag shows in the process list [default: unsigned].
    #[arg(long, env = vars::WEBHOOK_SECRET, hide_env_values = true, value_name = "SECRET")]
    pub webhook_secret: Option<String>,
}

impl StoreArgs {
    /// These flags for the loader.
    pub fn flags(&self) -> Flags {
        Flags {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            env_sourced: env_sourced(),
            ..Flags::default()
        }
    }

    /// These flags plus Notion's.
    pub fn flags_with(&self, notion: &NotionUrlArgs) -> Flags {
        Flags {
            notion_url: notion.notion_url.clone(),
            notion_version: notion.notion_version.clone(),
            ..self.flags()
        }
    }
}

impl ServeArgs {
    /// These flags for the loader.
    pub fn flags(&self) -> Flags {
        Flags {
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            policy_file: self.policy_file.clone(),
            local_only: self.local_only,
            rate: self.rate.clone(),
            burst: self.burst.clone(),
            cache_ttl: self.cache_ttl.clone(),
            session_ttl: self.session_ttl.clone(),
            redis_url: self.redis_url.clone(),
            failed_auth_per_minute: self.failed_auth_per_minute.clone(),
            audit_durability: self.audit_durability.clone(),
            cors_origins: (!self.cors_origins.is_empty()).then(|| self.cors_origins.join(",")),
            approval_webhooks: (!self.approval_webhooks.is_empty())
                .then(|| self.approval_webhooks.join(",")),
            webhook_secret: self.webhook_secret.clone(),
            ..self.store.flags_with(&self.notion)
        }
    }
}

/// The arguments of a `… list` command.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `notion-gate user …`.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Add a user and print their new key (only the key, on stdout).
    Add {
        /// The user's name (unique).
        name: String,
        /// Make the user an administrator (the first admin can be created this way).
        #[arg(long)]
        admin: bool,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List users.
    List(ListArgs),
}

/// `notion-gate agent …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AgentCommand {
    /// Register an agent and print its new key (only the key, on stdout).
    Add {
        /// The agent's name (unique per user).
        name: String,
        /// student, intern, supervised or autonomous.
        #[arg(long, value_name = "LEVEL")]
        maturity: String,
        /// The owner [default: the first administrator].
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// The Notion connection [default: the owner's first connection].
        #[arg(long, value_name = "ID")]
        connection: Option<String>,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List agents.
    List(ListArgs),
    /// Promote or demote an agent.
    SetMaturity {
        /// The agent's name or id.
        #[arg(value_name = "NAME|ID")]
        agent: String,
        /// student, intern, supervised or autonomous.
        #[arg(value_name = "LEVEL")]
        maturity: String,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an agent: every later call is denied (and audited).
    Disable {
        /// The agent's name or id.
        #[arg(value_name = "NAME|ID")]
        agent: String,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `notion-gate connect`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Internal-integration token (ntn_… or secret_…); the original's variable
    /// `NOTION_API_KEY` is read after this one. Never printed.
    #[arg(long, env = vars::NOTION_TOKEN, hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The user who owns the connection [default: the first administrator].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion.
    #[command(flatten)]
    pub notion: NotionUrlArgs,
}

/// `notion-gate approvals …`.
#[derive(Debug, Clone, Subcommand)]
pub enum ApprovalsCommand {
    /// List pending approvals (--all: every status).
    List {
        /// Every approval, not only pending ones.
        #[arg(long)]
        all: bool,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Approve a held call; it runs once, from this process, through --notion-url.
    Approve {
        /// The approval id.
        id: String,
        /// A note for the requester (shown with the approval on every surface).
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
        /// Notion.
        #[command(flatten)]
        notion: NotionUrlArgs,
    },
    /// Deny a held call.
    Deny {
        /// The approval id.
        id: String,
        /// Why, for the requester (shown with the approval on every surface).
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `notion-gate audit …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Show the latest audit events, one line each.
    Tail {
        /// How many.
        #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 20)]
        lines: u32,
        /// Keep printing new events as they are written.
        #[arg(short, long)]
        follow: bool,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write every audit event as JSON lines, oldest first.
    Export {
        /// Write here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `notion-gate keys …`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every stored Notion token with the first vault key.
    Rotate {
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `notion-gate mcp`.
#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    /// The agent's key (nga_…). Prefer the variable: a flag is visible to other local users.
    #[arg(long, env = vars::AGENT_KEY, hide_env_values = true, value_name = "KEY")]
    pub agent_key: Option<String>,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion.
    #[command(flatten)]
    pub notion: NotionUrlArgs,
    /// gate-policy TOML file.
    #[arg(long, env = vars::POLICY_FILE, value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
}
