//! `gate-bench overhead`: what the gateway adds to a read, in latency and in memory.
//!
//! The standalone emulator (`notion-emulator --seed demo`, no rate limit) and the gateway
//! (`notion-gate serve`, a temporary data folder, `--notion-url` at the emulator) run as child
//! processes on loopback ports. Before `serve` starts, the CLI creates an administrator, a
//! token connection to the emulator and an autonomous agent; the agent's key is the bearer of
//! every gateway request. The gateway's per-connection limiter is lifted (`--rate 100000
//! --burst 100000`) so that it measures the gateway, not its throttle.
//!
//! Latency: an **open-loop** load (requests scheduled at fixed intervals, each on its own
//! task, never waiting for earlier answers) at a fixed rate, after a warm-up at the same rate,
//! against four targets that take turns (`--rounds` slices of the measured time each, so that
//! a drift of the shared machine weighs on all of them alike):
//!
//! * direct: the emulator's `GET /v1/pages/{id}`;
//! * direct page + blocks: the emulator's `GET /v1/pages/{id}` then
//!   `GET /v1/blocks/{id}/children`, one after the other (what the REST route asks Notion);
//! * proxy: the gateway's `GET /v1/pages/{id}` (like for like with direct);
//! * REST: the gateway's `GET /api/v1/notion/pages/{id}?format=markdown`;
//! * floor: `GET /v1/pages/{id}` through `gate-bench passthrough`, a bare forwarder on the
//!   gateway's own HTTP stack (axum, Tokio, reqwest) with no governance. Floor − direct is
//!   what one more loopback hop costs on this machine; proxy − floor is what governance adds.
//!
//! The same on a real-sized page (`--big-blocks` top-level blocks with rich text, about 90 KB
//! of children JSON at the default 93, created through the emulator's API before anything is
//! timed): the direct children call, the direct page + children, the proxy's children call,
//! the REST read `?format=text&depth=1`, and the floor's children call. The tiny page shows the
//! fixed cost of a call; the big one what grows with the answer's size.
//!
//! While each target runs, the CPU time (user + system, all threads, from `/proc/<pid>/stat`)
//! of the gateway and of the pass-through is summed and divided by the target's requests:
//! what one request costs each process.
//!
//! Latency is timed from the moment a request is handed to the HTTP client until its whole
//! body is read. How late the sender was against the schedule is reported apart ("send lag"),
//! so that a timer tick on a loaded machine does not pollute the latency figures.
//!
//! Memory: `VmRSS` and `VmHWM` of the `serve` process from `/proc/<pid>/status`, idle after
//! the start, after the open-loop runs, and under N concurrent clients (one connection each,
//! each looping REST reads for a bounded time; `--clients 0` skips this run). Before the
//! concurrent run the high-water mark is reset (`echo 5 > /proc/<pid>/clear_refs`) and
//! `VmRSS` is also sampled every 20 ms.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

/// Notion-Version sent on direct and proxy requests.
const NOTION_VERSION: &str = "2026-03-11";

/// Parameters of the run.
#[derive(Debug, Clone, clap::Args)]
pub struct Params {
    /// Requests per second of the open-loop runs.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Measured seconds per target.
    #[arg(long, default_value_t = 20.0)]
    pub secs: f64,
    /// Warm-up seconds per target, at the same rate.
    #[arg(long, default_value_t = 3.0)]
    pub warmup: f64,
    /// Slices each target's measured time is cut into; the targets take turns slice by
    /// slice, so that a slower or busier minute of the machine weighs on all of them.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Concurrent clients (one connection each) for the memory figure; 0 skips that run.
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Seconds the concurrent clients loop (unused with `--clients 0`).
    #[arg(long, default_value_t = 20.0)]
    pub client_secs: f64,
    /// Folder holding the notion-gate and notion-emulator binaries (default: this
    /// binary's folder; build them first with
    /// `cargo build --profile dist -p notion-gate -p notion-emulator --bins`).
    #[arg(long)]
    pub bin_dir: Option<std::path::PathBuf>,
    /// One request at a time: each target sends its next request as soon as the previous
    /// answer is read (a closed loop, `--rate` unused), instead of the open loop at `--rate`.
    #[arg(long)]
    pub sequential: bool,
    /// Top-level blocks of the real-sized page (rich text, about 90 KB of children JSON
    /// at 93); 0 measures the tiny demo page only.
    #[arg(long, default_value_t = 93)]
    pub big_blocks: usize,
}

