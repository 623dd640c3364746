//! `faults`: the fault suite's counts (issue #7). N calls (60% page reads, 20% page creates,
//! 20% appends) go round-robin through the four surfaces (REST, tool endpoint, proxy, MCP over
//! HTTP) of the real gateway while the emulator injects faults on a share of all requests
//! (default 20%: 500, 502 JSON and HTML, 503, 529, 429 with `Retry-After`, dropped connections
//! before and after the effect, a 500 after the effect, and 20 ms of added latency).
//!
//! Reported: calls and their outcomes per surface, the injected faults by kind, the requests
//! Notion received, the gateway's retries (its `retrying Notion request` events, counted by a
//! tracing layer), writes acknowledged vs applied at the emulator (each write carries a unique
//! marker; the emulator's store is searched for it), duplicates, failed writes whose
//! `write_state` contradicts the emulator, and audit records vs calls.
//!
//! The retry budgets are the defaults (5 after 429/529, 3 after 5xx and transport failures on
//! safe operations); the delays are shortened to 2–5 ms (`Retry-After` capped) so the run
//! takes seconds. Everything runs in this process on loopback sockets over a scratch SQLite
//! store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gate_core::{GateConfig, NewAgentSpec};
use gate_store::AuditQuery;
use notion_client::{ClientConfig, LimiterConfig, RetryPolicy};
use notion_emulator::{Emulator, Fault, FaultConfig, FaultRule, Seed};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

/// What to run.
#[derive(clap::Args)]
pub struct Params {
    /// Calls in all (60% reads, 20% creates, 20% appends), round-robin over the surfaces.
    #[arg(long, default_value_t = 1000)]
    pub calls: usize,
    /// Share of Notion requests that get a fault.
    #[arg(long, default_value_t = 0.2)]
    pub fault_rate: f64,
    /// Seed of the emulator's fault RNG.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Surface {
    Rest,
    Tool,
    Proxy,
    Mcp,
}

const SURFACES: [Surface; 4] = [Surface::Rest, Surface::Tool, Surface::Proxy, Surface::Mcp];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Read,
    Create,
    Append,
}

/// How a call ended.
enum Reply {
    Ok,
    /// Failed; the write state the surface reported, if any.
    Failed(Option<String>),
}

