//! `gate-bench`: measures the figures recorded in `docs/benchmarks.md` and prints them as
//! Markdown, with a description of the machine. Benchmarks live here, never in tests.

mod all;
mod coalesce;
mod console;
mod crash;
mod decode;
mod durability;
mod faults;
mod load;
mod mirror;
mod overhead;
mod passthrough;
mod render;
mod scale;
mod shared_rate;
mod tree;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use futures::TryStreamExt;
use notion_client::ids::BlockId;
use notion_client::{ClientConfig, LimiterConfig, Notion};
use notion_emulator::{Emulator, RateLimit, Seed};
use serde_json::json;

#[derive(Parser)]
#[command(version, about = "Regenerate the figures of docs/benchmarks.md")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Every figure of docs/benchmarks.md, one step after another, as one Markdown report
    /// (the steps: children, tree, render, render-example, decision, audit, overhead, …, load).
    All {
        /// Only these steps (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Leave these steps out (comma-separated).
        #[arg(long, value_delimiter = ',')]
        skip: Vec<String>,
    },
    /// The web console's pages with 100,000 audit events, 1,000 agents and 40 pending
    /// approvals: p50/p95 per page, and a whole audit export.
    Console(console::Params),
    /// Load run: `notion-gate sandbox` (limiter lifted) under N concurrent clients mixing REST
    /// reads, tool calls, proxy reads and policy-denied writes; fails on any 5xx or unexpected
    /// answer; requests/s, p50/p99 and the server's RSS sampled every second.
    Load(load::Params),
    /// The local mirror (gate-mirror): first sync of the demo workspace and of a generated
    /// workspace at a rate limit (requests vs minimum, time vs rate bound), second sync
    /// unchanged and after ten edits, `search_local` p50/p95 over a large mirror, and the
    /// time from an edit until the mirror finds it through Notion's webhooks.
    Mirror {
        /// Pages added to the demo workspace for the second workspace (0: skip it).
        #[arg(long, default_value_t = 1_000)]
        pages: usize,
        /// Requests per second (client limiter and emulator limit).
        #[arg(long, default_value_t = 3.0)]
        rate: f64,
        /// Burst (client limiter and emulator limit).
        #[arg(long, default_value_t = 10)]
        burst: u32,
        /// Pages of the mirror searched (0: skip the search figures).
        #[arg(long, default_value_t = 10_000)]
        search_pages: usize,
        /// Queries of each kind.
        #[arg(long, default_value_t = 1_000)]
        iterations: usize,
        /// Edits measured from the emulator's API answer until the mirror's search finds
        /// them through Notion's webhooks (0: skip the webhook figures).
        #[arg(long, default_value_t = 50)]
        webhook_edits: usize,
    },
    /// List N children of one page through the client at a rate limit, against the emulator
    /// enforcing the same limit, and compare with the rate bound.
    Children {
        /// Children to create and list.
        #[arg(long, default_value_t = 10_000)]
        children: usize,
        /// Requests per second (client limiter and emulator limit).
        #[arg(long, default_value_t = 3.0)]
        rate: f64,
        /// Burst (client limiter and emulator limit).
        #[arg(long, default_value_t = 10)]
        burst: u32,
    },
    /// Fetch a 1,000-block, 4-level page with the tree fetcher on the emulator with added
    /// latency, at 3 req/s, 30 req/s and without a limit, each against its lower bound.
    Tree {
        /// Latency the emulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 80)]
        latency_ms: u64,
        /// Only this regime: 3, 30, "none" or "export" (default: all four).
        #[arg(long)]
        only: Option<String>,
        /// Most requests in flight (used as is without a rate limit).
        #[arg(long, default_value_t = 64)]
        max_concurrency: usize,
        /// Folder holding the notion-gate binary for the export row (default: this binary's
        /// folder; build it first with `cargo build --release -p notion-gate --bins`).
        #[arg(long)]
        bin_dir: Option<std::path::PathBuf>,
    },
    /// Render a 5,000-block page to Markdown and text with notion-markdown: MB/s of block
    /// JSON, with the JSON parse timed separately.
    Render {
        /// Units of 10 blocks (8 top-level, 2 nested).
        #[arg(long, default_value_t = 500)]
        units: usize,
        /// Runs of each step (the median is reported).
        #[arg(long, default_value_t = 15)]
        iterations: usize,
    },
    /// Decoding speed: Notion answers (the shared fixtures and a 5,000-block page) into the
    /// typed models against into `serde_json::Value`, same bytes, in MB/s.
    Decode {
        /// The shared notion-fixtures folder (its `responses/` are decoded).
        #[arg(long, env = "NOTION_FIXTURES_DIR")]
        fixtures: Option<std::path::PathBuf>,
        /// Units of 10 blocks of the generated page (as `render`).
        #[arg(long, default_value_t = 500)]
        units: usize,
        /// Runs of each decoder (the median is reported).
        #[arg(long, default_value_t = 31)]
        iterations: usize,
    },
    /// Gateway overhead: open-loop latency of the emulator directly vs the gateway's proxy and
    /// REST page read (child processes on loopback), and the gateway's RSS idle and under
    /// concurrent clients (unless `--clients 0`).
    Overhead(overhead::Params),
    /// Ten agents reading one page through the proxy, fifteen reads each, on one connection at
    /// Notion's rate with 80 ms of latency: requests at Notion, 429s and wall time with read
    /// coalescing and without; then twenty different pages (nothing to share).
    Coalesce {
        /// Agents (one client each).
        #[arg(long, default_value_t = 10)]
        agents: usize,
        /// Reads per agent, one after the other.
        #[arg(long, default_value_t = 15)]
        reads: usize,
        /// Requests per second (emulator and gateway limiter).
        #[arg(long, default_value_t = 3.0)]
        rate: f64,
        /// Burst (emulator and gateway limiter).
        #[arg(long, default_value_t = 10)]
        burst: u32,
        /// Latency the emulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 80)]
        latency_ms: u64,
        /// Leave out the runs without coalescing (they take (reads − burst) / rate each).
        #[arg(long)]
        no_baseline: bool,
    },
    /// Ten agents sharing one Notion connection through the proxy, with the emulator at
    /// Notion's rate (3 req/s, burst 10): total time for the reads against the rate bound and
    /// the 429s Notion answered; then the same clients directly, without the gateway.
    SharedRate(shared_rate::Params),
    /// The fault suite's counts: mixed reads and writes through REST, the tool endpoint, the
    /// proxy and MCP while the emulator faults a share of the requests; duplicates, write
    /// states against the emulator, and audit records against calls.
    Faults(faults::Params),
    /// Two gateway instances on one PostgreSQL database and one Redis, ten agents split across
    /// them, one connection, the emulator at Notion's rate: total time against the rate bound
    /// and the 429s; then the same with one in-process limiter per instance (control).
    Scale(scale::Params),
    /// The overhead bench's floor (run by `overhead` as a child process): a bare pass-through
    /// of `/v1/...` to UPSTREAM on the gateway's HTTP stack, with no governance.
    #[command(hide = true)]
    Passthrough {
        /// Address to listen on.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Base URL requests are forwarded to.
        #[arg(long)]
        upstream: String,
    },
    /// What an audit record costs at `--audit-durability process` and `fsync` (sequential
    /// and concurrent records, records/s), what a write's intent adds to its p50, and a
    /// proxied write end to end at each level.
    Durability(durability::Params),
    /// SIGKILL `notion-gate serve` under write load (the standalone emulator with upstream
    /// latency, concurrent writers through the proxy), restart it on the same data, repeat;
    /// then check the audit trail against what the emulator applied: every acknowledged
    /// write has an `ok` record, every applied write has a record, no record says done for a
    /// write that did not happen. Fails on a violation.
    Crash(crash::Params),
    /// Print the machine description only.
    Machine,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.bench, Bench::Passthrough { .. }) {
        println!("{}", machine());
    }
    match cli.bench {
        Bench::All { only, skip } => all::run(&only, &skip),
        Bench::Load(p) => load::run(p).await,
        Bench::Children {
            children,
            rate,
            burst,
        } => list_children(children, rate, burst).await,
        Bench::Mirror {
            pages,
            rate,
            burst,
            search_pages,
            iterations,
            webhook_edits,
        } => mirror::run(pages, rate, burst, search_pages, iterations, webhook_edits).await,
        Bench::Tree {
            latency_ms,
            only,
            max_concurrency,
            bin_dir: bin_dir_arg,
        } => {
            let regimes: Vec<tree::Regime> = tree::REGIMES
                .iter()
                .copied()
                .filter(|r| match only.as_deref() {
                    None => true,
                    Some("none") => r.rate.is_none(),
                    Some(n) => r.rate.is_some_and(|rate| n.parse() == Ok(rate)),
                })
                .collect();
            let export = matches!(only.as_deref(), None | Some("export"));
            anyhow::ensure!(
                !regimes.is_empty() || export,
                "--only takes 3, 30, none or export"
            );
            let latency = Duration::from_millis(latency_ms);
            tree::run(latency, &regimes, max_concurrency).await?;
            if export {
                let dir = bin_dir(bin_dir_arg.as_deref())?;
                tree::run_export(latency, &dir).await?;
            }
            Ok(())
        }
        Bench::Render { units, iterations } => render::run(units, iterations).await,
        Bench::Decode {
            fixtures,
            units,
            iterations,
        } => decode::run(fixtures, units, iterations).await,
        Bench::Console(p) => console::run(p).await,
        Bench::Overhead(p) => overhead::run(p).await,
        Bench::Coalesce {
            agents,
            reads,
            rate,
            burst,
            latency_ms,
            no_baseline,
        } => {
            coalesce::run(coalesce::Params {
                agents,
                reads,
                rate,
                burst,
                latency: Duration::from_millis(latency_ms),
                baseline: !no_baseline,
            })
            .await
        }
        Bench::SharedRate(p) => shared_rate::run(p).await,
        Bench::Faults(p) => faults::run(p).await,
        Bench::Scale(p) => scale::run(p).await,
        Bench::Passthrough { listen, upstream } => passthrough::run(listen, upstream).await,
        Bench::Durability(p) => durability::run(p).await,
        Bench::Crash(p) => crash::run(p).await,
        Bench::Machine => Ok(()),
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!(
        "machine: {cpu}, {cores} cores, {mem_gib:.0} GiB; load average (1 min) at start: {load}"
    )
}

