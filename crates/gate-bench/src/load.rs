//! `gate-bench load`: a bounded load run of the gateway on loopback.
//!
//! `notion-gate sandbox` (a child process, a temporary data folder, a free loopback port) is
//! started with its per-connection limiter lifted (`--rate 100000 --burst 100000`; the default
//! 3 req/s would measure the throttle, not the gateway). Agents of four maturities are made
//! over REST with the sandbox's admin key. Then N clients (default 200, one connection each)
//! loop for a fixed time (default 60 s), each request one of a fixed mix:
//!
//! * REST page read as Markdown (intern), REST search (autonomous),
//! * tool endpoint `get_page` (supervised), proxy `GET /v1/pages/{id}` (autonomous),
//! * a page creation by an intern and a read by a student: both denied by policy (403
//!   `forbidden_by_policy`), the expected refusals.
//!
//! Every status is counted per kind. Any 5xx, transport error or status other than the one
//! expected for its kind fails the run (after the report is printed). The server's `VmRSS` is
//! sampled every second; the report gives requests/s, p50/p99 of the expected answers, and
//! the RSS at start, middle and end and its maximum.
//!
//! With `--serve`, the gateway is `notion-gate serve` against the standalone `notion-emulator`
//! (its own process, as in `overhead`), so the gateway's memory is measured without the
//! emulator's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::overhead::{
    Proc, clean_command, cli, free_port, mb, memory, ms, pct, spawn_serve, start_emulator,
    wait_ready,
};

/// Notion-Version sent on proxy requests.
const NOTION_VERSION: &str = "2026-03-11";

/// Parameters of the run.
#[derive(Debug, Clone, clap::Args)]
pub struct Params {
    /// Concurrent clients (one connection each).
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Seconds the clients loop.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    /// Folder holding the notion-gate binary (default: this binary's folder; build it
    /// first with `cargo build --release -p notion-gate --bins`).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Run `notion-gate serve` against the standalone emulator instead of `sandbox`
    /// (the gateway's memory without the emulator's).
    #[arg(long)]
    pub serve: bool,
}

/// One kind of request of the mix, with the status it must get.
struct Kind {
    label: &'static str,
    method: Method,
    path: String,
    key: String,
    body: Option<Value>,
    notion_version: bool,
    expect: u16,
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    /// (kind, status) → count; status 0 is a transport error.
    statuses: BTreeMap<(usize, u16), u64>,
    /// Latencies of the expected answers.
    latencies: Vec<Duration>,
    /// First few unexpected answers, for the report.
    samples: Vec<String>,
}

/// Runs the load and prints its report; an error if any answer was unexpected.
pub async fn run(p: Params) -> Result<()> {
    tokio::select! {
        r = run_inner(p) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; the sandbox is killed")),
    }
}

