//! `gate-bench durability`: what making an audit record durable costs at each
//! `--audit-durability` level (`process`: a `write(2)` to SQLite's spool; `fsync`: the same
//! and an `fdatasync`, group-committed), and what a write's intent adds to the write: the
//! intent is made durable on the call's path before the write is sent, so its
//! `record_intent_durable` latency is exactly what it adds.
//!
//! For each level, on a fresh store (a SQLite file in `--dir`, or `--database-url`):
//! sequential durable records (latency p50/p99 and records/s), the same under `--clients`
//! concurrent callers (group commit: records/s and p50), sequential intents (p50: the
//! intent's added latency for a write), and end to end: a proxied page update through
//! `Gate::call` on the in-process emulator (p50 of the whole write, intent and record
//! included).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gate_core::{Gate, GateConfig, NotionRequest, Surface};
use gate_store::{
    AuditCall, AuditDecision, AuditDurability, AuditIntent, AuditRecord, AuditWriter,
    AuditWriterConfig, CallerKind, Outcome, StoreOptions, Vault, VaultKey,
};
use notion_client::{ClientConfig, LimiterConfig};
use notion_emulator::{Emulator, Seed};
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::overhead::{ms, pct};

/// Parameters of the run.
#[derive(clap::Args)]
pub struct Params {
    /// Sequential records and intents per level.
    #[arg(long, default_value_t = 2000)]
    pub records: usize,
    /// Concurrent callers.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Records per concurrent caller.
    #[arg(long, default_value_t = 200)]
    pub per_client: usize,
    /// Proxied writes end to end per level.
    #[arg(long, default_value_t = 1000)]
    pub writes: usize,
    /// Folder for the SQLite files (on a disk: fsync on tmpfs costs nothing).
    #[arg(long, default_value = "/var/tmp")]
    pub dir: PathBuf,
    /// Measure on PostgreSQL instead (a fresh, empty database).
    #[arg(long)]
    pub database_url: Option<String>,
    /// With --database-url: a second fresh, empty database for the `fsync` level (else
    /// its end-to-end write is skipped).
    #[arg(long, requires = "database_url")]
    pub fsync_database_url: Option<String>,
}

/// The write `i` that a record and an intent of the benchmark describe.
fn call(i: usize) -> AuditCall {
    AuditCall::new(
        format!("bench-{i}"),
        CallerKind::Agent,
        Surface::Proxy,
        "pages.update",
    )
    .action_class("update")
    .targets([format!("page-{i}")])
}

fn record(i: usize) -> AuditRecord {
    AuditRecord::new(call(i), AuditDecision::Allow, Outcome::Ok).duration_ms(3)
}

fn intent(i: usize) -> AuditIntent {
    AuditIntent::new(call(i), "0".repeat(64), gate_store::intent_owner())
        .markers(json!({"method": "PATCH", "path": format!("/v1/pages/page-{i}")}))
}

