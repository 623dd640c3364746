//! `gate-bench crash`: SIGKILL `notion-gate serve` under write load and check the audit trail
//! against what Notion (the emulator) actually did (issue #21, "done when").
//!
//! The standalone emulator (`notion-emulator --seed demo --latency-ms 80`: every request
//! waits 80 ms before it is handled) and `notion-gate serve` (a data folder, or
//! `--database-url`) run as child processes. `--writers` agents' loops send writes through
//! the proxy, one at a time each, alternating a page create (under the writer's own parent
//! page) and a page update (of the writer's own page), each with a unique request id sent as
//! `x-request-id` (the gateway audits the call under it) and the same id as the page's new
//! title. At a random moment (`--min-secs` … `--max-secs` of load) `serve` gets SIGKILL; once
//! the emulator has finished whatever was in flight (`--quiet-ms`) it is started again on the
//! same data, and the writers go on; `--kills` times, then `--final-secs` more of load.
//!
//! Ground truth comes from the emulator's state, read directly with the Notion API (the
//! emulator is unchanged): an update that was not answered is looked up by its writer before
//! its next write (the page's title is the id of the last update applied to it: the writer is
//! the page's only writer), a create by its title among the parent's children at the end; an
//! answered write (2xx) was applied by Notion. After the load, the last `serve` settles the
//! intents the killed ones left (at its start, see `Gate::settle_intents`); the bench waits
//! until no intent is open, stops `serve` (SIGTERM) and reads the audit trail from the store.
//!
//! Checked, per write: (a) every acknowledged write has a record with outcome `ok`; (b) every
//! write Notion applied has a record (any outcome but `error`: decided, or `unknown`); (c) no
//! record says `ok` for a write Notion did not apply; and at most one record per write. Any
//! violation is listed and the command fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use gate_store::{AuditOrder, AuditQuery, Outcome};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::overhead::{Proc, clean_command, cli, free_port, wait_ready};

/// Notion-Version sent by the writers and the bench's own lookups.
const NOTION_VERSION: &str = "2026-03-11";

/// The token the emulator accepts for the connection (and for the bench's lookups).
const TOKEN: &str = "ntn_gate_bench_crash";

/// Parameters of the run.
#[derive(clap::Args)]
pub struct Params {
    /// Concurrent writers (one write at a time each: creates and updates in turn).
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    /// SIGKILLs.
    #[arg(long, default_value_t = 3)]
    pub kills: usize,
    /// Latency the emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 80)]
    pub latency_ms: u64,
    /// Shortest load before a kill, in seconds.
    #[arg(long, default_value_t = 2.0)]
    pub min_secs: f64,
    /// Longest load before a kill, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub max_secs: f64,
    /// Load after the last restart, in seconds.
    #[arg(long, default_value_t = 3.0)]
    pub final_secs: f64,
    /// Pause between a kill and the restart, in milliseconds (the emulator finishes
    /// what was in flight).
    #[arg(long, default_value_t = 1000)]
    pub quiet_ms: u64,
    /// PostgreSQL instead of SQLite (a fresh, empty database).
    #[arg(long)]
    pub database_url: Option<String>,
    /// `serve --audit-durability`.
    #[arg(long, default_value = "process")]
    pub audit_durability: String,
    /// Seed of the kill times (default: the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder holding the notion-gate and notion-emulator binaries (default: this
    /// binary's folder; build them with `cargo build --release -p notion-gate -p
    /// notion-emulator --bins`).
    #[arg(long)]
    pub bin_dir: Option<std::path::PathBuf>,
}

/// A small deterministic generator for the kill times (splitmix64).
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Create,
    Update,
}

/// How the gateway answered a write.
#[derive(Clone, Debug)]
enum Answer {
    /// 2xx: acknowledged.
    Acked,
    /// Another status.
    Status(u16),
    /// No answer (the connection broke or was refused: `serve` was killed).
    Lost,
}

/// One write sent by a writer.
#[derive(Clone, Debug)]
struct Write {
    id: String,
    kind: Kind,
    answer: Answer,
    /// Whether the emulator applied it (updates: decided by the writer; creates: at the end).
    applied: Option<bool>,
}

/// The shared view of `serve`: its generation (bumped at each restart) and whether the load
/// is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Phase {
    generation: u64,
    stop: bool,
}