/// Counts the notion-client's `retrying Notion request` debug events.
struct RetryCounter(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RetryCounter {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Msg(bool);
        impl tracing::field::Visit for Msg {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 |= format!("{value:?}") == "retrying Notion request";
                }
            }
        }
        if event.metadata().target().starts_with("notion_client") {
            let mut m = Msg(false);
            event.record(&mut m);
            if m.0 {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The fault mix: shares of `rate` by kind; each rule's probability is its share given that
/// no earlier rule fired, so the total is exactly `rate`.
pub fn fault_mix(rate: f64, seed: u64) -> FaultConfig {
    let shares: [(f64, Fault, bool); 10] = [
        (0.15, Fault::status(500), false),
        (0.10, Fault::status(502), false),
        (0.10, Fault::BadGatewayHtml, false),
        (0.15, Fault::status(503), false),
        (0.10, Fault::status(529), false),
        (
            0.15,
            Fault::Status {
                status: 429,
                retry_after: Some(1),
            },
            false,
        ),
        (0.05, Fault::DropConnection, false),
        (0.05, Fault::DropConnection, true),
        (0.05, Fault::status(500), true),
        (0.10, Fault::Delay(Duration::from_millis(20)), false),
    ];
    let mut taken = 0.0;
    let rules = shares
        .into_iter()
        .map(|(share, fault, after)| {
            let abs = share * rate;
            let p = abs / (1.0 - taken);
            taken += abs;
            let r = FaultRule::all_routes(p, fault);
            if after { r.after_effect() } else { r }
        })
        .collect();
    FaultConfig {
        rules,
        latency: Duration::ZERO,
        rng_seed: Some(seed),
    }
}

pub async fn run(p: Params) -> Result<()> {
    anyhow::ensure!(p.calls > 0, "--calls must be positive");
    anyhow::ensure!(
        (0.0..1.0).contains(&p.fault_rate),
        "--fault-rate is a share in [0, 1)"
    );
    let retries = Arc::new(AtomicU64::new(0));
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("notion_client", tracing::Level::DEBUG);
    let subscriber = tracing_subscriber::registry().with(tracing_subscriber::Layer::with_filter(
        RetryCounter(Arc::clone(&retries)),
        filter,
    ));
    tracing::subscriber::set_global_default(subscriber).context("tracing subscriber")?;

    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .context("start the emulator")?;
    let root = emu.demo_ids().root_page.clone();
    let read_page = emu.demo_ids().blocks_page.clone();
    let target = emu.create_page(&root, "Fault suite target")?;

    let dir = tempfile::tempdir()?;
    let (store, vault) = crate::shared_rate::scratch_store(dir.path()).await?;
    let retry = RetryPolicy::default()
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(5));
    let gate = gate_core::Gate::new(
        GateConfig::new(store, vault)
            .notion(
                ClientConfig::default()
                    .base_url(emu.base_url())
                    .retry(retry)
                    .request_timeout(Some(Duration::from_secs(10))),
            )
            .limiter(LimiterConfig::new(1000.0, 1000).map_err(anyhow::Error::msg)?),
    )?;
    let (_, admin_key) = gate.bootstrap_admin("admin").await?;
    let admin_key = admin_key.key.expose_secret().to_owned();
    let admin = gate.authenticate(&admin_key).await?;
    gate.add_token_connection(
        &admin,
        None,
        SecretString::from("ntn_faults_bench".to_owned()),
    )
    .await?;
    let admin = gate.authenticate(&admin_key).await?;
    let agent = gate
        .create_agent(&admin, NewAgentSpec::new("fault-bench", "autonomous"))
        .await?;
    let key = gate
        .issue_agent_key(&admin, agent.id, None)
        .await?
        .key
        .expose_secret()
        .to_owned();
    let base = crate::shared_rate::serve(&gate, &emu).await?;
    let mcp = ()
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
                .auth_header(key.clone()),
        ))
        .await
        .context("MCP client")?;
    let http = reqwest::Client::new();
    let c = Client {
        http: &http,
        base: &base,
        key: &key,
        mcp: &mcp,
    };

    gate.flush_audit().await?;
    let audit_before = gate
        .store()
        .query_audit(&AuditQuery::new().limit(100_000))
        .await?
        .events
        .len();
    emu.handle().reset_counters();
    retries.store(0, Ordering::Relaxed);
    emu.handle().set_faults(fault_mix(p.fault_rate, p.seed));
    println!(
        "bench: {} calls (60% page reads, 20% creates, 20% appends) round-robin over REST, tool \
         endpoint, proxy and MCP; {:.0}% of Notion requests faulted (seed {}); default retry \
         budgets, delays shortened to 2–5 ms",
        p.calls,
        p.fault_rate * 100.0,
        p.seed
    );

    // (surface, kind, marker, reply)
    let mut log: Vec<(Surface, Kind, String, Reply)> = Vec::with_capacity(p.calls);
    let t0 = Instant::now();
    for i in 0..p.calls {
        let s = SURFACES[i % 4];
        let kind = match (i / 4) % 5 {
            3 => Kind::Create,
            4 => Kind::Append,
            _ => Kind::Read,
        };
        let marker = format!("[fb-{i:06}]");
        let reply = match kind {
            Kind::Read => c.read(s, &read_page).await,
            Kind::Create => c.create(s, &root, &marker).await,
            Kind::Append => c.append(s, &target, &marker).await,
        };
        log.push((s, kind, marker, reply));
    }
    let took = t0.elapsed();
    emu.handle().set_faults(FaultConfig::default());
    let at_notion = emu.handle().counters();
    let retries = retries.load(Ordering::Relaxed);

    // What the emulator holds, searched for each write's marker.
    let stored: Vec<String> = [&root, &target]
        .into_iter()
        .flat_map(|parent| emu.child_ids(parent))
        .filter_map(|id| emu.get_object(&id))
        .map(|o| o.to_string())
        .collect();
    gate.flush_audit().await?;
    let audit_after = gate
        .store()
        .query_audit(&AuditQuery::new().limit(100_000))
        .await?
        .events
        .len();

    #[derive(Default)]
    struct Row {
        calls: u64,
        reads_ok: u64,
        reads_failed: u64,
        writes_ok: u64,
        failed_may: u64,
        failed_not: u64,
        failed_unlabelled: u64,
    }
    let mut rows: BTreeMap<Surface, Row> = BTreeMap::new();
    let (mut acknowledged, mut applied, mut duplicates, mut contradicted, mut lost_writes) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for (s, kind, marker, reply) in &log {
        let row = rows.entry(*s).or_default();
        row.calls += 1;
        if *kind == Kind::Read {
            match reply {
                Reply::Ok => row.reads_ok += 1,
                Reply::Failed(_) => row.reads_failed += 1,
            }
            continue;
        }
        let copies = stored
            .iter()
            .filter(|o| o.contains(marker.as_str()))
            .count() as u64;
        applied += copies;
        duplicates += copies.saturating_sub(1);
        match reply {
            Reply::Ok => {
                row.writes_ok += 1;
                acknowledged += 1;
                if copies == 0 {
                    lost_writes += 1;
                }
            }
            Reply::Failed(state) => match state.as_deref() {
                Some("may_have_applied") => row.failed_may += 1,
                Some("not_applied") => {
                    row.failed_not += 1;
                    if copies > 0 {
                        contradicted += 1;
                    }
                }
                _ => row.failed_unlabelled += 1,
            },
        }
    }
    let audited = (audit_after - audit_before) as u64;
    let calls = p.calls as u64;

    println!();
    println!(
        "| surface | calls | reads ok | reads failed | writes ok | writes failed: may_have_applied | writes failed: not_applied | writes failed without a write state |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (s, r) in &rows {
        println!(
            "| {s:?} | {} | {} | {} | {} | {} | {} | {} |",
            r.calls,
            r.reads_ok,
            r.reads_failed,
            r.writes_ok,
            r.failed_may,
            r.failed_not,
            r.failed_unlabelled
        );
    }
    println!();
    println!("| injected fault | count |");
    println!("|---|---|");
    for (kind, n) in &at_notion.faults {
        println!("| {kind} | {n} |");
    }
    println!("| **all** | **{}** |", at_notion.faults_injected());
    println!();
    let writes = log.iter().filter(|(_, k, _, _)| *k != Kind::Read).count();
    let failed_writes = writes as u64 - acknowledged;
    println!("| figure | value |");
    println!("|---|---|");
    println!("| calls | {calls} |");
    println!(
        "| requests received by Notion (emulator) | {} |",
        at_notion.total
    );
    println!(
        "| injected faults | {} ({:.1}% of requests) |",
        at_notion.faults_injected(),
        100.0 * at_notion.faults_injected() as f64 / at_notion.total.max(1) as f64
    );
    println!("| retries by the gateway | {retries} |");
    println!("| writes (creates + appends) | {writes} |");
    println!("| writes acknowledged | {acknowledged} |");
    println!("| writes applied at the emulator | {applied} |");
    println!("| failed writes (all labelled with a write state) | {failed_writes} |");
    println!("| duplicates | {duplicates} |");
    println!("| acknowledged but not applied | {lost_writes} |");
    println!("| `not_applied` but applied | {contradicted} |");
    println!("| audit records | {audited} |");
    println!("| lost audit records | {} |", calls.saturating_sub(audited));
    println!("| time | {:.2} s |", took.as_secs_f64());

    let unlabelled: u64 = rows.values().map(|r| r.failed_unlabelled).sum();
    anyhow::ensure!(duplicates == 0, "{duplicates} duplicated writes");
    anyhow::ensure!(
        lost_writes == 0,
        "{lost_writes} acknowledged writes are missing"
    );
    anyhow::ensure!(
        contradicted == 0,
        "{contradicted} writes said not_applied but applied"
    );
    anyhow::ensure!(
        unlabelled == 0,
        "{unlabelled} failed writes without a write state"
    );
    anyhow::ensure!(
        audited == calls,
        "{audited} audit records for {calls} calls"
    );
    Ok(())
}

