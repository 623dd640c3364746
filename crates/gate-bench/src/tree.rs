//! `gate-bench tree`: fetch a 1,000-block, 4-level page through `notion_client::tree` on the
//! emulator with added latency, in three regimes (3 req/s, 30 req/s, no limit), each against
//! its lower bound `max((min_requests − burst)/rate + latency, critical_path × latency)`;
//! then `notion-gate export --rate 0` of the same page, as a user runs it (a child process),
//! against the latency bound `critical_path × latency`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use notion_client::ids::BlockId;
use notion_client::limiter::Unlimited;
use notion_client::tree::{TreeOptions, fetch_tree};
use notion_client::{ClientConfig, LimiterConfig, Notion};
use notion_emulator::{Emulator, EmulatorHandle, RateLimit, Seed};
use serde_json::{Value, json};

/// One regime of the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Regime {
    /// Requests per second (client and emulator); `None`: no limit anywhere.
    pub rate: Option<f64>,
    /// Burst (client and emulator).
    pub burst: u32,
    /// Allowed ratio of time to bound.
    pub target: f64,
}

/// The three regimes of `docs/benchmarks.md`.
pub const REGIMES: [Regime; 3] = [
    Regime {
        rate: Some(3.0),
        burst: 10,
        target: 1.03,
    },
    Regime {
        rate: Some(30.0),
        burst: 10,
        target: 1.10,
    },
    Regime {
        rate: None,
        burst: 10,
        target: 1.5,
    },
];

fn text(kind: &str, content: &str) -> Value {
    json!({"type": kind, kind: {"rich_text": [{"type": "text", "text": {"content": content}}]}})
}

/// Builds the page through the emulator's store (no request budget spent): 150 top-level
/// blocks (two cursor pages), 30 toggles of 10 children, 60 of those with 5 children, 50 of
/// those with 5 children: 1,000 blocks on 4 levels, 142 list requests at least.
pub fn four_level_page(emu: &EmulatorHandle, parent: &str) -> Result<String> {
    let page = emu.create_page(parent, "Four levels")?;
    let level1: Vec<Value> = (0..150)
        .map(|i| {
            text(
                if i % 5 == 0 { "toggle" } else { "paragraph" },
                &format!("L1 {i}"),
            )
        })
        .collect();
    let l1 = emu.append_children(&page, level1)?;
    let mut l2_toggles = Vec::new();
    for (i, id) in l1.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let kids = (0..10)
            .map(|j| {
                text(
                    if j < 2 { "toggle" } else { "paragraph" },
                    &format!("L2 {i}.{j}"),
                )
            })
            .collect();
        l2_toggles.extend(emu.append_children(id, kids)?.into_iter().take(2));
    }
    let mut l3_toggles = Vec::new();
    for (k, id) in l2_toggles.iter().enumerate() {
        let kids = (0..5)
            .map(|j| {
                let kind = if j == 0 && k < 50 {
                    "toggle"
                } else {
                    "paragraph"
                };
                text(kind, &format!("L3 {k}.{j}"))
            })
            .collect();
        let ids = emu.append_children(id, kids)?;
        if k < 50 {
            l3_toggles.push(ids[0].clone());
        }
    }
    for (k, id) in l3_toggles.iter().enumerate() {
        let kids = (0..5)
            .map(|j| text("paragraph", &format!("L4 {k}.{j}")))
            .collect();
        emu.append_children(id, kids)?;
    }
    Ok(page)
}

/// The shape of a tree as the emulator stores it: blocks, the fewest list requests, and the
/// critical path in round trips.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// Blocks below the root.
    pub blocks: usize,
    /// One request per 100 children of the root and of every block with children.
    pub min_requests: u64,
    /// Round trips that must follow one another: the depth plus cursor pages.
    pub critical_path: u64,
}

fn descendable(emu: &EmulatorHandle, id: &str) -> bool {
    emu.get_object(id).is_some_and(|o| {
        o["object"] == "block"
            && !matches!(o["type"].as_str(), Some("child_page" | "child_database"))
    }) && !emu.child_ids(id).is_empty()
}

/// Measures the shape below `root` (page ids of 100 children: page `k` arrives after `k`
/// round trips, and a child listed on it starts its own chain then).
pub fn shape(emu: &EmulatorHandle, root: &str) -> Shape {
    fn walk(emu: &EmulatorHandle, id: &str, s: &mut Shape) -> u64 {
        let kids = emu.child_ids(id);
        let pages = kids.len().div_ceil(100).max(1) as u64;
        s.min_requests += pages;
        s.blocks += kids.len();
        let mut longest = pages;
        for (i, kid) in kids.iter().enumerate() {
            if descendable(emu, kid) {
                let page = (i / 100) as u64 + 1;
                longest = longest.max(page + walk(emu, kid, s));
            }
        }
        longest
    }
    let mut s = Shape::default();
    s.critical_path = walk(emu, root, &mut s);
    s
}

/// Runs every regime and prints a Markdown table.
pub async fn run(latency: Duration, regimes: &[Regime], concurrency_cap: usize) -> Result<()> {
    println!(
        "bench: fetch a 1,000-block 4-level page with notion_client::tree::fetch_tree, {} ms added latency",
        latency.as_millis()
    );
    println!(
        "| regime | concurrency | blocks | requests (min) | 429s at emulator | time | bound | time/bound | target | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for regime in regimes {
        run_one(latency, *regime, concurrency_cap).await?;
    }
    Ok(())
}