/// The database a bench runs on, as its report names it: PostgreSQL when a URL is given.
pub(crate) fn backend_name(database_url: Option<&str>) -> &'static str {
    if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// The folder of the binaries a bench starts: `given`, or this binary's folder.
pub(crate) fn bin_dir(given: Option<&std::path::Path>) -> Result<std::path::PathBuf> {
    match given {
        Some(d) => Ok(d.to_path_buf()),
        None => Ok(std::env::current_exe()
            .context("this binary's path")?
            .parent()
            .context("this binary's folder")?
            .to_path_buf()),
    }
}

/// The emulator with the demo workspace, limited to `rate` requests/s after a `burst`.
pub(crate) async fn rated_demo(rate: f64, burst: u32) -> Result<Emulator> {
    Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(rate, burst))
        .start()
        .await
        .context("start the emulator")
}

async fn list_children(n: usize, rate: f64, burst: u32) -> Result<()> {
    let emu = rated_demo(rate, burst).await?;
    // Build the page through the emulator's store, so the request budget is untouched.
    let page = emu.demo_ids().root_page.clone();
    let blocks: Vec<_> = (0..n)
        .map(|i| {
            json!({"type": "paragraph", "paragraph": {"rich_text": [
                {"type": "text", "text": {"content": format!("Paragraph {i}")}}]}})
        })
        .collect();
    let target = emu.create_page(&page, "Ten thousand children")?;
    emu.append_children(&target, blocks)?;
    emu.reset_counters();

    let notion = Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(LimiterConfig::new(rate, burst).map_err(anyhow::Error::msg)?),
    )?;
    let conn = notion.connection("bench".to_owned().into());
    let id = BlockId::parse(&target)?;
    let start = Instant::now();
    let listed: Vec<_> = conn
        .blocks()
        .children_stream(&id, None)
        .try_collect()
        .await
        .context("list the children")?;
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(listed.len() == n, "listed {} of {n}", listed.len());
    let counters = emu.counters();
    let requests = counters.total as f64;
    let naive = requests / rate;
    let with_burst = (requests - f64::from(burst)).max(0.0) / rate;
    println!("bench: list {n} children at {rate} req/s, burst {burst}");
    println!(
        "| requests | 429s at emulator | 429s to caller | time | requests/rate | (requests-burst)/rate | time vs requests/rate |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | 0 | {secs:.2} s | {naive:.2} s | {with_burst:.2} s | {:+.1}% |",
        counters.total,
        counters.rate_limited,
        (secs / naive - 1.0) * 100.0
    );
    emu.shutdown().await;
    Ok(())
}
