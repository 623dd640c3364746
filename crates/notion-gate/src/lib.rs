//! The `notion-gate` binary's logic: command-line definitions ([`cli`], [`opts`], [`help`]),
//! the configuration loader ([`config`]), the gateway ([`serve`]: `serve` and `sandbox`;
//! [`mcp`]), the administration commands ([`admin`]), building a gate from the configuration
//! ([`setup`]), and the direct Notion commands: the connection to Notion from command-line
//! arguments ([`connect`]), `export`/`check` ([`commands`]), rendering ([`render`]) and the
//! progress bar ([`progress`]). `main.rs` only parses and calls [`run`].

pub mod admin;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect;
pub mod help;
pub mod mcp;
pub mod mirror;
pub mod opts;
pub mod progress;
pub mod render;
pub mod serve;
pub mod setup;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};

/// Runs one command to completion on a new tokio runtime.
pub fn run(cli: Cli) -> Result<()> {
    let quiet = !matches!(cli.command, Command::Serve(_) | Command::Sandbox(_));
    init_tracing(cli.verbose, cli.log_level.as_deref(), quiet)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let mut settings = config::server_settings(&args)?;
                settings.mirror = args.mirror;
                serve::serve(settings).await
            }
            Command::Sandbox(args) => {
                let mut settings = config::server_settings(&args)?;
                settings.mirror = args.mirror;
                serve::sandbox(settings).await
            }
            Command::Mcp(args) => mcp::mcp(args).await,
            Command::Migrate(args) => admin::migrate(args).await,
            Command::User(cmd) => admin::user(cmd).await,
            Command::Agent(cmd) => admin::agent(cmd).await,
            Command::Connect(args) => admin::connect(args).await,
            Command::Approvals(cmd) => admin::approvals(cmd).await,
            Command::Audit(cmd) => admin::audit(cmd).await,
            Command::Keys(cmd) => admin::keys(cmd).await,
            Command::Export(args) => commands::export(args).await,
            Command::Mirror(cmd) => mirror::mirror(cmd).await,
            Command::Check(args) => commands::check(args).await,
        }
    })
}

/// Logs to stderr. The filter: `--log-level`, else `RUST_LOG`, else `NOTION_GATE_LOG`, else
/// `-v`/`-vv`, else `info` for the server commands and `warn` for the others.
fn init_tracing(verbose: u8, log_level: Option<&str>, quiet: bool) -> Result<()> {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "info,notion_client=debug",
        _ => "debug",
    };
    let from = |name: &str, value: &str| {
        EnvFilter::try_new(value).map_err(|e| anyhow::anyhow!("invalid {name} {value:?}: {e}"))
    };
    let filter = if let Some(level) = log_level {
        from("--log-level", level)?
    } else if let Some(v) = ["RUST_LOG", "NOTION_GATE_LOG"]
        .into_iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        })
    {
        from(v.0, &v.1)?
    } else {
        EnvFilter::new(default)
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    Ok(())
}