async fn run_one(latency: Duration, regime: Regime, concurrency_cap: usize) -> Result<()> {
    let mut builder = Emulator::builder().seed(Seed::Demo).latency(latency);
    if let Some(rate) = regime.rate {
        builder = builder.rate_limit(RateLimit::per_second(rate, regime.burst));
    }
    let emu = builder.start().await.context("start the emulator")?;
    let root_page = emu.demo_ids().root_page.clone();
    let page = four_level_page(&emu, &root_page)?;
    let shape = shape(&emu, &page);
    emu.reset_counters();

    let mut config = ClientConfig::default().base_url(emu.base_url());
    if let Some(rate) = regime.rate {
        config =
            config.limiter(LimiterConfig::new(rate, regime.burst).map_err(anyhow::Error::msg)?);
    }
    let notion = Notion::new(config)?;
    let conn = match regime.rate {
        Some(_) => notion.connection("bench".to_owned().into()),
        None => notion.connection_with_limiter(
            "bench".to_owned().into(),
            std::sync::Arc::new(Unlimited::default()),
        ),
    };
    let concurrency = TreeOptions::concurrency_for(regime.rate, latency, concurrency_cap);
    let options = TreeOptions::new().concurrency(concurrency);
    let id = BlockId::parse(&page)?;

    let start = Instant::now();
    let tree = fetch_tree(&conn, &id, &options).await;
    let secs = start.elapsed().as_secs_f64();
    if let Some(e) = &tree.error {
        anyhow::bail!("the fetch failed: {e}");
    }
    ensure!(tree.is_complete(), "the tree is incomplete");
    ensure!(
        tree.len() == shape.blocks,
        "fetched {} of {} blocks",
        tree.len(),
        shape.blocks
    );
    let counters = emu.counters();
    let lat = latency.as_secs_f64();
    let path_bound = shape.critical_path as f64 * lat;
    let (label, bound) = match regime.rate {
        Some(rate) => {
            let rate_bound =
                (shape.min_requests as f64 - f64::from(regime.burst)).max(0.0) / rate + lat;
            (
                format!("{rate} req/s, burst {}", regime.burst),
                rate_bound.max(path_bound),
            )
        }
        None => ("no rate limit".to_owned(), path_bound),
    };
    let ratio = secs / bound;
    let exact = counters.total == shape.min_requests;
    let zero_429 = counters.rate_limited == 0;
    let ok = ratio <= regime.target && exact && (regime.rate.is_none() || zero_429);
    println!(
        "| {label} | {concurrency} | {} | {} ({}) | {} | {secs:.3} s | {bound:.3} s | {ratio:.3} | ≤ {:.2} | {} |",
        tree.len(),
        counters.total,
        shape.min_requests,
        counters.rate_limited,
        regime.target,
        if ok { "met" } else { "missed" }
    );
    eprintln!(
        "  {label}: critical path {} round trips, client limiter waits {:.2} s, retries {}",
        shape.critical_path,
        tree.stats.limiter_wait.as_secs_f64(),
        tree.stats.retries
    );
    emu.shutdown().await;
    Ok(())
}

/// Times `notion-gate export PAGE --rate 0` (the binary in `bin_dir`) against an emulator
/// without a rate limit and with `latency`, and prints one row of the table of [`run`].
pub async fn run_export(latency: Duration, bin_dir: &std::path::Path) -> Result<()> {
    let bin = bin_dir.join("notion-gate");
    ensure!(
        bin.exists(),
        "{} not found: build it first (cargo build --release -p notion-gate --bins)",
        bin.display()
    );
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .latency(latency)
        .start()
        .await
        .context("start the emulator")?;
    let root_page = emu.demo_ids().root_page.clone();
    let page = four_level_page(&emu, &root_page)?;
    let shape = shape(&emu, &page);
    let out = tempfile::NamedTempFile::new()?;
    let mut runs = Vec::new();
    for _ in 0..5 {
        emu.reset_counters();
        let start = Instant::now();
        let mut command = crate::overhead::clean_command(&bin);
        command
            .args(["export", &page, "--rate", "0", "--format", "json", "--out"])
            .arg(out.path())
            .args(["--notion-url", emu.base_url().trim_end_matches('/')])
            .env("NOTION_GATE_NOTION_TOKEN", "bench")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // Waited for off the runtime, whose workers serve the emulator meanwhile.
        let status = tokio::task::spawn_blocking(move || command.status())
            .await?
            .context("run notion-gate export")?;
        let secs = start.elapsed().as_secs_f64();
        ensure!(status.success(), "notion-gate export failed: {status}");
        runs.push((secs, emu.counters().total));
    }
    let exported: Value = serde_json::from_slice(&std::fs::read(out.path())?)?;
    ensure!(exported.is_object(), "the export is not a JSON object");
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (secs, requests) = runs[runs.len() / 2];
    let bound = shape.critical_path as f64 * latency.as_secs_f64();
    let ratio = secs / bound;
    println!(
        "| `notion-gate export --rate 0` (process, median of 5) | default | {} | {requests} ({} + the page) | 0 | {secs:.3} s | {bound:.3} s | {ratio:.3} | ≤ 1.50 | {} |",
        shape.blocks,
        shape.min_requests,
        if ratio <= 1.5 { "met" } else { "missed" }
    );
    eprintln!(
        "  export: runs {:?} s",
        runs.iter()
            .map(|r| (r.0 * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    emu.shutdown().await;
    Ok(())
}
