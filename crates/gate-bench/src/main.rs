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
    Console {
        /// Audit events in the store.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Agents.
        #[arg(long, default_value_t = 1_000)]
        agents: usize,
        /// Pending approvals.
        #[arg(long, default_value_t = 40)]
        approvals: usize,
        /// Fetches of each page.
        #[arg(long, default_value_t = 30)]
        iterations: usize,
        /// Keep serving this many seconds afterwards (to look at the pages).
        #[arg(long, default_value_t = 0)]
        hold: u64,
    },
    /// Load run: `notion-gate sandbox` (limiter lifted) under N concurrent clients mixing REST
    /// reads, tool calls, proxy reads and policy-denied writes; fails on any 5xx or unexpected
    /// answer; requests/s, p50/p99 and the server's RSS sampled every second.
    Load {
        /// Concurrent clients (one connection each).
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Seconds the clients loop.
        #[arg(long, default_value_t = 60.0)]
        duration: f64,
        /// Folder holding the notion-gate binary (default: this binary's folder; build it
        /// first with `cargo build --release -p notion-gate --bins`).
        #[arg(long)]
        bin_dir: Option<std::path::PathBuf>,
        /// Run `notion-gate serve` against the standalone emulator instead of `sandbox`
        /// (the gateway's memory without the emulator's).
        #[arg(long)]
        serve: bool,
    },
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
    Overhead {
        /// Requests per second of the open-loop runs.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Measured seconds per target.
        #[arg(long, default_value_t = 20.0)]
        secs: f64,
        /// Warm-up seconds per target, at the same rate.
        #[arg(long, default_value_t = 3.0)]
        warmup: f64,
        /// Slices each target's measured time is cut into; the targets take turns slice by
        /// slice, so that a slower or busier minute of the machine weighs on all of them.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        rounds: u32,
        /// Concurrent clients (one connection each) for the memory figure; 0 skips that run.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Seconds the concurrent clients loop (unused with `--clients 0`).
        #[arg(long, default_value_t = 20.0)]
        client_secs: f64,
        /// Folder holding the notion-gate and notion-emulator binaries (default: this
        /// binary's folder; build them first with
        /// `cargo build --profile dist -p notion-gate -p notion-emulator --bins`).
        #[arg(long)]
        bin_dir: Option<std::path::PathBuf>,
        /// Top-level blocks of the real-sized page (rich text, about 90 KB of children JSON
        /// at 93); 0 measures the tiny demo page only.
        #[arg(long, default_value_t = 93)]
        big_blocks: usize,
    },
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
    SharedRate {
        /// Agents (one client each).
        #[arg(long, default_value_t = 10)]
        agents: usize,
        /// Page reads in all, split over the agents.
        #[arg(long, default_value_t = 500)]
        reads: usize,
        /// Requests per second (emulator and gateway limiter).
        #[arg(long, default_value_t = 3.0)]
        rate: f64,
        /// Burst (emulator and gateway limiter).
        #[arg(long, default_value_t = 10)]
        burst: u32,
    },
    /// The fault suite's counts: mixed reads and writes through REST, the tool endpoint, the
    /// proxy and MCP while the emulator faults a share of the requests; duplicates, write
    /// states against the emulator, and audit records against calls.
    Faults {
        /// Calls in all (60% reads, 20% creates, 20% appends), round-robin over the surfaces.
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// Share of Notion requests that get a fault.
        #[arg(long, default_value_t = 0.2)]
        fault_rate: f64,
        /// Seed of the emulator's fault RNG.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Two gateway instances on one PostgreSQL database and one Redis, ten agents split across
    /// them, one connection, the emulator at Notion's rate: total time against the rate bound
    /// and the 429s; then the same with one in-process limiter per instance (control).
    Scale {
        /// PostgreSQL URL of an EMPTY database (both instances use it).
        #[arg(long, env = "NOTION_GATE_DATABASE_URL")]
        database_url: String,
        /// Redis URL of the shared limiter.
        #[arg(
            long,
            env = "NOTION_GATE_REDIS_URL",
            default_value = "redis://127.0.0.1:6379"
        )]
        redis_url: String,
        /// Agents (one client each), alternating between the instances.
        #[arg(long, default_value_t = 10)]
        agents: usize,
        /// Page reads in all, split over the agents.
        #[arg(long, default_value_t = 200)]
        reads: usize,
        /// Requests per second (emulator and gateway limiter).
        #[arg(long, default_value_t = 3.0)]
        rate: f64,
        /// Burst (emulator and gateway limiter).
        #[arg(long, default_value_t = 10)]
        burst: u32,
    },
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
    Durability {
        /// Sequential records and intents per level.
        #[arg(long, default_value_t = 2000)]
        records: usize,
        /// Concurrent callers.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Records per concurrent caller.
        #[arg(long, default_value_t = 200)]
        per_client: usize,
        /// Proxied writes end to end per level.
        #[arg(long, default_value_t = 1000)]
        writes: usize,
        /// Folder for the SQLite files (on a disk: fsync on tmpfs costs nothing).
        #[arg(long, default_value = "/var/tmp")]
        dir: std::path::PathBuf,
        /// Measure on PostgreSQL instead (a fresh, empty database).
        #[arg(long)]
        database_url: Option<String>,
        /// With --database-url: a second fresh, empty database for the `fsync` level (else
        /// its end-to-end write is skipped).
        #[arg(long, requires = "database_url")]
        fsync_database_url: Option<String>,
    },
    /// SIGKILL `notion-gate serve` under write load (the standalone emulator with upstream
    /// latency, concurrent writers through the proxy), restart it on the same data, repeat;
    /// then check the audit trail against what the emulator applied: every acknowledged
    /// write has an `ok` record, every applied write has a record, no record says done for a
    /// write that did not happen. Fails on a violation.
    Crash {
        /// Concurrent writers (one write at a time each: creates and updates in turn).
        #[arg(long, default_value_t = 8)]
        writers: usize,
        /// SIGKILLs.
        #[arg(long, default_value_t = 3)]
        kills: usize,
        /// Latency the emulator adds to every request, in milliseconds.
        #[arg(long, default_value_t = 80)]
        latency_ms: u64,
        /// Shortest load before a kill, in seconds.
        #[arg(long, default_value_t = 2.0)]
        min_secs: f64,
        /// Longest load before a kill, in seconds.
        #[arg(long, default_value_t = 5.0)]
        max_secs: f64,
        /// Load after the last restart, in seconds.
        #[arg(long, default_value_t = 3.0)]
        final_secs: f64,
        /// Pause between a kill and the restart, in milliseconds (the emulator finishes
        /// what was in flight).
        #[arg(long, default_value_t = 1000)]
        quiet_ms: u64,
        /// PostgreSQL instead of SQLite (a fresh, empty database).
        #[arg(long)]
        database_url: Option<String>,
        /// `serve --audit-durability`.
        #[arg(long, default_value = "process")]
        audit_durability: String,
        /// Seed of the kill times (default: the clock; printed).
        #[arg(long)]
        seed: Option<u64>,
        /// Folder holding the notion-gate and notion-emulator binaries (default: this
        /// binary's folder; build them with `cargo build --release -p notion-gate -p
        /// notion-emulator --bins`).
        #[arg(long)]
        bin_dir: Option<std::path::PathBuf>,
    },
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
        Bench::Load {
            clients,
            duration,
            bin_dir,
            serve,
        } => {
            load::run(load::Params {
                clients,
                duration,
                bin_dir,
                serve,
            })
            .await
        }
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
            bin_dir,
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
                let dir = match bin_dir {
                    Some(d) => d,
                    None => std::env::current_exe()?
                        .parent()
                        .context("this binary's folder")?
                        .to_path_buf(),
                };
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
        Bench::Console {
            events,
            agents,
            approvals,
            iterations,
            hold,
        } => {
            console::run(console::Params {
                events,
                agents,
                approvals,
                iterations,
                hold,
            })
            .await
        }
        Bench::Overhead {
            rate,
            secs,
            warmup,
            rounds,
            clients,
            client_secs,
            bin_dir,
            big_blocks,
        } => {
            overhead::run(overhead::Params {
                rate,
                secs,
                warmup,
                rounds,
                clients,
                client_secs,
                bin_dir,
                big_blocks,
            })
            .await
        }
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
        Bench::SharedRate {
            agents,
            reads,
            rate,
            burst,
        } => {
            shared_rate::run(shared_rate::Params {
                agents,
                reads,
                rate,
                burst,
            })
            .await
        }
        Bench::Faults {
            calls,
            fault_rate,
            seed,
        } => {
            faults::run(faults::Params {
                calls,
                fault_rate,
                seed,
            })
            .await
        }
        Bench::Scale {
            database_url,
            redis_url,
            agents,
            reads,
            rate,
            burst,
        } => {
            scale::run(scale::Params {
                database_url,
                redis_url,
                agents,
                reads,
                rate,
                burst,
            })
            .await
        }
        Bench::Passthrough { listen, upstream } => passthrough::run(listen, upstream).await,
        Bench::Durability {
            records,
            clients,
            per_client,
            writes,
            dir,
            database_url,
            fsync_database_url,
        } => {
            durability::run(durability::Params {
                records,
                clients,
                per_client,
                writes,
                dir,
                database_url,
                fsync_database_url,
            })
            .await
        }
        Bench::Crash {
            writers,
            kills,
            latency_ms,
            min_secs,
            max_secs,
            final_secs,
            quiet_ms,
            database_url,
            audit_durability,
            seed,
            bin_dir,
        } => {
            crash::run(crash::Params {
                writers,
                kills,
                latency_ms,
                min_secs,
                max_secs,
                final_secs,
                quiet_ms,
                database_url,
                audit_durability,
                seed,
                bin_dir,
            })
            .await
        }
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

async fn list_children(n: usize, rate: f64, burst: u32) -> Result<()> {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(rate, burst))
        .start()
        .await
        .context("start the emulator")?;
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