struct Row {
    level: AuditDurability,
    seq_p50: Duration,
    seq_p99: Duration,
    seq_rate: f64,
    conc_p50: Duration,
    conc_rate: f64,
    intent_p50: Duration,
    /// End to end (p50, p99); `None` on a database used before.
    write: Option<(Duration, Duration)>,
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

pub async fn run(p: Params) -> Result<()> {
    let backend = crate::backend_name(p.database_url.as_deref());
    println!(
        "bench: audit durability on {backend}: {} sequential records and intents, {} clients × {} records, {} proxied writes, per level",
        p.records, p.clients, p.per_client, p.writes
    );
    let mut rows = Vec::new();
    for level in [AuditDurability::Process, AuditDurability::Fsync] {
        let tmp = tempfile::tempdir_in(&p.dir).context("a folder for the database")?;
        let pg = match level {
            AuditDurability::Fsync => p.fsync_database_url.clone().or(p.database_url.clone()),
            _ => p.database_url.clone(),
        };
        let url =
            pg.unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
        let store = gate_store::open_with(&url, StoreOptions::default().audit_durability(level))
            .await
            .context("open the store")?;
        let writer = AuditWriter::spawn(Arc::clone(&store), AuditWriterConfig::default());

        // Sequential records.
        let mut lat = Vec::with_capacity(p.records);
        let start = Instant::now();
        for i in 0..p.records {
            let t = Instant::now();
            writer.record_durable(record(i)).await?;
            lat.push(t.elapsed());
        }
        let seq_rate = p.records as f64 / start.elapsed().as_secs_f64();
        let lat = sorted(lat);
        let (seq_p50, seq_p99) = (pct(&lat, 0.5), pct(&lat, 0.99));

        // Concurrent callers: one sync covers every record appended meanwhile.
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..p.clients {
            let w = writer.clone();
            let n = p.per_client;
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(n);
                for i in 0..n {
                    let t = Instant::now();
                    w.record_durable(record(1_000_000 + c * n + i)).await?;
                    lat.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let conc_rate = all.len() as f64 / start.elapsed().as_secs_f64();
        let conc_p50 = pct(&sorted(all), 0.5);

        // Sequential intents: what one adds to a write.
        let mut lat = Vec::with_capacity(p.records);
        for i in 0..p.records {
            let t = Instant::now();
            writer.record_intent_durable(intent(i)).await?;
            lat.push(t.elapsed());
        }
        let intent_p50 = pct(&sorted(lat), 0.5);
        writer.shutdown().await;
        store.close().await;

        let write = end_to_end(&url, level, p.writes).await?;
        rows.push(Row {
            level,
            seq_p50,
            seq_p99,
            seq_rate,
            conc_p50,
            conc_rate,
            intent_p50,
            write,
        });
    }
    println!(
        "| level | record p50 (sequential) | p99 | records/s (sequential) | records/s ({} clients) | p50 ({} clients) | intent p50 (added to a write) | proxied write p50 | p99 |",
        p.clients, p.clients
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let (w50, w99) = match r.write {
            Some((a, b)) => (format!("{:.3} ms", ms(a)), format!("{:.3} ms", ms(b))),
            None => ("—".to_owned(), "—".to_owned()),
        };
        println!(
            "| {} | {:.3} ms | {:.3} ms | {:.0} | {:.0} | {:.3} ms | {:.3} ms | {w50} | {w99} |",
            r.level,
            ms(r.seq_p50),
            ms(r.seq_p99),
            r.seq_rate,
            r.conc_rate,
            ms(r.conc_p50),
            ms(r.intent_p50),
        );
    }
    if let [a, b] = rows.as_slice() {
        println!(
            "\nfsync adds {:.3} ms to a sequential record's p50; the intent adds {:.3} ms (process) / {:.3} ms (fsync) to a write's p50.",
            ms(b.seq_p50.saturating_sub(a.seq_p50)),
            ms(a.intent_p50),
            ms(b.intent_p50)
        );
        if let (Some(x), Some(y)) = (a.write, b.write) {
            println!(
                "fsync adds {:.3} ms to a proxied write's p50 (intent and record both synced).",
                ms(y.0.saturating_sub(x.0))
            );
        }
    }
    Ok(())
}

/// Proxied page updates through `Gate::call` on the emulator: p50 and p99 of the write.
async fn end_to_end(
    url: &str,
    level: AuditDurability,
    writes: usize,
) -> Result<Option<(Duration, Duration)>> {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .context("start the emulator")?;
    let page = emu.demo_ids().grandchild_page.clone();
    let store = gate_store::open_with(url, StoreOptions::default().audit_durability(level))
        .await
        .context("open the store")?;
    let (_, key) = VaultKey::generate();
    let vault = Arc::new(Vault::new(vec![key])?);
    let gate = Gate::new(
        GateConfig::new(Arc::clone(&store), vault)
            .notion(ClientConfig::default().base_url(emu.base_url()))
            .limiter(LimiterConfig::new(1e6, 1_000_000).map_err(anyhow::Error::msg)?),
    )?;
    let name = format!("bench-{}", uuid_like());
    let Ok((_, admin_key)) = gate.bootstrap_admin(&name).await else {
        // A database used before (PostgreSQL's second level): an administrator exists.
        gate.shutdown().await;
        store.close().await;
        emu.shutdown().await;
        return Ok(None);
    };
    let admin = gate.authenticate(admin_key.key.expose_secret()).await?;
    gate.add_token_connection(&admin, None, "ntn_bench_token_0123456789".to_owned().into())
        .await?;
    let admin = gate.authenticate(admin_key.key.expose_secret()).await?;
    let mut lat = Vec::with_capacity(writes);
    for i in 0..writes + 50 {
        let req = NotionRequest::patch(
            format!("/v1/pages/{page}"),
            json!({"icon": {"type": "emoji", "emoji": if i % 2 == 0 { "🚀" } else { "📝" }}}),
        );
        let t = Instant::now();
        let resp = gate.call(&admin, Surface::Proxy, req).await?;
        let d = t.elapsed();
        anyhow::ensure!(resp.is_success(), "a write failed: {}", resp.status);
        if i >= 50 {
            lat.push(d);
        }
    }
    gate.shutdown().await;
    store.close().await;
    emu.shutdown().await;
    let lat = sorted(lat);
    Ok(Some((pct(&lat, 0.5), pct(&lat, 0.99))))
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