struct Writer {
    n: usize,
    nonce: String,
    gate_url: Arc<Mutex<String>>,
    emu_url: String,
    key: String,
    page: String,
    parent: String,
    phase: watch::Receiver<Phase>,
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1)
        .build()?)
}

fn title_body(text: &str) -> Value {
    json!({"title": {"title": [{"type": "text", "text": {"content": text}}]}})
}

impl Writer {
    async fn run(mut self) -> Result<Vec<Write>> {
        let http = client()?;
        let mut writes = Vec::new();
        let mut seq = 0u64;
        loop {
            let phase = *self.phase.borrow();
            if phase.stop {
                return Ok(writes);
            }
            seq += 1;
            let kind = if seq % 2 == 1 {
                Kind::Create
            } else {
                Kind::Update
            };
            let id = format!("crash-{}-w{}-{seq}", self.nonce, self.n);
            let base = self
                .gate_url
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .clone();
            let req = match kind {
                Kind::Create => http.post(format!("{base}/v1/pages")).json(&json!({
                    "parent": {"page_id": self.parent},
                    "properties": title_body(&id),
                })),
                Kind::Update => http
                    .patch(format!("{base}/v1/pages/{}", self.page))
                    .json(&json!({"properties": title_body(&id)})),
            };
            let answer = match req
                .bearer_auth(&self.key)
                .header("notion-version", NOTION_VERSION)
                .header("x-request-id", &id)
                .send()
                .await
            {
                Ok(resp) if resp.status().is_success() => {
                    // The whole answer came back: the write is acknowledged.
                    match resp.bytes().await {
                        Ok(_) => Answer::Acked,
                        Err(_) => Answer::Lost,
                    }
                }
                Ok(resp) => Answer::Status(resp.status().as_u16()),
                Err(_) => Answer::Lost,
            };
            let acked = matches!(answer, Answer::Acked);
            if matches!(answer, Answer::Lost) {
                // `serve` is gone: wait for the next one (the emulator is quiet by then).
                while self.phase.borrow().generation == phase.generation
                    && !self.phase.borrow().stop
                {
                    if self.phase.changed().await.is_err() {
                        break;
                    }
                }
            }
            let applied = match (kind, acked) {
                (_, true) => Some(true),
                // This writer is the page's only writer and sends nothing else meanwhile:
                // the title is the id of the last update applied.
                (Kind::Update, false) => Some(self.current_title(&http).await? == id),
                (Kind::Create, false) => None,
            };
            writes.push(Write {
                id,
                kind,
                answer,
                applied,
            });
        }
    }

    async fn current_title(&self, http: &reqwest::Client) -> Result<String> {
        let page: Value = http
            .get(format!("{}/v1/pages/{}", self.emu_url, self.page))
            .bearer_auth(TOKEN)
            .header("notion-version", NOTION_VERSION)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(gate_core::page_title(&page).unwrap_or_default())
    }
}

/// Creates a page under `parent` directly at the emulator; returns its id.
async fn create_page(
    http: &reqwest::Client,
    emu_url: &str,
    parent: &str,
    title: &str,
) -> Result<String> {
    let page: Value = http
        .post(format!("{emu_url}/v1/pages"))
        .bearer_auth(TOKEN)
        .header("notion-version", NOTION_VERSION)
        .json(&json!({"parent": {"page_id": parent}, "properties": title_body(title)}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    page.get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("a created page without an id")
}

/// The titles of the child pages of `parent`, read directly at the emulator.
async fn child_titles(
    http: &reqwest::Client,
    emu_url: &str,
    parent: &str,
) -> Result<HashSet<String>> {
    let mut titles = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = http
            .get(format!("{emu_url}/v1/blocks/{parent}/children"))
            .bearer_auth(TOKEN)
            .header("notion-version", NOTION_VERSION)
            .query(&[("page_size", "100")]);
        if let Some(c) = &cursor {
            req = req.query(&[("start_cursor", c.as_str())]);
        }
        let page: Value = req.send().await?.error_for_status()?.json().await?;
        for b in page
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = b
                .get("child_page")
                .and_then(|c| c.get("title"))
                .and_then(Value::as_str)
            {
                titles.insert(t.to_owned());
            }
        }
        cursor = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            return Ok(titles);
        }
    }
}

