//! `notion-gate`: the command-line entry point. Thin: parsing and dispatch only; the commands
//! live in the library (`notion_gate::commands`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = notion_gate::cli::Cli::parse();
    match notion_gate::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