/// One autonomous agent on the four surfaces.
struct Client<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    key: &'a str,
    mcp: &'a rmcp::service::RunningService<rmcp::RoleClient, ()>,
}

impl Client<'_> {
    async fn read(&self, s: Surface, page: &str) -> Reply {
        match s {
            Surface::Rest => {
                self.rest(reqwest::Method::GET, &format!("/notion/pages/{page}"), None)
                    .await
            }
            Surface::Tool => self.tool("get_page", json!({"page_id": page})).await,
            Surface::Proxy => {
                self.proxy(reqwest::Method::GET, &format!("/v1/pages/{page}"), None)
                    .await
            }
            Surface::Mcp => self.mcp("get_page", json!({"page_id": page})).await,
        }
    }

    async fn create(&self, s: Surface, parent: &str, title: &str) -> Reply {
        let params = json!({"parent": {"page_id": parent}, "title": title});
        match s {
            Surface::Rest => {
                self.rest(reqwest::Method::POST, "/notion/pages", Some(params))
                    .await
            }
            Surface::Tool => self.tool("create_page", params).await,
            Surface::Proxy => {
                let body = json!({"parent": {"page_id": parent},
                    "properties": {"title": {"title": [{"text": {"content": title}}]}}});
                self.proxy(reqwest::Method::POST, "/v1/pages", Some(body))
                    .await
            }
            Surface::Mcp => self.mcp("create_page", params).await,
        }
    }

    async fn append(&self, s: Surface, page: &str, text: &str) -> Reply {
        match s {
            Surface::Rest => {
                self.rest(
                    reqwest::Method::POST,
                    &format!("/notion/pages/{page}/blocks"),
                    Some(json!({"markdown": text})),
                )
                .await
            }
            Surface::Tool => {
                self.tool(
                    "append_markdown",
                    json!({"page_id": page, "markdown": text}),
                )
                .await
            }
            Surface::Proxy => {
                let body = json!({"children": [{"type": "paragraph", "paragraph": {
                    "rich_text": [{"type": "text", "text": {"content": text}}]}}]});
                self.proxy(
                    reqwest::Method::PATCH,
                    &format!("/v1/blocks/{page}/children"),
                    Some(body),
                )
                .await
            }
            Surface::Mcp => {
                self.mcp(
                    "append_markdown",
                    json!({"page_id": page, "markdown": text}),
                )
                .await
            }
        }
    }

    async fn rest(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(self.key);
        send(req, body).await
    }

    async fn tool(&self, action: &str, params: Value) -> Reply {
        self.rest(
            reqwest::Method::POST,
            "/tools/notion",
            Some(json!({"action": action, "params": params})),
        )
        .await
    }

    async fn proxy(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.key)
            .header("Notion-Version", "2025-09-03");
        send(req, body).await
    }

    async fn mcp(&self, tool: &str, args: Value) -> Reply {
        let params = CallToolRequestParams::new(tool.to_owned())
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        match self.mcp.call_tool(params).await {
            Ok(r) if r.is_error != Some(true) => Reply::Ok,
            Ok(r) => Reply::Failed(
                r.structured_content
                    .as_ref()
                    .and_then(|v| v["write_state"].as_str())
                    .map(str::to_owned),
            ),
            Err(_) => Reply::Failed(None),
        }
    }
}

/// Sends a REST, tool or proxy request and reads the failure's `write_state`: the proxy's
/// `notion-gate-write-state` header or `additional_data`, or the envelope's `details`.
async fn send(mut req: reqwest::RequestBuilder, body: Option<Value>) -> Reply {
    if let Some(body) = body {
        req = req.json(&body);
    }
    match req.send().await {
        Ok(r) if r.status().is_success() => {
            let _ = r.bytes().await;
            Reply::Ok
        }
        Ok(r) => {
            let header = r
                .headers()
                .get("notion-gate-write-state")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let v: Value = r.json().await.unwrap_or(Value::Null);
            let body_state = v["error"]["details"]["write_state"]
                .as_str()
                .or_else(|| v["additional_data"]["write_state"].as_str())
                .map(str::to_owned);
            Reply::Failed(header.or(body_state))
        }
        Err(_) => Reply::Failed(None),
    }
}
