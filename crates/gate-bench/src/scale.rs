//! `scale`: two gateway instances on one PostgreSQL database and one Redis, ten agents split
//! across them reading through the proxy, one Notion connection behind all of them, and the
//! emulator enforcing Notion's per-integration rate (3 requests/s, burst 10). Reports the
//! total time against the rate bound `(reads - burst) / rate` and the 429s the emulator
//! answered (the goal is zero). Then the same run with each instance on its own in-process
//! limiter (no Redis), to show what the shared budget prevents.
//!
//! Everything runs in this process: the emulator and both gateways (`gate_server::api::app`)
//! on loopback sockets. The database must be empty (a fresh one per run).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use gate_core::{Gate, GateConfig};
use gate_store::{Vault, VaultKey};
use notion_client::{ClientConfig, CoalesceConfig, LimiterConfig, RateLimiter};
use notion_emulator::Emulator;

use crate::shared_rate::{pass, rated_emulator, readers_on_one_connection, serve};

/// What to run.
#[derive(clap::Args)]
pub struct Params {
    /// PostgreSQL URL of an EMPTY database (both instances use it).
    #[arg(long, env = "NOTION_GATE_DATABASE_URL")]
    pub database_url: String,
    /// Redis URL of the shared limiter.
    #[arg(
        long,
        env = "NOTION_GATE_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Agents (one client each), alternating between the instances.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Page reads in all, split over the agents.
    #[arg(long, default_value_t = 200)]
    pub reads: usize,
    /// Requests per second (emulator and gateway limiter).
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// Burst (emulator and gateway limiter).
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
}

/// Starts one gateway instance; answers its base URL.
async fn instance(
    p: &Params,
    key: &VaultKey,
    emu: &Emulator,
    redis: bool,
) -> Result<(Gate, String)> {
    let store = gate_store::open(&p.database_url)
        .await
        .context("open the database")?;
    let vault = Arc::new(Vault::new(vec![key.clone()])?);
    let limiter = LimiterConfig::new(p.rate, p.burst).map_err(anyhow::Error::msg)?;
    let mut config = GateConfig::new(store, vault)
        .notion(
            ClientConfig::default()
                .base_url(emu.base_url())
                // Every read spends budget: this bench measures the limiter, not read
                // coalescing (`coalesce` does).
                .coalesce(CoalesceConfig::off()),
        )
        .limiter(limiter);
    if redis {
        let limiters = gate_redis::RedisLimiters::new(&p.redis_url, limiter)?;
        limiters.check().await.context("Redis does not answer")?;
        config = config.limiter_factory(Arc::new(move |id| {
            Arc::new(limiters.limiter(&id.to_string())) as Arc<dyn RateLimiter>
        }));
    }
    let gate = Gate::new(config)?;
    let base = serve(&gate, emu).await?;
    Ok((gate, base))
}

pub async fn run(p: Params) -> Result<()> {
    anyhow::ensure!(
        p.agents > 0 && p.reads > 0,
        "--agents and --reads must be positive"
    );
    let token = "ntn_scale_bench_token";
    let emu = rated_emulator(token, p.rate, p.burst).await?;
    let page = emu.demo_ids().root_page.clone();
    let (_, key) = VaultKey::generate();

    let (gate_a, base_a) = instance(&p, &key, &emu, true).await?;
    let (gate_b, base_b) = instance(&p, &key, &emu, true).await?;
    let keys = readers_on_one_connection(&gate_a, token, p.agents).await?;
    let refill = Duration::from_secs_f64(f64::from(p.burst) / p.rate + 1.0);
    tokio::time::sleep(refill).await;
    emu.handle().reset_counters();
    println!(
        "bench: {} reads of one page by {} agents on two instances (one PostgreSQL, one Redis) \
         sharing one connection through the proxy; emulator and gateway limiter at {} req/s, \
         burst {}",
        p.reads, p.agents, p.rate, p.burst
    );
    let (ok, limited, other, took) = pass(&[&base_a, &base_b], &keys, &page, p.reads).await;
    let at_notion = emu.handle().counters();
    gate_a.shutdown().await;
    gate_b.shutdown().await;

    // The control: two fresh instances on the same database, each with its own limiter.
    let (gate_c, base_c) = instance(&p, &key, &emu, false).await?;
    let (gate_d, base_d) = instance(&p, &key, &emu, false).await?;
    tokio::time::sleep(refill).await;
    emu.handle().reset_counters();
    let (c_ok, c_limited, c_other, c_took) = pass(&[&base_c, &base_d], &keys, &page, p.reads).await;
    let c_at_notion = emu.handle().counters();
    gate_c.shutdown().await;
    gate_d.shutdown().await;

    let limiter = LimiterConfig::new(p.rate, p.burst).map_err(anyhow::Error::msg)?;
    let effective_burst = f64::from(limiter.effective_burst());
    let bound = (p.reads as f64 - f64::from(p.burst)).max(0.0) / p.rate;
    let own_bound = (p.reads as f64 - effective_burst).max(0.0) / p.rate;
    println!();
    println!(
        "| limiter | reads | ok | 429 seen by agents | other errors | requests at Notion | 429 from Notion | time | rate bound (reads − burst)/rate | time / bound |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, ok, limited, other, at, took) in [
        (
            "Redis, shared by both instances",
            ok,
            limited,
            other,
            &at_notion,
            took,
        ),
        (
            "in-process, one per instance (control)",
            c_ok,
            c_limited,
            c_other,
            &c_at_notion,
            c_took,
        ),
    ] {
        println!(
            "| {name} | {} | {ok} | {limited} | {other} | {} | {} | {:.2} s | {bound:.2} s | {:.3} |",
            p.reads,
            at.total,
            at.rate_limited,
            took.as_secs_f64(),
            took.as_secs_f64() / bound,
        );
    }
    println!();
    println!(
        "The limiter keeps {} request(s) of the burst in reserve (headroom), so its own bound is \
         (reads − {effective_burst}) / rate = {own_bound:.2} s; time / that bound = {:.3}.",
        f64::from(p.burst) - effective_burst,
        took.as_secs_f64() / own_bound,
    );
    anyhow::ensure!(
        limited == 0 && other == 0 && at_notion.rate_limited == 0,
        "the Redis run saw 429s or errors"
    );
    Ok(())
}
