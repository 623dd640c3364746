//! `shared-rate`: ten agents share one Notion connection through the gateway's proxy while the
//! emulator enforces Notion's per-integration rate (3 requests/s, burst 10). Reports the total
//! time for all reads against the rate bound `(reads - burst) / rate`, and the 429s Notion
//! answered (the goal is zero). Then the same clients go to the emulator directly with the
//! token and no gateway, as separate SDKs would, to show the 429s the gateway spares them.
//!
//! Everything runs in this process: the emulator on a loopback socket and the real gateway
//! (`gate_server::api::app` over a scratch SQLite store) on another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gate_core::{Gate, GateConfig, NewAgentSpec};
use gate_server::{AppState, Application, ServerOptions, ServerSettings};
use gate_store::{Vault, VaultKey};
use notion_client::{ClientConfig, CoalesceConfig, LimiterConfig};
use notion_emulator::{Emulator, RateLimit, Seed};
use secrecy::{ExposeSecret, SecretString};

/// What to run.
#[derive(clap::Args)]
pub struct Params {
    /// Agents (one client each).
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Page reads in all, split over the agents.
    #[arg(long, default_value_t = 500)]
    pub reads: usize,
    /// Requests per second (emulator and gateway limiter).
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// Burst (emulator and gateway limiter).
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
}

/// The emulator with the demo workspace, accepting only `token`, at `rate` requests/s with
/// `burst`, as Notion limits one integration.
pub(crate) async fn rated_emulator(token: &str, rate: f64, burst: u32) -> Result<Emulator> {
    Emulator::builder()
        .seed(Seed::Demo)
        .tokens([token])
        .rate_limit(RateLimit::per_second(rate, burst))
        .start()
        .await
        .context("start the emulator")
}

/// A SQLite store in `dir` and a vault with a fresh key, for a bench's own gateway.
pub(crate) async fn scratch_store(
    dir: &std::path::Path,
) -> Result<(Arc<dyn gate_store::Store>, Arc<Vault>)> {
    let store = gate_store::open(&format!("sqlite://{}", dir.join("gate.db").display()))
        .await
        .context("open the store")?;
    let (_, key) = VaultKey::generate();
    let vault = Arc::new(Vault::new(vec![key]).context("vault")?);
    Ok((store, vault))
}

/// Serves `gate` (the real `gate_server::api::app`) on a free loopback port; answers its base
/// URL.
pub(crate) async fn serve(gate: &Gate, emu: &Emulator) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(
        gate.clone(),
        ServerSettings::new(base.clone(), emu.base_url()),
    );
    let app = Application::build(
        listener,
        gate_server::api::app(state, &ServerOptions::default()),
    )?;
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok(base)
}

/// On an empty store: the first administrator, a token connection with `token`, and `agents`
/// intern agents on it; answers the agents' keys.
pub(crate) async fn readers_on_one_connection(
    gate: &Gate,
    token: &str,
    agents: usize,
) -> Result<Vec<String>> {
    let (_, admin_key) = gate
        .bootstrap_admin("admin")
        .await
        .context("bootstrap (is the database empty?)")?;
    let admin_key = admin_key.key.expose_secret().to_owned();
    let admin = gate.authenticate(&admin_key).await?;
    gate.add_token_connection(&admin, None, SecretString::from(token.to_owned()))
        .await?;
    // A fresh caller, so that the new connection is the admin's default.
    let admin = gate.authenticate(&admin_key).await?;
    let mut keys = Vec::new();
    for i in 0..agents {
        let agent = gate
            .create_agent(&admin, NewAgentSpec::new(format!("reader-{i}"), "intern"))
            .await?;
        let k = gate.issue_agent_key(&admin, agent.id, None).await?;
        keys.push(k.key.expose_secret().to_owned());
    }
    Ok(keys)
}

/// One pass of `reads` page reads (`GET /v1/pages/{page}`) split over `tokens` clients, client
/// i on `bases[i % bases.len()]` (each client reads its share one after the other, all
/// clients at once). Returns (ok, 429, other errors, elapsed).
pub(crate) async fn pass(
    bases: &[&str],
    tokens: &[String],
    page: &str,
    reads: usize,
) -> (usize, usize, usize, Duration) {
    let t0 = Instant::now();
    let clients = tokens.iter().enumerate().map(|(i, token)| {
        // Spread the remainder over the first clients.
        let share = reads / tokens.len() + usize::from(i < reads % tokens.len());
        let url = format!("{}/v1/pages/{page}", bases[i % bases.len()]);
        (token.clone(), vec![url; share])
    });
    let (ok, limited, other) = read_all(clients).await.expect("client task");
    (ok, limited, other, t0.elapsed())
}