/// `notion-gate serve` for this run.
struct Serve<'a> {
    bin: &'a Path,
    data: &'a str,
    emu_url: &'a str,
    database_url: Option<&'a str>,
    durability: &'a str,
    logs: &'a Path,
}

impl Serve<'_> {
    fn store_args(&self) -> Vec<String> {
        let mut a = vec!["--data-dir".to_owned(), self.data.to_owned()];
        if let Some(u) = self.database_url {
            a.extend(["--database-url".to_owned(), u.to_owned()]);
        }
        a
    }

    /// Starts `serve` on a free port and waits until it answers; returns it and its URL.
    async fn start(&self, n: usize, http: &reqwest::Client) -> Result<(Proc, String, PathBuf)> {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let log = self.logs.join(format!("serve-{n}.log"));
        let mut proc = Proc {
            name: "notion-gate serve",
            child: clean_command(self.bin)
                .args(["serve", "--listen", &addr.to_string()])
                .args(self.store_args())
                .args(["--notion-url", self.emu_url])
                .args(["--rate", "100000", "--burst", "100000"])
                .args(["--audit-durability", self.durability])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .context("start notion-gate serve")?,
        };
        let url = format!("http://{addr}");
        wait_ready(http, &format!("{url}/healthz"), &mut proc, &log).await?;
        Ok((proc, url, log))
    }
}

