//! Command-line shapes of the gateway commands (`serve`, `sandbox`, `migrate`, `user`,
//! `agent`, `connect`, `approvals`, `audit`, `keys`, `mcp`) and their conversion into
//! [`Flags`] for the configuration loader. Values stay text here; `config` parses them, so
//! a bad value names its flag or variable the same way whichever source it came from.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::config::Flags;

/// Where the gateway keeps its state; every gateway command takes these.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// TOML configuration file [env: NOTION_GATE_CONFIG].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder: SQLite database, vault key file [env: NOTION_GATE_DATA_DIR]
    /// [default: ./data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [env: NOTION_GATE_DATABASE_URL] [default: SQLite in the
    /// data folder].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// How to reach Notion.
#[derive(Debug, Clone, Default, Args)]
pub struct NotionUrlArgs {
    /// Notion API base URL [env: NOTION_GATE_NOTION_URL] [default: https://api.notion.com].
    #[arg(long, value_name = "URL")]
    pub notion_url: Option<String>,
    /// Notion-Version sent to Notion, YYYY-MM-DD [env: NOTION_GATE_NOTION_VERSION]
    /// [default: 2026-03-11].
    #[arg(long, value_name = "V")]
    pub notion_version: Option<String>,
}

/// `notion-gate serve` and `notion-gate sandbox`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [env: NOTION_GATE_LISTEN]
    /// [default: 127.0.0.1:8787].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion (`sandbox` ignores --notion-url: it runs its own emulator).
    #[command(flatten)]
    pub notion: NotionUrlArgs,
    /// Public base URL of the gateway, for OAuth redirects [env: NOTION_GATE_PUBLIC_URL]
    /// [default: http://<listen address>].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// gate-policy TOML file [env: NOTION_GATE_POLICY_FILE] [default: built-in policy].
    #[arg(long, value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
    /// Refuse every call to Notion [env: NOTION_GATE_LOCAL_ONLY or ATOM_LOCAL_ONLY].
    #[arg(long)]
    pub local_only: bool,
    /// Keep the local mirror of every connection fresh in the background (reads in
    /// local-only mode and `search_local` answer from it) [env: NOTION_GATE_MIRROR].
    #[arg(long, env = "NOTION_GATE_MIRROR", hide_env = true, value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub mirror: bool,
    /// Requests per second per Notion connection [env: NOTION_GATE_RATE] [default: 3].
    #[arg(long, value_name = "R")]
    pub rate: Option<String>,
    /// Burst per Notion connection [env: NOTION_GATE_BURST] [default: 10].
    #[arg(long, value_name = "N")]
    pub burst: Option<String>,
    /// Seconds a key lookup is cached; the bound on how long another instance's change goes
    /// unseen [env: NOTION_GATE_CACHE_TTL] [default: 5].
    #[arg(long, value_name = "SECONDS")]
    pub cache_ttl: Option<String>,
    /// How long a web console sign-in lasts, e.g. 12h, 90m, 7d
    /// [env: NOTION_GATE_SESSION_TTL] [default: 12h].
    #[arg(long, value_name = "SPAN")]
    pub session_ttl: Option<String>,
    /// Redis shared by several instances for the per-connection rate limit, e.g.
    /// redis://cache:6379 [env: NOTION_GATE_REDIS_URL] [default: an in-process limiter].
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// Failed authentications allowed per client address and minute, then 429; 0 turns the
    /// limit off [env: NOTION_GATE_FAILED_AUTH_PER_MINUTE] [default: 20].
    #[arg(long, value_name = "N")]
    pub failed_auth_per_minute: Option<String>,
    /// Allow this browser origin by CORS (repeatable; exact scheme://host[:port], never `*`)
    /// [env: NOTION_GATE_CORS_ORIGINS, comma-separated] [default: none, no CORS headers].
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// How durable an audit record is before the call goes on: `process` (survives a crash
    /// of the process) or `fsync` (survives power loss; SQLite syncs its audit spool before
    /// answering) [env: NOTION_GATE_AUDIT_DURABILITY] [default: process].
    #[arg(long, value_name = "LEVEL")]
    pub audit_durability: Option<String>,
    /// POST approval events (held, decided, expired) to this URL (repeatable; write
    /// slack+https://… for Slack's format) [env: NOTION_GATE_APPROVAL_WEBHOOKS,
    /// comma-separated] [default: none].
    #[arg(long = "approval-webhook", value_name = "URL")]
    pub approval_webhooks: Vec<String>,
    /// Sign every webhook body: X-Notion-Gate-Signature: sha256=<HMAC-SHA256>; prefer the
    /// variable, a flag shows in the process list [env: NOTION_GATE_WEBHOOK_SECRET]
    /// [default: unsigned].
    #[arg(long, value_name = "SECRET")]
    pub webhook_secret: Option<String>,
}

impl StoreArgs {
    /// These flags for the loader.
    pub fn flags(&self) -> Flags {
        Flags {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
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
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
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
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// State.
        #[command(flatten)]
        store: StoreArgs,
    },
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
    /// Internal-integration token (ntn_… or secret_…) [env: NOTION_GATE_NOTION_TOKEN or
    /// NOTION_API_KEY]. Never printed.
    #[arg(long, value_name = "TOKEN")]
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
    /// The agent's key (nga_…) [env: NOTION_GATE_AGENT_KEY]. Prefer the variable: a flag is
    /// visible to other local users.
    #[arg(long, value_name = "KEY")]
    pub agent_key: Option<String>,
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion.
    #[command(flatten)]
    pub notion: NotionUrlArgs,
    /// gate-policy TOML file [env: NOTION_GATE_POLICY_FILE].
    #[arg(long, value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
}
