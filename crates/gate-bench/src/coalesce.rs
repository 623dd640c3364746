//! `coalesce`: ten agents read through the gateway's proxy on one Notion connection at
//! Notion's rate (3 requests/s, burst 10) with 80 ms of latency, each agent fifteen reads one
//! after the other, all agents at once.
//!
//! * **One page**: every agent reads the same page. With read coalescing, identical reads
//!   waiting together for the connection's limiter (or in flight, with no write since) share
//!   one request; without it (the baseline, as before) each read is a request.
//! * **Twenty pages**: agent `i` reads pages `2i` and `2i + 1` in turn, so no two reads in
//!   flight are identical: coalescing has nothing to share and must cost nothing.
//!
//! Each run gets a fresh emulator and gateway (`gate_server::api::app` in this process over a
//! scratch SQLite store). Reported: reads, the answers the agents got, requests that reached
//! Notion, 429s (seen by agents, answered by Notion) and the wall time.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use gate_core::{Gate, GateConfig};
use notion_client::{ClientConfig, CoalesceConfig, LimiterConfig};

use crate::shared_rate::{
    rated_emulator, read_all, readers_on_one_connection, scratch_store, serve,
};

/// What to run.
pub struct Params {
    pub agents: usize,
    pub reads: usize,
    pub rate: f64,
    pub burst: u32,
    pub latency: Duration,
    pub baseline: bool,
}

/// The done-when figures (issue "reads that spend less").
const TARGET_MAX_REQUESTS: u64 = 40;
const TARGET_TIME_FRACTION: f64 = 1.0 / 3.0;

/// One run's figures.
struct Run {
    reads: usize,
    ok: usize,
    limited: usize,
    other: usize,
    at_notion: u64,
    notion_429: u64,
    took: Duration,
}

/// One run: a fresh emulator and gateway, `agents` agents, agent `i` reading
/// `pages_of(i, k)` for its k-th read.
async fn one_run(
    p: &Params,
    coalesce: bool,
    distinct_pages: usize,
    pages_of: impl Fn(usize, usize) -> usize,
) -> Result<Run> {
    let token = "ntn_coalesce_bench_token";
    let emu = rated_emulator(token, p.rate, p.burst).await?;
    let root = emu.demo_ids().root_page.clone();
    let pages: Vec<String> = if distinct_pages <= 1 {
        vec![root]
    } else {
        (0..distinct_pages)
            .map(|i| emu.create_page(&root, &format!("page {i}")))
            .collect::<Result<_, _>>()?
    };
    let dir = tempfile::tempdir()?;
    let (store, vault) = scratch_store(dir.path()).await?;
    let limiter = LimiterConfig::new(p.rate, p.burst).map_err(anyhow::Error::msg)?;
    let coalescing = if coalesce {
        CoalesceConfig::default()
    } else {
        CoalesceConfig::off()
    };
    let gate = Gate::new(
        GateConfig::new(store, vault)
            .notion(
                ClientConfig::default()
                    .base_url(emu.base_url())
                    .coalesce(coalescing),
            )
            .limiter(limiter),
    )?;
    let keys = readers_on_one_connection(&gate, token, p.agents).await?;
    let base = serve(&gate, &emu).await?;
    // Start from a full bucket (the connection check spent a request), then add latency.
    tokio::time::sleep(Duration::from_secs_f64(f64::from(p.burst) / p.rate + 1.0)).await;
    emu.handle().set_latency(p.latency);
    emu.handle().reset_counters();

    let t0 = Instant::now();
    let clients = keys.into_iter().enumerate().map(|(i, key)| {
        let urls = (0..p.reads)
            .map(|k| format!("{base}/v1/pages/{}", pages[pages_of(i, k) % pages.len()]))
            .collect();
        (key, urls)
    });
    let (ok, limited, other) = read_all(clients).await?;
    let took = t0.elapsed();
    let c = emu.handle().counters();
    gate.shutdown().await;
    emu.shutdown().await;
    Ok(Run {
        reads: p.agents * p.reads,
        ok,
        limited,
        other,
        at_notion: c.route("GET /v1/pages/{id}"),
        notion_429: c.rate_limited,
        took,
    })
}

fn row(label: &str, coalescing: bool, r: &Run) {
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {:.2} s |",
        if coalescing { "on" } else { "off" },
        r.reads,
        r.ok,
        r.limited,
        r.other,
        r.at_notion,
        r.notion_429,
        r.took.as_secs_f64()
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

pub async fn run(p: Params) -> Result<()> {
    ensure!(
        p.agents > 0 && p.reads > 0,
        "--agents and --reads must be positive"
    );
    println!(
        "bench: {} agents × {} reads through the proxy on one connection; emulator and gateway \
         limiter at {} req/s, burst {}; {} ms latency per request",
        p.agents,
        p.reads,
        p.rate,
        p.burst,
        p.latency.as_millis()
    );
    let same = |_: usize, _: usize| 0;
    let distinct = |i: usize, k: usize| 2 * i + k % 2;
    let pages = 2 * p.agents;
    eprintln!("one page, coalescing on");
    let one_on = one_run(&p, true, 1, same).await?;
    let one_off = if p.baseline {
        eprintln!("one page, coalescing off");
        Some(one_run(&p, false, 1, same).await?)
    } else {
        None
    };
    eprintln!("{pages} pages, coalescing on");
    let many_on = one_run(&p, true, pages, distinct).await?;
    let many_off = if p.baseline {
        eprintln!("{pages} pages, coalescing off");
        Some(one_run(&p, false, pages, distinct).await?)
    } else {
        None
    };

    println!();
    println!(
        "| reads of | coalescing | reads | ok | 429 seen by agents | other errors | requests at Notion | 429 from Notion | wall time |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    row("one page", true, &one_on);
    if let Some(r) = &one_off {
        row("one page", false, r);
    }
    row(&format!("{pages} pages"), true, &many_on);
    if let Some(r) = &many_off {
        row(&format!("{pages} pages"), false, r);
    }
    println!();
    println!("| goal | figure | target | verdict |");
    println!("|---|---|---|---|");
    println!(
        "| one page: requests at Notion | {} | ≤ {TARGET_MAX_REQUESTS} | {} |",
        one_on.at_notion,
        verdict(one_on.at_notion <= TARGET_MAX_REQUESTS)
    );
    let clean = one_on.ok == one_on.reads && one_on.limited == 0 && one_on.notion_429 == 0;
    println!(
        "| one page: every read ok, no 429 | {} ok, {} + {} 429s | all ok, 0 | {} |",
        one_on.ok,
        one_on.limited,
        one_on.notion_429,
        verdict(clean)
    );
    if let Some(off) = &one_off {
        let fraction = one_on.took.as_secs_f64() / off.took.as_secs_f64();
        println!(
            "| one page: wall time on / off | {fraction:.3} | ≤ {TARGET_TIME_FRACTION:.3} | {} |",
            verdict(fraction <= TARGET_TIME_FRACTION)
        );
    }
    if let Some(off) = &many_off {
        println!(
            "| {pages} pages: requests on / off | {} / {} | equal (nothing to share) | {} |",
            many_on.at_notion,
            off.at_notion,
            verdict(many_on.at_notion == off.at_notion)
        );
        println!(
            "| {pages} pages: wall time on / off | {:.3} | ≈ 1 | (within noise) |",
            many_on.took.as_secs_f64() / off.took.as_secs_f64()
        );
    }
    ensure!(
        one_on.other == 0 && many_on.other == 0,
        "reads failed with errors other than 429"
    );
    Ok(())
}