/// Sends SIGTERM and waits for the process to exit (SIGKILL after 30 s).
async fn terminate(mut proc: Proc) -> Result<()> {
    let pid = i32::try_from(proc.pid()).context("pid")?;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill -TERM {pid} failed");
    let deadline = Instant::now() + Duration::from_secs(30);
    while proc.child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            bail!("serve did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn store_url(p: &Params, data_dir: &Path) -> String {
    p.database_url
        .clone()
        .unwrap_or_else(|| gate_store::default_sqlite_url(data_dir))
}

/// Runs the benchmark, prints its summary and fails on a violation.
pub async fn run(p: Params) -> Result<()> {
    tokio::select! {
        r = run_inner(p) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; the child processes are killed")),
    }
}

async fn run_inner(p: Params) -> Result<()> {
    ensure!(p.writers > 0, "--writers must be positive");
    ensure!(
        p.min_secs > 0.0 && p.max_secs >= p.min_secs,
        "--min-secs must be positive and at most --max-secs"
    );
    let (gate_bin, emu_bin) = crate::overhead::binaries(p.bin_dir.as_deref())?;
    let seed = p.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let mut rng = Rng(seed);
    let nonce = format!("{:08x}", seed & 0xffff_ffff);
    let backend = crate::backend_name(p.database_url.as_deref());
    println!(
        "bench: crash under write load on {backend}, --audit-durability {}: {} writers, {} kills, {} ms upstream latency, seed {seed}",
        p.audit_durability, p.writers, p.kills, p.latency_ms
    );

    let tmp = tempfile::Builder::new()
        .prefix("gate-bench-crash-")
        .tempdir()
        .context("a temporary folder")?;
    let data_dir = tmp.path().join("data");
    let data = data_dir.to_str().context("a UTF-8 temporary path")?;
    let http = client()?;

    // The emulator, with the upstream latency.
    let emu_addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let emu_url = format!("http://{emu_addr}");
    let emu_log = tmp.path().join("emulator.log");
    let mut emu = Proc {
        name: "notion-emulator",
        child: clean_command(&emu_bin)
            .args(["--listen", &emu_addr.to_string(), "--seed", "demo"])
            .args(["--latency-ms", &p.latency_ms.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&emu_log)?)
            .spawn()
            .context("start notion-emulator")?,
    };
    wait_ready(&http, &format!("{emu_url}/v1/users/me"), &mut emu, &emu_log).await?;
    let root = crate::overhead::demo_root_page(&emu_log)?;

    // Each writer's page (updated) and parent (of its creates).
    let mut targets = Vec::new();
    for n in 0..p.writers {
        let page = create_page(&http, &emu_url, &root, &format!("crash writer {n}")).await?;
        let parent = create_page(&http, &emu_url, &root, &format!("crash parent {n}")).await?;
        targets.push((page, parent));
    }

    // State: an administrator, a token connection to the emulator, an autonomous agent.
    let serve = Serve {
        bin: &gate_bin,
        data,
        emu_url: &emu_url,
        database_url: p.database_url.as_deref(),
        durability: &p.audit_durability,
        logs: tmp.path(),
    };
    let store_args = serve.store_args();
    let with_store = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(store_args.iter().map(String::as_str));
        cli(&gate_bin, &all)
    };
    with_store(&["user", "add", "crash-bench", "--admin"])?;
    with_store(&["connect", "--token", TOKEN, "--notion-url", &emu_url])?;
    let key = with_store(&["agent", "add", "crash-writer", "--maturity", "autonomous"])?;
    ensure!(!key.is_empty(), "agent add printed no key");

    let started = Instant::now();
    let (mut server, url, _) = serve.start(0, &http).await?;
    let gate_url = Arc::new(Mutex::new(url));
    let (phase_tx, phase_rx) = watch::channel(Phase {
        generation: 0,
        stop: false,
    });
    let mut tasks = Vec::new();
    for (n, (page, parent)) in targets.iter().enumerate() {
        let w = Writer {
            n,
            nonce: nonce.clone(),
            gate_url: Arc::clone(&gate_url),
            emu_url: emu_url.clone(),
            key: key.clone(),
            page: page.clone(),
            parent: parent.clone(),
            phase: phase_rx.clone(),
        };
        tasks.push(tokio::spawn(w.run()));
    }

    // The kills.
    let mut kill_times = Vec::new();
    for k in 1..=p.kills {
        let wait = p.min_secs + (p.max_secs - p.min_secs) * rng.next_f64();
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        server.ensure_running(&serve.logs.join(format!("serve-{}.log", k - 1)))?;
        // SIGKILL (`Child::kill`), then reap it.
        server.child.kill().context("SIGKILL serve")?;
        server.child.wait()?;
        kill_times.push(wait);
        tokio::time::sleep(Duration::from_millis(p.quiet_ms)).await;
        let (next, url, _) = serve.start(k, &http).await?;
        server = next;
        *gate_url.lock().map_err(|_| anyhow!("poisoned"))? = url;
        phase_tx.send_replace(Phase {
            generation: k as u64,
            stop: false,
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(p.final_secs)).await;
    phase_tx.send_replace(Phase {
        generation: p.kills as u64,
        stop: true,
    });
    let mut writes = Vec::new();
    for t in tasks {
        writes.extend(t.await??);
    }
    let load_secs = started.elapsed().as_secs_f64();

    // Creates: applied when the parent has a child page with the id as its title.
    for (n, (_, parent)) in targets.iter().enumerate() {
        let titles = child_titles(&http, &emu_url, parent).await?;
        let prefix = format!("crash-{nonce}-w{n}-");
        for w in writes
            .iter_mut()
            .filter(|w| w.kind == Kind::Create && w.id.starts_with(&prefix))
        {
            w.applied = Some(titles.contains(&w.id));
        }
    }

    // Wait until the last `serve` has settled every intent the killed ones left.
    let url = store_url(&p, &data_dir);
    let settle_start = Instant::now();
    {
        let store = gate_store::open(&url).await.context("open the store")?;
        loop {
            let open = store.open_intents(1000).await?;
            if open.is_empty() {
                break;
            }
            ensure!(
                settle_start.elapsed() < Duration::from_secs(180),
                "{} intents still open 180 s after the load",
                open.len()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        store.close().await;
    }
    let settle_secs = settle_start.elapsed().as_secs_f64();
    terminate(server).await?;

    // The audit trail, by request id.
    let store = gate_store::open(&url).await.context("open the store")?;
    let mut records: HashMap<String, Vec<(Outcome, String)>> = HashMap::new();
    let mut cursor = None;
    loop {
        let page = store
            .query_audit(
                &AuditQuery::new()
                    .order(AuditOrder::OldestFirst)
                    .limit(1000)
                    .cursor(cursor),
            )
            .await?;
        for e in page.events {
            records
                .entry(e.record.call.request_id.clone())
                .or_default()
                .push((
                    e.record.outcome,
                    e.record.reason.clone().unwrap_or_default(),
                ));
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let open_left = store.open_intents(1000).await?.len();
    store.close().await;
    drop(emu);

    report(
        &writes,
        &records,
        &kill_times,
        load_secs,
        settle_secs,
        open_left,
    )
}

/// Prints the summary; Err when a check failed.
fn report(
    writes: &[Write],
    records: &HashMap<String, Vec<(Outcome, String)>>,
    kill_times: &[f64],
    load_secs: f64,
    settle_secs: f64,
    open_left: usize,
) -> Result<()> {
    let none = Vec::new();
    let mut violations = Vec::new();
    let mut acked = 0;
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut lost = 0;
    let mut lost_applied = 0;
    // Records of the unanswered writes: (applied, outcome, reason) → count.
    let mut settled: BTreeMap<(bool, String, String), usize> = BTreeMap::new();
    for w in writes {
        let recs = records.get(&w.id).unwrap_or(&none);
        let applied = w.applied.unwrap_or(false);
        let done = recs.iter().any(|(o, _)| *o == Outcome::Ok);
        match &w.answer {
            Answer::Acked => {
                acked += 1;
                if !applied {
                    violations.push(format!(
                        "{}: acknowledged, but the emulator does not have it",
                        w.id
                    ));
                }
                if !done {
                    violations.push(format!(
                        "{}: acknowledged, but no `ok` record ({recs:?})",
                        w.id
                    ));
                }
            }
            Answer::Status(s) => *statuses.entry(*s).or_default() += 1,
            Answer::Lost => {
                lost += 1;
                if applied {
                    lost_applied += 1;
                }
                let (o, r) = recs
                    .first()
                    .map_or(("none".to_owned(), String::new()), |(o, r)| {
                        (o.to_string(), r.clone())
                    });
                if !recs.is_empty() || applied {
                    *settled.entry((applied, o, r)).or_default() += 1;
                }
            }
        }
        if applied && recs.is_empty() {
            violations.push(format!("{}: applied by Notion, but no audit record", w.id));
        }
        if applied && !recs.is_empty() && recs.iter().all(|(o, _)| *o == Outcome::Error) {
            violations.push(format!(
                "{}: applied by Notion, but recorded as not done ({recs:?})",
                w.id
            ));
        }
        if !applied && done {
            violations.push(format!(
                "{}: recorded `ok`, but Notion never applied it ({recs:?})",
                w.id
            ));
        }
        if recs.len() > 1 {
            violations.push(format!("{}: {} audit records ({recs:?})", w.id, recs.len()));
        }
    }
    if open_left > 0 {
        violations.push(format!("{open_left} intents still open at the end"));
    }

    let creates = writes.iter().filter(|w| w.kind == Kind::Create).count();
    println!(
        "\nkills after {} s of load; load {load_secs:.1} s in all; settling took {settle_secs:.1} s after the load",
        kill_times
            .iter()
            .map(|t| format!("{t:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\n| figure | value |\n|---|---|");
    println!(
        "| writes sent | {} ({creates} creates, {} updates) |",
        writes.len(),
        writes.len() - creates
    );
    println!("| acknowledged (2xx) | {acked} |");
    if !statuses.is_empty() {
        println!("| answered with another status | {statuses:?} |");
    }
    println!("| unanswered (in flight at a kill, or sent while serve was down) | {lost} |");
    println!("| … of which Notion applied | {lost_applied} |");
    println!(
        "| violations | {} |",
        if violations.is_empty() {
            "none".to_owned()
        } else {
            violations.len().to_string()
        }
    );
    println!(
        "\nUnanswered writes with a record, or applied: applied by Notion / record's outcome / reason:\n"
    );
    println!("| applied | outcome | reason | writes |\n|---|---|---|---|");
    for ((applied, o, r), n) in &settled {
        println!(
            "| {} | {o} | {} | {n} |",
            if *applied { "yes" } else { "no" },
            if r.is_empty() { "—" } else { r }
        );
    }
    if violations.is_empty() {
        println!(
            "\nall checks hold: no acknowledged write lost; every write Notion applied has a record; no record says done for a write Notion did not apply"
        );
        Ok(())
    } else {
        println!("\nVIOLATIONS:");
        for v in &violations {
            println!("- {v}");
        }
        bail!("{} violations", violations.len())
    }
}
