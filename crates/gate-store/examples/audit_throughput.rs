//! Benchmark (not a test): audit write throughput through `AuditWriter`, in events per
//! second, on SQLite (a temp file) and, when `--pg URL` or `TEST_DATABASE_URL` is given, on
//! PostgreSQL (in a scratch schema that is dropped afterwards).
//!
//! ```text
//! cargo run --release -p gate-store --example audit_throughput -- [--events N] [--producers P] [--batch B] [--pg URL]
//! ```
//!
//! The clock runs from the first `record` until `shutdown()` returns, i.e. until every
//! event is committed.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gate_store::{
    AgentId, AuditCall, AuditDecision, AuditQuery, AuditRecord, AuditWriter, AuditWriterConfig,
    CallerKind, Outcome, Store, Surface, UserId,
};
use sqlx::Connection as _;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

struct Args {
    events: usize,
    producers: usize,
    batch: usize,
    pg: Option<String>,
}

fn parse_args() -> BoxResult<Args> {
    let mut args = Args {
        events: 100_000,
        producers: 4,
        batch: 500,
        pg: std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--events" => args.events = value()?.parse()?,
            "--producers" => args.producers = value()?.parse::<usize>()?.max(1),
            "--batch" => args.batch = value()?.parse::<usize>()?.max(1),
            "--pg" => args.pg = Some(value()?),
            "-h" | "--help" => {
                println!("audit_throughput [--events N] [--producers P] [--batch B] [--pg URL]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(args)
}

fn event(i: usize, agent: AgentId, user: UserId) -> AuditRecord {
    let call = AuditCall::new(
        format!("req-{i:08}"),
        CallerKind::Agent,
        Surface::Rest,
        "pages.retrieve",
    )
    .agent(agent)
    .user(user)
    .action_class("read")
    .targets([format!("0f3c1a2b-4d5e-6f70-8192-a3b4c5d6e7{:02x}", i % 256)]);
    AuditRecord::new(call, AuditDecision::Allow, Outcome::Ok)
        .upstream_status(200)
        .duration_ms(42)
        .args_summary(serde_json::json!({"page_size": 100}))
}

/// Writes `args.events` events through a writer and returns (events/s, elapsed, batches).
async fn run(store: Arc<dyn Store>, args: &Args) -> BoxResult<(f64, Duration, u64)> {
    let writer = AuditWriter::spawn(
        Arc::clone(&store),
        AuditWriterConfig::new().batch_size(args.batch),
    );
    let (agent, user) = (AgentId::new(), UserId::new());
    let start = Instant::now();
    let mut producers = Vec::new();
    for p in 0..args.producers {
        let w = writer.clone();
        let (n, step) = (args.events, args.producers);
        producers.push(tokio::spawn(async move {
            for i in (p..n).step_by(step) {
                if w.record(event(i, agent, user)).await.is_err() {
                    return Err("writer closed early");
                }
            }
            Ok(())
        }));
    }
    for p in producers {
        p.await??;
    }
    let stats = writer.shutdown().await;
    let elapsed = start.elapsed();
    let stored = store.count_audit(&AuditQuery::new()).await?;
    if stats.written != args.events as u64 || stored != args.events as u64 {
        return Err(format!(
            "wrote {} / stored {stored} of {} events",
            stats.written, args.events
        )
        .into());
    }
    Ok((
        args.events as f64 / elapsed.as_secs_f64(),
        elapsed,
        stats.batches,
    ))
}

fn report(name: &str, args: &Args, (rate, elapsed, batches): (f64, Duration, u64)) {
    println!(
        "{name:<10} {:>8} events  {:>3} producers  batch {:>4}  {:>8.2} s  {:>6} batches  {:>10.0} events/s",
        args.events,
        args.producers,
        args.batch,
        elapsed.as_secs_f64(),
        batches,
        rate
    );
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let args = parse_args()?;

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = gate_store::open(&url).await?;
    let sqlite = run(Arc::clone(&store), &args).await?;
    store.close().await;
    report("sqlite", &args, sqlite);

    match &args.pg {
        Some(base) => {
            let schema = format!("gs_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(base).await?;
            sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
                .execute(&mut admin)
                .await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            let result = async {
                let store =
                    gate_store::open(&format!("{base}{sep}options[search_path]={schema}")).await?;
                let r = run(Arc::clone(&store), &args).await;
                store.close().await;
                r
            }
            .await;
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&mut admin)
                .await?;
            report("postgres", &args, result?);
        }
        None => println!("postgres   skipped (no --pg URL and TEST_DATABASE_URL unset)"),
    }
    Ok(())
}