/// The figures' targets (issue "gateway server"; the REST read of the real-sized page: issue
/// "reads that spend less").
const TARGET_ADDED_P50_MS: f64 = 0.3;
const TARGET_REST_BIG_P50_MS: f64 = 0.5;
const TARGET_IDLE_MB: f64 = 20.0;
const TARGET_LOADED_MB: f64 = 60.0;

/// How a row of the added-latency table is judged: against a target, or only described.
enum Judged {
    Target(f64),
    Note(&'static str),
}

/// A child process killed (SIGKILL) and reaped when dropped, also on an error path.
pub(crate) struct Proc {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
}

impl Proc {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn ensure_running(&mut self, log: &Path) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            bail!("{} exited ({status}); its log:\n{tail}", self.name);
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the benchmark and prints its tables.
pub async fn run(p: Params) -> Result<()> {
    tokio::select! {
        r = run_inner(p) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; the child processes are killed")),
    }
}

/// The `notion-gate` and `notion-emulator` binaries in `bin_dir` (default: this binary's
/// folder), checked to exist.
pub(crate) fn binaries(bin_dir: Option<&Path>) -> Result<(PathBuf, PathBuf)> {
    let dir = crate::bin_dir(bin_dir)?;
    let gate_bin = dir.join("notion-gate");
    let emu_bin = dir.join("notion-emulator");
    for b in [&gate_bin, &emu_bin] {
        ensure!(
            b.exists(),
            "{} is missing: run `cargo build --release -p notion-gate -p notion-emulator --bins` first, or pass --bin-dir",
            b.display()
        );
    }
    Ok((gate_bin, emu_bin))
}

pub(crate) fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("bind a loopback port")?;
    Ok(l.local_addr()?.port())
}

/// A command with the gateway's environment variables removed, so that only our flags count.
pub(crate) fn clean_command(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("NOTION_GATE_") || k == "NOTION_API_KEY" || k == "RUST_LOG" {
            c.env_remove(&k);
        }
    }
    c.env("NO_COLOR", "1");
    c
}

