//! The `notion-gate` binary's logic: command-line definitions ([`cli`]), the connection to
//! Notion from command-line arguments ([`connect`]), the commands ([`commands`]), rendering
//! ([`render`]) and the progress bar ([`progress`]). `main.rs` only parses and calls [`run`].

pub mod cli;
pub mod commands;
pub mod connect;
pub mod progress;
pub mod render;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};

/// Runs one command to completion on a new tokio runtime.
pub fn run(cli: Cli) -> Result<()> {
    init_tracing(cli.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Export(args) => commands::export(args).await,
            Command::Check(args) => commands::check(args).await,
        }
    })
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,notion_client=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NOTION_GATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
