//! `notion-gate`: the command-line entry point. Thin: parsing and dispatch only; the commands
//! live in the library (`notion_gate::commands`).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = notion_gate::cli::Cli::command().get_matches();
    let cli = notion_gate::cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    notion_gate::opts::record_env_sources(&matches);
    match notion_gate::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