/// Runs a CLI command and returns its stdout, trimmed.
pub(crate) fn cli(bin: &Path, args: &[&str]) -> Result<String> {
    let out = clean_command(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run notion-gate {}", args[..2].join(" ")))?;
    ensure!(
        out.status.success(),
        "notion-gate {} failed: {}",
        args[..2].join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Spawns `notion-gate serve` on `addr` over the data folder, at the emulator, with the
/// per-connection limiter lifted (`--rate 100000 --burst 100000`: the benches measure the
/// gateway, not the throttle), its log in `log`. Does not wait for it.
pub(crate) fn spawn_serve(
    gate_bin: &Path,
    addr: SocketAddr,
    data: &str,
    emu_url: &str,
    log: &Path,
) -> Result<Proc> {
    Ok(Proc {
        name: "notion-gate serve",
        child: clean_command(gate_bin)
            .args(["serve", "--listen", &addr.to_string(), "--data-dir", data])
            .args([
                "--notion-url",
                emu_url,
                "--rate",
                "100000",
                "--burst",
                "100000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .context("start notion-gate serve")?,
    })
}

/// Starts the standalone `notion-emulator --seed demo` (no rate limit) on a free loopback
/// port, its log in `dir/emulator.log`, and waits until it answers; returns the process, its
/// base URL and the log's path.
pub(crate) async fn start_emulator(
    emu_bin: &Path,
    dir: &Path,
    http: &reqwest::Client,
) -> Result<(Proc, String, PathBuf)> {
    let emu_addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let emu_url = format!("http://{emu_addr}");
    let emu_log = dir.join("emulator.log");
    let mut emu = Proc {
        name: "notion-emulator",
        child: clean_command(emu_bin)
            .args(["--listen", &emu_addr.to_string(), "--seed", "demo"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&emu_log)?)
            .spawn()
            .context("start notion-emulator")?,
    };
    wait_ready(http, &format!("{emu_url}/v1/users/me"), &mut emu, &emu_log).await?;
    Ok((emu, emu_url, emu_log))
}

pub(crate) async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    proc: &mut Proc,
    log: &Path,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        proc.ensure_running(log)?;
        if let Ok(r) = client.get(url).send().await
            && (r.status().is_success() || r.status().is_client_error())
        {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{} did not answer {url} within 60 s",
            proc.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat` (100 on Linux).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// User plus system CPU time of a process, all threads, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("read /proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let field = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("field {i} of /proc/{pid}/stat"))
    };
    Ok(field(11)? + field(12)?)
}

/// `VmRSS` and `VmHWM` in kB.
pub(crate) fn memory(pid: u32) -> Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

pub(crate) fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// One kind of request.
#[derive(Clone)]
struct Target {
    label: &'static str,
    /// URLs fetched one after the other (all must answer 200).
    urls: Vec<String>,
    headers: HeaderMap,
}

/// One measured request.
#[derive(Clone, Copy)]
struct Sample {
    latency: Duration,
    lag: Duration,
    ok: bool,
}

async fn fetch(client: &reqwest::Client, t: &Target) -> (bool, usize) {
    let mut bytes = 0;
    for url in &t.urls {
        match client.get(url).headers(t.headers.clone()).send().await {
            Ok(r) => {
                let ok = r.status().is_success();
                match r.bytes().await {
                    Ok(b) if ok => bytes += b.len(),
                    _ => return (false, bytes),
                }
            }
            Err(_) => return (false, bytes),
        }
    }
    (true, bytes)
}

/// Open loop: request `i` is sent at `start + i / rate` on its own task.
async fn open_loop(client: &reqwest::Client, t: &Target, rate: f64, secs: f64) -> Vec<Sample> {
    let n = (rate * secs).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(at).await;
        let client = client.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let sent = tokio::time::Instant::now();
            let (ok, _) = fetch(&client, &t).await;
            Sample {
                latency: sent.elapsed(),
                lag: sent - at,
                ok,
            }
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(s) = task.await {
            out.push(s);
        }
    }
    out
}

/// Closed loop: one request at a time for `secs`, each sent as soon as the previous answer
/// is read (no send lag by construction).
async fn closed_loop(client: &reqwest::Client, t: &Target, secs: f64) -> Vec<Sample> {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut out = Vec::new();
    while Instant::now() < end {
        let sent = Instant::now();
        let (ok, _) = fetch(client, t).await;
        out.push(Sample {
            latency: sent.elapsed(),
            lag: Duration::ZERO,
            ok,
        });
    }
    out
}

/// How the targets are driven, for the report.
fn loop_name(p: &Params) -> String {
    if p.sequential {
        "one request at a time (closed loop)".to_owned()
    } else {
        format!("open loop at {} req/s", p.rate)
    }
}

/// One run of a target: the closed loop with `--sequential`, else the open loop at `--rate`.
async fn run_target(client: &reqwest::Client, t: &Target, p: &Params, secs: f64) -> Vec<Sample> {
    if p.sequential {
        closed_loop(client, t, secs).await
    } else {
        open_loop(client, t, p.rate, secs).await
    }
}

pub(crate) fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Summary {
    label: &'static str,
    /// Reads of this target the gateway answered with another read's request.
    shared: u64,
    /// CPU per request of the gateway and of the pass-through while this target ran.
    cpu_us: (f64, f64),
    n: usize,
    errors: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    lag_p99: Duration,
}

fn summarize(label: &'static str, samples: &[Sample], cpu: (u64, u64)) -> Summary {
    let per_request =
        |ticks: u64| ticks as f64 * 1e6 / CLOCK_TICKS_PER_SEC / (samples.len().max(1) as f64);
    let mut lat: Vec<Duration> = samples.iter().filter(|s| s.ok).map(|s| s.latency).collect();
    lat.sort_unstable();
    let mut lag: Vec<Duration> = samples.iter().map(|s| s.lag).collect();
    lag.sort_unstable();
    Summary {
        label,
        shared: 0,
        cpu_us: (per_request(cpu.0), per_request(cpu.1)),
        n: samples.len(),
        errors: samples.iter().filter(|s| !s.ok).count(),
        p50: pct(&lat, 0.50),
        p90: pct(&lat, 0.90),
        p99: pct(&lat, 0.99),
        max: lat.last().copied().unwrap_or_default(),
        lag_p99: pct(&lag, 0.99),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

async fn run_inner(p: Params) -> Result<()> {
    ensure!(
        p.rate > 0.0 && p.secs > 0.0,
        "--rate and --secs must be positive"
    );
    let (gate_bin, emu_bin) = binaries(p.bin_dir.as_deref())?;
    let tmp = tempfile::Builder::new()
        .prefix("gate-bench-overhead-")
        .tempdir()
        .context("a temporary folder")?;
    let data_dir = tmp.path().join("data");
    let data = data_dir.to_str().context("a UTF-8 temporary path")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;

    // The emulator.
    let (mut emu, emu_url, emu_log) = start_emulator(&emu_bin, tmp.path(), &http).await?;
    let page = demo_root_page(&emu_log)?;
    let big = if p.big_blocks > 0 {
        Some(big_page(&http, &emu_url, &page, p.big_blocks).await?)
    } else {
        None
    };

    // State: an administrator, a token connection to the emulator, an autonomous agent.
    let gate = gate_bin.as_path();
    cli(
        gate,
        &["user", "add", "bench", "--admin", "--data-dir", data],
    )?;
    cli(
        gate,
        &[
            "connect",
            "--token",
            "ntn_gate_bench",
            "--notion-url",
            &emu_url,
            "--data-dir",
            data,
        ],
    )?;
    let agent_key = cli(
        gate,
        &[
            "agent",
            "add",
            "bench-reader",
            "--maturity",
            "autonomous",
            "--data-dir",
            data,
        ],
    )?;
    ensure!(!agent_key.is_empty(), "agent add printed no key");

    // The gateway.
    let gate_port = free_port()?;
    let gate_addr: SocketAddr = ([127, 0, 0, 1], gate_port).into();
    let gate_url = format!("http://{gate_addr}");
    let gate_log = tmp.path().join("gateway.log");
    let mut server = spawn_serve(gate, gate_addr, data, &emu_url, &gate_log)?;
    wait_ready(
        &http,
        &format!("{gate_url}/healthz"),
        &mut server,
        &gate_log,
    )
    .await?;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = memory(pid)?;

    // The floor: a bare pass-through on the same HTTP stack, no governance.
    let pass_addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let pass_url = format!("http://{pass_addr}");
    let pass_log = tmp.path().join("passthrough.log");
    let mut pass = Proc {
        name: "gate-bench passthrough",
        child: Command::new(std::env::current_exe().context("this binary's path")?)
            .args(["passthrough", "--listen", &pass_addr.to_string()])
            .args(["--upstream", &emu_url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&pass_log)?)
            .spawn()
            .context("start gate-bench passthrough")?,
    };
    wait_ready(
        &http,
        &format!("{pass_url}/v1/users/me"),
        &mut pass,
        &pass_log,
    )
    .await?;

    // Targets.
    let mut notion_h = HeaderMap::new();
    notion_h.insert("notion-version", HeaderValue::from_static(NOTION_VERSION));
    let mut direct_h = notion_h.clone();
    direct_h.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer ntn_gate_bench"),
    );
    let mut proxy_h = notion_h.clone();
    proxy_h.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {agent_key}"))?,
    );
    let mut rest_h = HeaderMap::new();
    rest_h.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {agent_key}"))?,
    );
    let direct = Target {
        label: "(a) direct: emulator `GET /v1/pages/{id}`",
        urls: vec![format!("{emu_url}/v1/pages/{page}")],
        headers: direct_h.clone(),
    };
    let direct2 = Target {
        label: "(a′) direct: emulator page, then its block children",
        urls: vec![
            format!("{emu_url}/v1/pages/{page}"),
            format!("{emu_url}/v1/blocks/{page}/children?page_size=100"),
        ],
        headers: direct_h.clone(),
    };
    let floor = Target {
        label: "(d) floor: bare pass-through (axum + reqwest, no governance) `GET /v1/pages/{id}`",
        urls: vec![format!("{pass_url}/v1/pages/{page}")],
        headers: direct_h,
    };
    let proxy = Target {
        label: "(c) gateway proxy `GET /v1/pages/{id}`",
        urls: vec![format!("{gate_url}/v1/pages/{page}")],
        headers: proxy_h,
    };
    let rest = Target {
        label: "(b) gateway REST `GET /api/v1/notion/pages/{id}?format=markdown`",
        urls: vec![format!(
            "{gate_url}/api/v1/notion/pages/{page}?format=markdown"
        )],
        headers: rest_h,
    };
    // The real-sized page's targets.
    let mut targets = vec![direct, direct2, proxy, rest, floor];
    if let Some(big) = &big {
        let children = |base: &str| format!("{base}/v1/blocks/{big}/children?page_size=100");
        targets.extend([
            Target {
                label: "(e) direct: emulator `GET /v1/blocks/{big}/children`",
                urls: vec![children(&emu_url)],
                headers: targets[0].headers.clone(),
            },
            Target {
                label: "(e′) direct: emulator big page, then its block children",
                urls: vec![format!("{emu_url}/v1/pages/{big}"), children(&emu_url)],
                headers: targets[0].headers.clone(),
            },
            Target {
                label: "(f) gateway proxy `GET /v1/blocks/{big}/children`",
                urls: vec![children(&gate_url)],
                headers: targets[2].headers.clone(),
            },
            Target {
                label: "(g) gateway REST `GET /api/v1/notion/pages/{big}?format=text&depth=1`",
                urls: vec![format!(
                    "{gate_url}/api/v1/notion/pages/{big}?format=text&depth=1"
                )],
                headers: targets[3].headers.clone(),
            },
            Target {
                label: "(h) floor: bare pass-through `GET /v1/blocks/{big}/children`",
                urls: vec![children(&pass_url)],
                headers: targets[0].headers.clone(),
            },
        ]);
    }
    // Every target answers before anything is timed.
    let mut sizes = Vec::new();
    for t in &targets {
        let (ok, bytes) = fetch(&http, t).await;
        if !ok {
            let mut detail = String::new();
            for url in &t.urls {
                let r = http.get(url).headers(t.headers.clone()).send().await?;
                let _ = write!(detail, "{} → {} {}; ", url, r.status(), r.text().await?);
            }
            bail!("{} failed: {detail}", t.label);
        }
        sizes.push(bytes);
    }

    // Open-loop latency.
    let load_client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(256)
        .build()?;
    // Each target is warmed up, then the targets take turns, one slice of the measured time
    // each, `rounds` times: a drift of the shared machine (another process, a slower CPU
    // minute) lands on every target alike instead of on whichever ran then.
    for t in &targets {
        emu.ensure_running(&emu_log)?;
        server.ensure_running(&gate_log)?;
        eprintln!("warm-up: {}, {} for {} s", t.label, loop_name(&p), p.warmup);
        if p.warmup > 0.0 {
            run_target(&load_client, t, &p, p.warmup).await;
        }
    }
    let rounds = p.rounds.max(1);
    let slice = p.secs / f64::from(rounds);
    let mut samples: Vec<Vec<Sample>> = targets.iter().map(|_| Vec::new()).collect();
    // CPU time of the gateway and of the pass-through while each target runs (clock ticks).
    let mut cpu: Vec<(u64, u64)> = targets.iter().map(|_| (0, 0)).collect();
    // Reads the gateway answered with another read's request (coalescing): identical reads
    // overlap in an open loop, and a shared answer is not like for like with a direct one.
    let mut shared: Vec<u64> = targets.iter().map(|_| 0).collect();
    for round in 1..=rounds {
        eprintln!(
            "round {round}/{rounds}: each target {slice:.1} s, {}",
            loop_name(&p)
        );
        for (((t, out), used), shared) in targets
            .iter()
            .zip(samples.iter_mut())
            .zip(cpu.iter_mut())
            .zip(shared.iter_mut())
        {
            emu.ensure_running(&emu_log)?;
            server.ensure_running(&gate_log)?;
            pass.ensure_running(&pass_log)?;
            let shared_before = coalesced(&http, &gate_url).await;
            let before = (cpu_ticks(pid)?, cpu_ticks(pass.pid())?);
            out.extend(run_target(&load_client, t, &p, slice).await);
            used.0 += cpu_ticks(pid)? - before.0;
            used.1 += cpu_ticks(pass.pid())? - before.1;
            *shared += coalesced(&http, &gate_url)
                .await
                .saturating_sub(shared_before);
        }
    }
    let rest = targets[3].clone();
    let summaries: Vec<Summary> = targets
        .iter()
        .zip(&samples)
        .zip(&cpu)
        .zip(&shared)
        .map(|(((t, s), &c), &shared)| Summary {
            shared,
            ..summarize(t.label, s, c)
        })
        .collect();
    let after_open = memory(pid)?;

    // Memory under concurrent clients (skipped with `--clients 0`).
    server.ensure_running(&gate_log)?;
    let under_load = if p.clients == 0 {
        None
    } else {
        let hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let before_clients = memory(pid)?;
        eprintln!(
            "concurrent: {} clients, one connection each, looping REST reads for {} s",
            p.clients, p.client_secs
        );
        let loaded = concurrent(&rest, pid, p.clients, p.client_secs).await?;
        let after_clients = memory(pid)?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let settled = memory(pid)?;
        Some(UnderLoad {
            hwm_reset,
            before_clients,
            loaded,
            after_clients,
            settled,
        })
    };
    emu.ensure_running(&emu_log)?;
    server.ensure_running(&gate_log)?;

    print_report(
        &p,
        &page,
        big.as_deref(),
        &sizes,
        &summaries,
        Memory {
            idle,
            after_open,
            under_load,
        },
    );
    drop(pass);
    drop(server);
    drop(emu);
    Ok(())
}

/// The root page id from the emulator's start-up log (`demo workspace ids`).
pub(crate) fn demo_root_page(log: &Path) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("root_page: \"").nth(1)
            && let Some(id) = rest.split('"').next()
        {
            return Ok(id.to_owned());
        }
        ensure!(
            Instant::now() < deadline,
            "no demo ids in the emulator's log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Loaded {
    requests: u64,
    errors: u64,
    secs: f64,
    max_rss_kb: u64,
    hwm_kb: u64,
    p50: Duration,
    p99: Duration,
}

/// `clients` tasks, each with its own HTTP client (one connection), looping requests until
/// the deadline; `VmRSS` sampled every 20 ms meanwhile.
async fn concurrent(t: &Target, pid: u32, clients: usize, secs: f64) -> Result<Loaded> {
    let stop = Arc::new(AtomicBool::new(false));
    let max_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let stop = stop.clone();
        let max_rss = max_rss.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok((rss, _)) = memory(pid) {
                    max_rss.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .build()?;
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let (ok, _) = fetch(&client, &t).await;
                if ok {
                    lat.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let (_, hwm) = memory(pid)?;
    lat.sort_unstable();
    Ok(Loaded {
        requests: lat.len() as u64 + errors,
        errors,
        secs: elapsed,
        max_rss_kb: max_rss.load(Ordering::Relaxed),
        hwm_kb: hwm,
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
    })
}

struct Memory {
    idle: (u64, u64),
    after_open: (u64, u64),
    /// `None` with `--clients 0`.
    under_load: Option<UnderLoad>,
}

/// The concurrent clients' run and the memory around it.
struct UnderLoad {
    hwm_reset: bool,
    before_clients: (u64, u64),
    loaded: Loaded,
    after_clients: (u64, u64),
    settled: (u64, u64),
}

fn print_report(
    p: &Params,
    page: &str,
    big: Option<&str>,
    sizes: &[usize],
    s: &[Summary],
    m: Memory,
) {
    println!(
        "bench: gateway overhead, {} ({} s warm-up + {} s per target, in {} turns), page {page} (demo root)",
        loop_name(p),
        p.warmup,
        p.secs,
        p.rounds.max(1)
    );
    println!(
        "response bytes: direct {}, direct page + children {}, proxy {}, REST markdown {}, floor {}",
        sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]
    );
    if let (Some(big), [children, page_and_children, proxy, rest, floor]) = (big, &sizes[5..]) {
        println!(
            "real-sized page {big} ({} top-level blocks): children JSON {children} bytes, page + children {page_and_children}, proxy {proxy}, REST text {rest}, floor {floor}",
            p.big_blocks
        );
    }
    println!();
    println!(
        "| target | requests | errors | shared (coalesced) | p50 | p90 | p99 | max | send lag p99 | gateway CPU / request | pass-through CPU / request |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for x in s {
        println!(
            "| {} | {} | {} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.0} µs | {:.0} µs |",
            x.label,
            x.n,
            x.errors,
            x.shared,
            ms(x.p50),
            ms(x.p90),
            ms(x.p99),
            ms(x.max),
            ms(x.lag_p99),
            x.cpu_us.0,
            x.cpu_us.1
        );
    }
    println!();
    let diff = |a: &Summary, b: &Summary| (ms(a.p50) - ms(b.p50), ms(a.p99) - ms(b.p99));
    // One row per figure: its label, the two targets it compares, and how it is judged.
    let mut rows = vec![
        (
            "(c) proxy − (a) direct (like for like)",
            diff(&s[2], &s[0]),
            Judged::Target(TARGET_ADDED_P50_MS),
        ),
        (
            "(b) REST − (a′) direct page + children (same Notion requests)",
            diff(&s[3], &s[1]),
            Judged::Target(TARGET_ADDED_P50_MS),
        ),
        (
            "(b) REST − (a) direct page",
            diff(&s[3], &s[0]),
            Judged::Note("(not like for like)"),
        ),
        (
            "(d) floor − (a) direct: one more loopback hop, no governance",
            diff(&s[4], &s[0]),
            Judged::Note("(split of (c))"),
        ),
        (
            "(c) proxy − (d) floor: what governance adds to the hop",
            diff(&s[2], &s[4]),
            Judged::Note("(split of (c))"),
        ),
    ];
    if s.len() >= 10 {
        rows.extend([
            (
                "(f) proxy − (e) direct children, real-sized page",
                diff(&s[7], &s[5]),
                Judged::Target(TARGET_ADDED_P50_MS),
            ),
            (
                "(g) REST depth=1 − (e′) direct page + children, real-sized page",
                diff(&s[8], &s[6]),
                Judged::Target(TARGET_REST_BIG_P50_MS),
            ),
            (
                "(h) floor − (e) direct children: the hop, real-sized page",
                diff(&s[9], &s[5]),
                Judged::Note("(split of (f))"),
            ),
            (
                "(f) proxy − (h) floor: governance, real-sized page",
                diff(&s[7], &s[9]),
                Judged::Note("(split of (f))"),
            ),
        ]);
    }
    println!("| added latency | p50 | p99 | target (p50) | verdict |");
    println!("|---|---|---|---|---|");
    for (label, (p50, p99), judged) in rows {
        let (target, verdict_text) = match judged {
            Judged::Target(t) => (format!("≤ {t} ms"), verdict(p50 <= t)),
            Judged::Note(note) => (String::new(), note),
        };
        println!("| {label} | {p50:+.3} ms | {p99:+.3} ms | {target} | {verdict_text} |");
    }
    println!();
    match &m.under_load {
        None => println!("memory under load: skipped (--clients 0)"),
        Some(u) => {
            let l = &u.loaded;
            println!(
                "memory under load: {} clients, {:.1} s, {} requests ({:.0} req/s), {} errors, p50 {:.2} ms, p99 {:.2} ms; high-water mark reset before: {}",
                p.clients,
                l.secs,
                l.requests,
                l.requests as f64 / l.secs,
                l.errors,
                ms(l.p50),
                ms(l.p99),
                if u.hwm_reset {
                    "yes"
                } else {
                    "no (VmHWM covers the whole life)"
                }
            );
        }
    }
    println!();
    println!("| `notion-gate serve` memory | VmRSS | VmHWM | target | verdict |");
    println!("|---|---|---|---|---|");
    let idle_mb = mb(m.idle.0);
    println!(
        "| idle, 1 s after start | {:.1} MB | {:.1} MB | ≤ {TARGET_IDLE_MB} MB | {} |",
        idle_mb,
        mb(m.idle.1),
        verdict(idle_mb <= TARGET_IDLE_MB)
    );
    println!(
        "| after the open-loop runs | {:.1} MB | {:.1} MB | | |",
        mb(m.after_open.0),
        mb(m.after_open.1)
    );
    let Some(u) = &m.under_load else {
        return;
    };
    let l = &u.loaded;
    println!(
        "| just before the {} clients | {:.1} MB | {:.1} MB | | |",
        p.clients,
        mb(u.before_clients.0),
        mb(u.before_clients.1)
    );
    let peak = l.hwm_kb.max(l.max_rss_kb);
    println!(
        "| peak under {} clients (max sampled VmRSS / VmHWM) | {:.1} MB | {:.1} MB | ≤ {TARGET_LOADED_MB} MB | {} |",
        p.clients,
        mb(l.max_rss_kb),
        mb(l.hwm_kb),
        verdict(mb(peak) <= TARGET_LOADED_MB)
    );
    println!(
        "| right after the clients stop | {:.1} MB | {:.1} MB | | |",
        mb(u.after_clients.0),
        mb(u.after_clients.1)
    );
    println!(
        "| 2 s later | {:.1} MB | {:.1} MB | | |",
        mb(u.settled.0),
        mb(u.settled.1)
    );
}

/// Creates a page of `blocks` top-level blocks under `parent` through the emulator's API
/// (headings, paragraphs, to-dos and list items, each with two rich-text runs: a bold label
/// and a linked sentence), about 1 KB of children JSON per block; answers its id.
async fn big_page(
    http: &reqwest::Client,
    emu_url: &str,
    parent: &str,
    blocks: usize,
) -> Result<String> {
    let auth = |r: reqwest::RequestBuilder| {
        r.bearer_auth("ntn_gate_bench")
            .header("notion-version", NOTION_VERSION)
    };
    let created: serde_json::Value = auth(http.post(format!("{emu_url}/v1/pages")))
        .json(&serde_json::json!({
            "parent": {"page_id": parent},
            "properties": {"title": {"title": [{"text": {"content": "A real-sized page"}}]}}
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"]
        .as_str()
        .context("the created page has an id")?
        .to_owned();
    let runs = |i: usize| {
        serde_json::json!([
            {"type": "text", "text": {"content": format!("Item {i}: ")}, "annotations": {"bold": true}},
            {"type": "text", "text": {"content": "the quarterly plan names owners, dates and the open questions (see the spec)", "link": {"url": "https://example.com/spec"}}}
        ])
    };
    let all: Vec<serde_json::Value> = (0..blocks)
        .map(|i| {
            let ty = match i % 10 {
                0 => "heading_2",
                1..=5 => "paragraph",
                6 | 7 => "bulleted_list_item",
                _ => "to_do",
            };
            let mut content = serde_json::json!({"rich_text": runs(i)});
            if ty == "to_do" {
                content["checked"] = serde_json::Value::Bool(i % 3 == 0);
            }
            serde_json::json!({"object": "block", "type": ty, ty: content})
        })
        .collect();
    for chunk in all.chunks(100) {
        auth(http.patch(format!("{emu_url}/v1/blocks/{id}/children")))
            .json(&serde_json::json!({"children": chunk}))
            .send()
            .await?
            .error_for_status()
            .context("append the real-sized page's blocks")?;
    }
    Ok(id)
}

/// The gateway's `notion_coalesced_requests_total` (0 when absent or unreadable).
async fn coalesced(http: &reqwest::Client, gate_url: &str) -> u64 {
    let Ok(r) = http.get(format!("{gate_url}/metrics")).send().await else {
        return 0;
    };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("notion_coalesced_requests_total"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}
