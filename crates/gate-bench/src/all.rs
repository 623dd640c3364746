//! `gate-bench all`: every figure of `docs/benchmarks.md` in one run, as one Markdown report.
//!
//! Each step runs in its own process, one after the other, so that no run shares a heap, a
//! runtime or a port with another: gate-bench's own subcommands are this binary run again
//! with the subcommand's defaults; the benchmarks that live beside their crate (gate-core's
//! Criterion bench, gate-store's audit example) are run through `cargo` from the workspace
//! this binary was built from. The report starts with the machine line; every step gets a
//! heading, the exact command that reproduces it, the 1-minute load average just before it
//! and its output. A failed step is reported and the run goes on; the exit status says
//! whether any failed.
//!
//! To add a figure: add one line to [`STEPS`]. `--only a,b` and `--skip a,b` pick steps.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};

/// How a step runs.
#[derive(Clone, Copy)]
enum Runner {
    /// This binary with these arguments.
    Bench,
    /// `cargo` with these arguments, in the workspace.
    Cargo,
}

/// One figure (or group of figures) of `docs/benchmarks.md`.
struct Step {
    name: &'static str,
    runner: Runner,
    args: &'static [&'static str],
}

const fn bench(name: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        runner: Runner::Bench,
        args,
    }
}

const fn cargo(name: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        runner: Runner::Cargo,
        args,
    }
}

/// Every step, in the order of `docs/benchmarks.md`.
const STEPS: &[Step] = &[
    bench("children", &["children"]),
    bench("tree", &["tree"]),
    bench("mirror", &["mirror"]),
    bench("render", &["render"]),
    bench("decode", &["decode"]),
    cargo(
        "render-example",
        &[
            "run",
            "--release",
            "-q",
            "-p",
            "notion-markdown",
            "--example",
            "render_throughput",
        ],
    ),
    cargo(
        "decision",
        &["bench", "-q", "-p", "gate-core", "--bench", "decision"],
    ),
    cargo(
        "audit",
        &[
            "run",
            "--release",
            "-q",
            "-p",
            "gate-store",
            "--example",
            "audit_throughput",
        ],
    ),
    bench("durability", &["durability"]),
    bench("overhead", &["overhead"]),
    bench("shared-rate", &["shared-rate"]),
    bench("coalesce", &["coalesce"]),
    bench("faults", &["faults"]),
    // SQLite; `gate-bench crash --database-url …` for PostgreSQL.
    bench("crash", &["crash"]),
    // Needs NOTION_GATE_DATABASE_URL (an empty PostgreSQL database) and Redis.
    bench("scale", &["scale"]),
    bench("load", &["load"]),
];

/// The names of the steps, for `--help` and errors.
pub fn names() -> String {
    STEPS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Runs the steps (all, or those named in `only`, less those in `skip`) and prints the report.
pub fn run(only: &[String], skip: &[String]) -> Result<()> {
    for n in only.iter().chain(skip) {
        if !STEPS.iter().any(|s| s.name == n) {
            bail!("no step named {n:?}; the steps are: {}", names());
        }
    }
    let exe = std::env::current_exe()?;
    let workspace = workspace_root();
    println!();
    println!(
        "Every step below ran in its own process, one after the other (`gate-bench all`). \
         Build first: `cargo build --release -p notion-gate -p notion-emulator -p gate-bench --bins`."
    );
    let mut failed = Vec::new();
    for step in STEPS {
        if (!only.is_empty() && !only.iter().any(|n| n == step.name))
            || skip.iter().any(|n| n == step.name)
        {
            continue;
        }
        let (mut cmd, shown) = match step.runner {
            Runner::Bench => {
                let mut c = Command::new(&exe);
                c.args(step.args);
                (
                    c,
                    format!(
                        "cargo run --release -p gate-bench -- {}",
                        step.args.join(" ")
                    ),
                )
            }
            Runner::Cargo => {
                let mut c = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
                c.args(step.args).current_dir(&workspace);
                (c, format!("cargo {}", step.args.join(" ")))
            }
        };
        println!();
        println!("## {}", step.name);
        println!();
        println!("```\n{shown}\n```");
        println!();
        println!("load average (1 min) before this step: {}", load_average());
        eprintln!("gate-bench all: {} ({shown})", step.name);
        let started = Instant::now();
        let out = cmd.stdin(Stdio::null()).stderr(Stdio::inherit()).output();
        let secs = started.elapsed().as_secs_f64();
        match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                println!();
                for line in text.lines().filter(|l| !l.starts_with("machine: ")) {
                    println!("{line}");
                }
                if o.status.success() {
                    println!();
                    println!("({:.0} s)", secs);
                } else {
                    println!();
                    println!("**FAILED** ({}) after {secs:.0} s", o.status);
                    failed.push(step.name);
                }
            }
            Err(e) => {
                println!("**FAILED**: cannot run it: {e}");
                failed.push(step.name);
            }
        }
    }
    if !failed.is_empty() {
        bail!("failed steps: {}", failed.join(", "));
    }
    Ok(())
}

/// The workspace this binary was built from (two folders above this crate).
fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(crate_dir)
        .to_path_buf()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
