//! `gate-bench console`: the web console's pages under the load the design asks for: a
//! SQLite store holding 100,000 audit events, 1,000 agents, 3 connections and 40 pending
//! approvals; the real server (in process, port 0) against the emulator. Each page is fetched
//! `--iterations` times one after the other by a signed-in browser-like client on loopback;
//! p50 and p95 of the whole answer (server time plus loopback) are reported per page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gate_core::{Gate, GateConfig, NewAgentSpec};

use gate_store::{
    AuditCall, AuditDecision, AuditRecord, CallerKind, NewApproval, Outcome, Surface, Vault,
    VaultKey,
};
use notion_client::{ClientConfig, LimiterConfig};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

/// What to build and how often to fetch each page.
#[derive(clap::Args)]
pub(crate) struct Params {
    /// Audit events in the store.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) events: usize,
    /// Agents.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) agents: usize,
    /// Pending approvals.
    #[arg(long, default_value_t = 40)]
    pub(crate) approvals: usize,
    /// Fetches of each page.
    #[arg(long, default_value_t = 30)]
    pub(crate) iterations: usize,
    /// Keep serving this many seconds afterwards (to look at the pages).
    #[arg(long, default_value_t = 0)]
    pub(crate) hold: u64,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub(crate) async fn run(p: Params) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("gate.db").display());
    let store = gate_store::open(&url).await?;
    let (_, key) = VaultKey::generate();
    let vault = Arc::new(Vault::new(vec![key])?);
    let emu = Emulator::builder().seed(Seed::Demo).start().await?;
    let gate = Gate::new(
        GateConfig::new(Arc::clone(&store), vault)
            .notion(ClientConfig::default().base_url(emu.base_url()))
            .limiter(LimiterConfig::new(1000.0, 1000).map_err(anyhow::Error::msg)?),
    )?;
    let (admin, admin_key) = gate.bootstrap_admin("admin").await?;
    let admin_key = admin_key.key.expose_secret().to_owned();
    let caller = gate.authenticate(&admin_key).await?;

    let started = Instant::now();
    let mut connections = Vec::new();
    for i in 0..3 {
        let c = gate
            .add_token_connection(&caller, None, SecretString::from(format!("ntn_bench_{i}")))
            .await?;
        connections.push(c.id);
    }
    let mut agent_ids = Vec::with_capacity(p.agents);
    for i in 0..p.agents {
        let spec = NewAgentSpec::new(
            format!("agent-{i:04}"),
            ["intern", "supervised", "autonomous"][i % 3],
        )
        .connection(connections[i % 3]);
        agent_ids.push(gate.create_agent(&caller, spec).await?.id);
    }
    let ops = [
        ("search", "read"),
        ("pages.retrieve", "read"),
        ("pages.create", "create"),
        ("pages.update", "update"),
    ];
    let mut batch = Vec::with_capacity(1000);
    for i in 0..p.events {
        let (op, class) = ops[i % ops.len()];
        let (decision, outcome) = match i % 10 {
            0 => (AuditDecision::Deny, Outcome::Denied),
            1 => (AuditDecision::NeedsApproval, Outcome::Pending),
            _ => (AuditDecision::Allow, Outcome::Ok),
        };
        batch.push(
            AuditRecord::new(
                AuditCall::new(
                    format!("bench-{i}"),
                    CallerKind::Agent,
                    Surface::ALL[i % 4],
                    op,
                )
                .user(admin.id)
                .agent(agent_ids[i % agent_ids.len()])
                .connection(connections[i % 3])
                .action_class(class)
                .targets(["1a2b3c4d-5e6f-8000-a000-000000000101"]),
                decision,
                outcome,
            )
            .upstream_status(200)
            .duration_ms((i % 50) as u64),
        );
        if batch.len() == 1000 {
            store.append_audit(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append_audit(&batch).await?;
    }
    for i in 0..p.approvals {
        let body = json!({"method": "POST", "path": "/v1/pages", "query": [], "notion_version": null, "body": {
            "parent": {"page_id": "1a2b3c4d5e6f8000a000000000000101"},
            "properties": {"title": {"title": [{"text": {"content": if i % 5 == 0 { format!("Plan {i} — {}", "with a long title that keeps going ".repeat(6)) } else { format!("Weekly notes {i}") }}}]}},
            "children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Hello"}}]}}]
        }});
        store
            .create_approval(
                NewApproval::for_agent(
                    agent_ids[i % agent_ids.len()],
                    "pages.create",
                    "create",
                    body.to_string(),
                )
                .user(admin.id)
                .connection(connections[0]),
            )
            .await?;
    }
    println!(
        "Seeded {} audit events, {} agents, 3 connections, {} pending approvals in {:.1} s.\n",
        p.events,
        p.agents,
        p.approvals,
        started.elapsed().as_secs_f64()
    );

    let base = crate::shared_rate::serve(&gate, &emu).await?;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = http
        .post(format!("{base}/console/login"))
        .form(&[("key", admin_key.as_str())])
        .send()
        .await?;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .context("no session cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let approval = gate
        .list_approvals(&caller, gate_store::ApprovalFilter::new().limit(1))
        .await?
        .first()
        .map(|a| a.id)
        .context("no approval")?;
    let pages = [
        ("/console/approvals".to_owned(), "Inbox (40 pending)"),
        (
            "/console/approvals/live?status=pending".to_owned(),
            "Inbox live fragment",
        ),
        (
            format!("/console/approvals/{approval}"),
            "Approval page (reads the parent from Notion)",
        ),
        ("/console/overview".to_owned(), "Overview"),
        ("/console/agents".to_owned(), "Agents (1,000)"),
        (
            format!("/console/agents/{}", agent_ids[0]),
            "One agent with its calls",
        ),
        ("/console/connections".to_owned(), "Connections"),
        ("/console/audit".to_owned(), "Audit, newest page"),
        (
            "/console/audit?class=update&decision=deny".to_owned(),
            "Audit, two filters",
        ),
        (
            format!("/console/audit?agent={}", agent_ids[7]),
            "Audit, one agent",
        ),
        ("/console/policy".to_owned(), "Policy"),
    ];
    println!("| page | p50 (ms) | p95 (ms) | bytes |\n|---|---|---|---|");
    for (path, label) in &pages {
        let mut times = Vec::with_capacity(p.iterations);
        let mut bytes = 0;
        for _ in 0..p.iterations {
            let t = Instant::now();
            let resp = http
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
            bytes = resp.bytes().await?.len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {label} | {:.1} | {:.1} | {bytes} |",
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
    }
    let t = Instant::now();
    let resp = http
        .get(format!("{base}/console/audit/export?format=jsonl"))
        .header("cookie", &cookie)
        .send()
        .await?;
    let n = resp.bytes().await?.iter().filter(|b| **b == b'\n').count();
    println!(
        "\nAudit export (JSON lines, every event): {n} lines in {:.2} s.",
        t.elapsed().as_secs_f64()
    );
    if p.hold > 0 {
        eprintln!("serving {base} for {} s; sign in with {admin_key}", p.hold);
        tokio::time::sleep(Duration::from_secs(p.hold)).await;
    }
    Ok(())
}
