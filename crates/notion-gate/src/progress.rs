//! The export progress bar on stderr: blocks fetched, requests made and time spent waiting
//! for the rate limiter. Drawn only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use notion_client::tree::TreeProgress;

/// A spinner with live counts, or nothing when stderr is not a terminal.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress display if stderr is a terminal.
    pub fn for_stderr() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar: Some(bar) }
    }

    /// Whether anything is drawn.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows a phase message (e.g. "fetching the page").
    pub fn phase(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    /// Shows the counts of a running tree fetch.
    pub fn update(&self, p: &TreeProgress) {
        if let Some(bar) = &self.bar {
            bar.set_message(message(p));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The progress line for a tree fetch.
pub fn message(p: &TreeProgress) -> String {
    let mut line = format!(
        "{} blocks, {} requests ({} in flight), limiter waits {:.1} s",
        p.blocks,
        p.requests,
        p.in_flight,
        p.limiter_wait.as_secs_f64()
    );
    if p.rate_limited > 0 {
        line.push_str(&format!(", {} rate-limited answers", p.rate_limited));
    }
    line
}