/// Page reads tallied: (ok, 429, other errors).
pub(crate) type Tally = (usize, usize, usize);

/// One client per `(token, urls)`, all at once, each reading its URLs one after the other
/// (`GET` with the token); the sum of their tallies.
pub(crate) async fn read_all(
    clients: impl IntoIterator<Item = (String, Vec<String>)>,
) -> Result<Tally, tokio::task::JoinError> {
    let mut tasks = tokio::task::JoinSet::new();
    for (token, urls) in clients {
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            let (mut ok, mut limited, mut other) = (0, 0, 0);
            for url in urls {
                match http
                    .get(&url)
                    .bearer_auth(&token)
                    .header("Notion-Version", "2025-09-03")
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok += 1;
                    }
                    Ok(r) if r.status().as_u16() == 429 => limited += 1,
                    _ => other += 1,
                }
            }
            (ok, limited, other)
        });
    }
    let (mut ok, mut limited, mut other) = (0, 0, 0);
    while let Some(r) = tasks.join_next().await {
        let (o, l, e) = r?;
        ok += o;
        limited += l;
        other += e;
    }
    Ok((ok, limited, other))
}

pub async fn run(p: Params) -> Result<()> {
    anyhow::ensure!(
        p.agents > 0 && p.reads > 0,
        "--agents and --reads must be positive"
    );
    let token = "ntn_shared_rate_bench_token";
    let emu = rated_emulator(token, p.rate, p.burst).await?;
    let page = emu.demo_ids().root_page.clone();

    let dir = tempfile::tempdir()?;
    let (store, vault) = scratch_store(dir.path()).await?;
    let limiter = LimiterConfig::new(p.rate, p.burst).map_err(anyhow::Error::msg)?;
    let gate = Gate::new(
        GateConfig::new(store, vault)
            .notion(
                ClientConfig::default()
                    .base_url(emu.base_url())
                    // Every read spends budget: this bench measures the limiter, not read
                    // coalescing (`coalesce` does).
                    .coalesce(CoalesceConfig::off()),
            )
            .limiter(limiter),
    )?;
    let keys = readers_on_one_connection(&gate, token, p.agents).await?;
    let base = serve(&gate, &emu).await?;

    // Start from a full bucket at the emulator (the connection check above spent a request).
    tokio::time::sleep(Duration::from_secs_f64(f64::from(p.burst) / p.rate + 1.0)).await;
    emu.handle().reset_counters();
    println!(
        "bench: {} reads of one page by {} agents sharing one connection through the proxy; \
         emulator and gateway limiter at {} req/s, burst {}",
        p.reads, p.agents, p.rate, p.burst
    );
    let (ok, limited, other, took) = pass(&[&base], &keys, &page, p.reads).await;
    let at_notion = emu.handle().counters();
    let effective_burst = limiter.effective_burst() as f64;
    let bound = (p.reads as f64 - f64::from(p.burst)).max(0.0) / p.rate;
    let own_bound = (p.reads as f64 - effective_burst).max(0.0) / p.rate;

    // The same clients straight at the emulator, with the connection's token.
    tokio::time::sleep(Duration::from_secs_f64(f64::from(p.burst) / p.rate + 1.0)).await;
    emu.handle().reset_counters();
    let direct_tokens = vec![token.to_owned(); p.agents];
    let (d_ok, d_limited, d_other, d_took) =
        pass(&[&emu.base_url()], &direct_tokens, &page, p.reads).await;
    let d_at_notion = emu.handle().counters();

    println!();
    println!(
        "| path | reads | ok | 429 seen by agents | other errors | requests at Notion | 429 from Notion | time | rate bound (reads − burst)/rate | time / bound |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| proxy (10 agents, one connection) | {} | {ok} | {limited} | {other} | {} | {} | {:.2} s | {bound:.2} s | {:.3} |",
        p.reads,
        at_notion.total,
        at_notion.rate_limited,
        took.as_secs_f64(),
        took.as_secs_f64() / bound,
    );
    println!(
        "| direct (10 clients, same token, no retry) | {} | {d_ok} | {d_limited} | {d_other} | {} | {} | {:.2} s | — | — |",
        p.reads,
        d_at_notion.total,
        d_at_notion.rate_limited,
        d_took.as_secs_f64(),
    );
    println!();
    println!(
        "The gateway keeps {} request(s) of the burst in reserve (headroom), so its own bound is \
         (reads − {effective_burst}) / rate = {own_bound:.2} s; time / that bound = {:.3}.",
        p.burst as f64 - effective_burst,
        took.as_secs_f64() / own_bound,
    );
    anyhow::ensure!(
        limited == 0 && other == 0 && at_notion.rate_limited == 0,
        "the proxy run saw 429s or errors"
    );
    Ok(())
}