async fn run_inner(p: Params) -> Result<()> {
    ensure!(
        p.clients > 0 && p.duration > 0.0,
        "--clients and --duration must be positive"
    );
    let dir = crate::bin_dir(p.bin_dir.as_deref())?;
    let gate_bin = dir.join("notion-gate");
    ensure!(
        gate_bin.exists(),
        "{} is missing: run `cargo build --release -p notion-gate --bins` first, or pass --bin-dir",
        gate_bin.display()
    );
    let tmp = tempfile::Builder::new()
        .prefix("gate-bench-load-")
        .tempdir()
        .context("a temporary folder")?;
    let data = tmp.path().join("data");
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let base = format!("http://{addr}");
    let log = tmp.path().join("gateway.log");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let data_arg = data.to_str().context("a UTF-8 temporary path")?;
    // With --serve: the standalone emulator, kept alive (dropped) after the gateway.
    let mut _emulator = None;
    let (mut server, admin) = if p.serve {
        let emu_bin = dir.join("notion-emulator");
        ensure!(
            emu_bin.exists(),
            "{} is missing: build it with `cargo build --release -p notion-emulator --bins`",
            emu_bin.display()
        );
        let (emu, emu_url, _) = start_emulator(&emu_bin, tmp.path(), &http).await?;
        _emulator = Some(emu);
        let admin = cli(
            &gate_bin,
            &["user", "add", "load", "--admin", "--data-dir", data_arg],
        )?;
        cli(
            &gate_bin,
            &[
                "connect",
                "--token",
                "ntn_gate_load",
                "--notion-url",
                &emu_url,
                "--data-dir",
                data_arg,
            ],
        )?;
        let server = spawn_serve(&gate_bin, addr, data_arg, &emu_url, &log)?;
        (server, admin)
    } else {
        let server = Proc {
            name: "notion-gate sandbox",
            child: clean_command(&gate_bin)
                .args([
                    "sandbox",
                    "--listen",
                    &addr.to_string(),
                    "--data-dir",
                    data_arg,
                ])
                .args(["--rate", "100000", "--burst", "100000"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .context("start notion-gate sandbox")?,
        };
        (server, String::new())
    };
    wait_ready(&http, &format!("{base}/healthz"), &mut server, &log).await?;
    let admin = if p.serve {
        admin
    } else {
        std::fs::read_to_string(data.join("sandbox-admin.key"))
            .context("the sandbox admin key file")?
            .trim()
            .to_owned()
    };
    let what = if p.serve {
        "`notion-gate serve --rate 100000 --burst 100000` (the standalone emulator in its own process)"
    } else {
        "`notion-gate sandbox --rate 100000 --burst 100000` (its emulator in the same process)"
    };
    let proc_name = server.name;

    // Agents of four maturities, on the admin's demo connection.
    let mut keys = BTreeMap::new();
    for maturity in ["student", "intern", "supervised", "autonomous"] {
        let r = http
            .post(format!("{base}/api/v1/agents"))
            .bearer_auth(&admin)
            .json(&json!({"name": format!("load-{maturity}"), "maturity": maturity}))
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await?;
        ensure!(status == 201, "create a {maturity} agent: {status} {v}");
        let key = v["key"]["key"].as_str().context("the agent's key")?;
        keys.insert(maturity, key.to_owned());
    }
    // A page of the demo workspace, found by search.
    let r = http
        .post(format!("{base}/api/v1/notion/search"))
        .bearer_auth(&keys["autonomous"])
        .json(&json!({"query": ""}))
        .send()
        .await?;
    let v: Value = r.json().await?;
    let page = find_page(&v).with_context(|| format!("a page in the search answer {v}"))?;

    let kinds = Arc::new(vec![
        Kind {
            label: "REST page as Markdown (intern)",
            method: Method::GET,
            path: format!("/api/v1/notion/pages/{page}?format=markdown"),
            key: keys["intern"].clone(),
            body: None,
            notion_version: false,
            expect: 200,
        },
        Kind {
            label: "REST search (autonomous)",
            method: Method::POST,
            path: "/api/v1/notion/search".into(),
            key: keys["autonomous"].clone(),
            body: Some(json!({"query": "", "limit": 10})),
            notion_version: false,
            expect: 200,
        },
        Kind {
            label: "tool endpoint get_page (supervised)",
            method: Method::POST,
            path: "/api/v1/tools/notion".into(),
            key: keys["supervised"].clone(),
            body: Some(json!({"action": "get_page", "params": {"page_id": page}})),
            notion_version: false,
            expect: 200,
        },
        Kind {
            label: "proxy GET /v1/pages/{id} (autonomous)",
            method: Method::GET,
            path: format!("/v1/pages/{page}"),
            key: keys["autonomous"].clone(),
            body: None,
            notion_version: true,
            expect: 200,
        },
        Kind {
            label: "REST create page (intern: denied)",
            method: Method::POST,
            path: "/api/v1/notion/pages".into(),
            key: keys["intern"].clone(),
            body: Some(json!({"parent": {"page_id": page}, "title": "load"})),
            notion_version: false,
            expect: 403,
        },
        Kind {
            label: "REST page read (student: denied)",
            method: Method::GET,
            path: format!("/api/v1/notion/pages/{page}"),
            key: keys["student"].clone(),
            body: None,
            notion_version: false,
            expect: 403,
        },
    ]);
    // Each kind answers as expected once before the run.
    for (i, k) in kinds.iter().enumerate() {
        let (status, body) = send(&http, &base, k).await;
        ensure!(
            status == k.expect,
            "{} answered {status} (expected {}): {body}",
            k.label,
            k.expect
        );
        let _ = i;
    }

    // The run.
    server.ensure_running(&log)?;
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut rss = Vec::new();
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if let Ok((kb, _)) = memory(pid) {
                    rss.push((start.elapsed(), kb));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            rss
        })
    };
    eprintln!(
        "load: {} clients for {} s against {base} ({proc_name}, limiter lifted)",
        p.clients, p.duration
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(p.duration);
    let mut tasks = Vec::with_capacity(p.clients);
    for c in 0..p.clients {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .build()?;
        let kinds = Arc::clone(&kinds);
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut i = c;
            while Instant::now() < deadline {
                let kind = i % kinds.len();
                i += 1;
                let k = &kinds[kind];
                let sent = Instant::now();
                let (status, body) = send(&client, &base, k).await;
                *t.statuses.entry((kind, status)).or_default() += 1;
                if status == k.expect {
                    t.latencies.push(sent.elapsed());
                } else if t.samples.len() < 3 {
                    t.samples.push(format!("{}: {status} {body}", k.label));
                }
            }
            t
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await?;
        for (k, n) in t.statuses {
            *all.statuses.entry(k).or_default() += n;
        }
        all.latencies.extend(t.latencies);
        if all.samples.len() < 10 {
            all.samples.extend(t.samples);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let rss = sampler.await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = memory(pid).map(|(kb, _)| kb).ok();
    server.ensure_running(&log)?;
    drop(server);

    // The report.
    all.latencies.sort_unstable();
    let total: u64 = all.statuses.values().sum();
    let unexpected: u64 = all
        .statuses
        .iter()
        .filter(|((k, s), _)| *s != kinds[*k].expect)
        .map(|(_, n)| n)
        .sum();
    let server_errors: u64 = all
        .statuses
        .iter()
        .filter(|((_, s), _)| *s >= 500 || *s == 0)
        .map(|(_, n)| n)
        .sum();
    let denied: u64 = all
        .statuses
        .iter()
        .filter(|((k, s), _)| *s == 403 && kinds[*k].expect == 403)
        .map(|(_, n)| n)
        .sum();
    println!(
        "bench: load, {} clients (one connection each) for {:.1} s on loopback against {what}",
        p.clients, secs
    );
    println!();
    println!(
        "| requests | requests/s | p50 | p99 | expected 403s (policy) | 5xx or transport errors | other unexpected |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {total} | {:.0} | {:.2} ms | {:.2} ms | {denied} | {server_errors} | {} |",
        total as f64 / secs,
        ms(pct(&all.latencies, 0.5)),
        ms(pct(&all.latencies, 0.99)),
        unexpected - server_errors
    );
    println!();
    println!("| kind | expected | answers by status |");
    println!("|---|---|---|");
    for (i, k) in kinds.iter().enumerate() {
        let by: Vec<String> = all
            .statuses
            .iter()
            .filter(|((kind, _), _)| *kind == i)
            .map(|((_, s), n)| {
                if *s == 0 {
                    format!("transport error: {n}")
                } else {
                    format!("{s}: {n}")
                }
            })
            .collect();
        println!("| {} | {} | {} |", k.label, k.expect, by.join(", "));
    }
    println!();
    let at = |frac: f64| -> Option<(Duration, u64)> {
        if rss.is_empty() {
            return None;
        }
        let i = ((rss.len() - 1) as f64 * frac).round() as usize;
        Some(rss[i])
    };
    println!("| `{proc_name}` VmRSS | at | MB |");
    println!("|---|---|---|");
    for (label, frac) in [("start", 0.0), ("middle", 0.5), ("end", 1.0)] {
        if let Some((t, kb)) = at(frac) {
            println!("| {label} | {:.0} s | {:.1} |", t.as_secs_f64(), mb(kb));
        }
    }
    if let Some(max) = rss.iter().map(|(_, kb)| *kb).max() {
        println!(
            "| max of {} samples (one a second) | | {:.1} |",
            rss.len(),
            mb(max)
        );
    }
    if let Some(kb) = settled {
        println!("| 2 s after the clients stop | | {:.1} |", mb(kb));
    }
    if unexpected > 0 {
        for s in &all.samples {
            eprintln!("unexpected: {s}");
        }
        bail!("{unexpected} unexpected answers ({server_errors} 5xx or transport errors)");
    }
    Ok(())
}

/// Sends one request of a kind: its status (0 on a transport error) and the start of its body.
async fn send(client: &reqwest::Client, base: &str, k: &Kind) -> (u16, String) {
    let mut req = client
        .request(k.method.clone(), format!("{base}{}", k.path))
        .bearer_auth(&k.key);
    if k.notion_version {
        req = req.header("notion-version", NOTION_VERSION);
    }
    if let Some(b) = &k.body {
        req = req.json(b);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            match r.text().await {
                Ok(t) => (status, t.chars().take(300).collect()),
                Err(e) => (0, format!("reading the body: {e}")),
            }
        }
        Err(e) => (0, e.to_string()),
    }
}

/// The id of the first page in a search answer (REST shape or Notion's).
fn find_page(v: &Value) -> Option<String> {
    let results = v["results"].as_array()?;
    results
        .iter()
        .find(|r| r["object"] == "page" || r["type"] == "page")
        .or_else(|| results.first())
        .and_then(|r| r["id"].as_str())
        .map(str::to_owned)
}
