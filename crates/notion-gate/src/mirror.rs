//! `notion-gate mirror sync` and `notion-gate mirror status` (the local mirror, `gate-mirror`),
//! and the background sync of `serve --mirror` ([`spawn_background`]).
//!
//! A sync reads the connection from the store like every admin command and sends its
//! requests through the gate's registry connection (the connection's limiter and token
//! refresh). Ctrl-C stops it after the pages in flight; what is done stays done.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use gate_core::Gate;
use gate_mirror::{MirrorStatus, Mirrors, SyncOptions, SyncProgress, SyncReport};
use gate_store::ConnectionId;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{ProcessEnv, ResolveOptions, Settings};
use crate::opts::{NotionUrlArgs, StoreArgs};
use crate::setup;

/// `notion-gate mirror …`.
#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// Sync the local mirror of a connection once (first sync: everything; later: changes).
    Sync(MirrorSyncArgs),
    /// Show the local mirrors: pages, last sync, lag, errors.
    Status(MirrorStatusArgs),
    /// Print the verification token Notion's webhook handshake delivered (paste it in the
    /// integration's Webhooks settings to activate the subscription). A secret: admins only.
    WebhookToken(MirrorWebhookTokenArgs),
}

/// `notion-gate mirror webhook-token`.
#[derive(Debug, Clone, Args)]
pub struct MirrorWebhookTokenArgs {
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connection [default: the only one].
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
}

/// `notion-gate mirror sync`.
#[derive(Debug, Clone, Args)]
pub struct MirrorSyncArgs {
    /// State (the mirror lives in `<data dir>/mirror/<connection id>/`).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Notion.
    #[command(flatten)]
    pub notion: NotionUrlArgs,
    /// The connection to mirror [default: the only one].
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
    /// Requests per second, as `serve --rate` [default: 3].
    #[arg(long, value_name = "R")]
    pub rate: Option<String>,
    /// List everything and drop trashed or unshared pages, whatever the watermark.
    #[arg(long)]
    pub reconcile: bool,
    /// Pages fetched at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub pages_in_flight: usize,
}

/// `notion-gate mirror status`.
#[derive(Debug, Clone, Args)]
pub struct MirrorStatusArgs {
    /// State.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this connection.
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `mirror` command.
pub async fn mirror(cmd: MirrorCommand) -> Result<()> {
    match cmd {
        MirrorCommand::Sync(args) => sync(args).await,
        MirrorCommand::Status(args) => status(args),
        MirrorCommand::WebhookToken(args) => webhook_token(args).await,
    }
}

/// Prints the token on stdout and what it is on stderr.
async fn webhook_token(args: MirrorWebhookTokenArgs) -> Result<()> {
    let settings = resolve(&args.store, None, None)?;
    let gate = setup::open_gate(&settings, &settings.notion_url).await?;
    let result = async {
        let conn = pick_connection(&gate, args.connection.as_deref()).await?;
        let tokens = gate.notion_webhook_tokens(conn).await?.ok_or_else(|| {
            anyhow!(
                "no webhook verification token for connection {conn} yet: create the \
                 subscription in Notion with the URL …/webhooks/notion/{conn} first"
            )
        })?;
        Ok::<_, anyhow::Error>((conn, tokens))
    }
    .await;
    gate.shutdown().await;
    let (conn, tokens) = result?;
    use secrecy::ExposeSecret as _;
    eprintln!(
        "connection {conn}: received {}, {}",
        gate_mirror::rfc3339(tokens.received_at.unix_timestamp() * 1000),
        if tokens.verified_at.is_some() {
            "verified by a signed delivery"
        } else {
            "not verified yet (paste it in Notion to activate the subscription)"
        }
    );
    println!("{}", tokens.current.expose_secret());
    Ok(())
}

fn resolve(
    store: &StoreArgs,
    notion: Option<&NotionUrlArgs>,
    rate: Option<&str>,
) -> Result<Settings> {
    let mut flags = match notion {
        Some(n) => store.flags_with(n),
        None => store.flags(),
    };
    flags.rate = rate.map(str::to_owned);
    Settings::resolve(
        &flags,
        &ProcessEnv,
        ResolveOptions {
            sandbox_notion_url: true,
        },
    )
}

async fn pick_connection(gate: &Gate, wanted: Option<&str>) -> Result<ConnectionId> {
    let all = gate
        .store()
        .list_connections(None)
        .await
        .context("list the connections")?;
    match wanted {
        Some(w) => {
            let id: ConnectionId = w
                .trim()
                .parse()
                .map_err(|_| anyhow!("--connection {w:?} is not a connection id"))?;
            if all.iter().any(|c| c.id == id) {
                Ok(id)
            } else {
                Err(anyhow!("no connection {id}"))
            }
        }
        None => match all.as_slice() {
            [one] => Ok(one.id),
            [] => Err(anyhow!(
                "no Notion connection yet: `notion-gate connect --token …` first"
            )),
            many => Err(anyhow!(
                "several connections; pick one with --connection: {}",
                many.iter()
                    .map(|c| format!(
                        "{} ({})",
                        c.id,
                        c.bot.workspace_name.as_deref().unwrap_or("unnamed")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
    }
}

fn progress_line(p: &SyncProgress) -> String {
    match p.phase {
        "listing" => format!("listing: {} objects, {} requests", p.listed, p.requests),
        _ => format!(
            "pages {}/{} fetched, {} requests, {} errors",
            p.fetched, p.to_fetch, p.requests, p.errors
        ),
    }
}

async fn sync(args: MirrorSyncArgs) -> Result<()> {
    let settings = resolve(&args.store, Some(&args.notion), args.rate.as_deref())?;
    let gate = setup::open_gate(&settings, &settings.notion_url).await?;
    let result = sync_with(&gate, &settings, &args).await;
    gate.shutdown().await;
    let report = result?;
    println!(
        "mirror sync {}: {} listed, {} fetched, {} removed, {} errors, {} Notion requests{}",
        if report.full {
            "(full)"
        } else {
            "(incremental)"
        },
        report.listed,
        report.fetched,
        report.removed,
        report.errors,
        report.requests,
        if report.stopped {
            "; stopped: run it again to finish"
        } else {
            ""
        }
    );
    Ok(())
}

async fn sync_with(gate: &Gate, settings: &Settings, args: &MirrorSyncArgs) -> Result<SyncReport> {
    if gate.is_local_only() {
        return Err(anyhow!(
            "local-only mode is on: a sync calls Notion; turn it off to sync"
        ));
    }
    let conn_id = pick_connection(gate, args.connection.as_deref()).await?;
    let mirrors = gate
        .mirrors()
        .cloned()
        .unwrap_or_else(|| Mirrors::new(&settings.data_dir));
    let store = mirrors.open(&conn_id.to_string())?;
    let conn = gate
        .mirror_connection(conn_id)
        .await
        .map_err(|e| anyhow!("connection {conn_id}: {e}"))?;

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the pages in flight (finished pages are kept)…");
            flag.store(true, Ordering::SeqCst);
        }
    });
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let shown = bar.clone();
    let last_line = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
    let options = SyncOptions::new()
        .reconcile(args.reconcile)
        .concurrency(args.pages_in_flight, 4)
        .stop(stop)
        .progress(move |p| match &shown {
            Some(bar) => bar.set_message(progress_line(p)),
            None => {
                // Plain lines, at most one every 2 s (and the last one).
                let mut last = last_line.lock().unwrap_or_else(|e| e.into_inner());
                if p.phase == "done" || last.elapsed() >= Duration::from_secs(2) {
                    *last = std::time::Instant::now();
                    eprintln!("{}", progress_line(p));
                }
            }
        });
    let result = gate_mirror::sync(&conn, &store, &options).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(result?)
}

fn print_status(conn: &str, s: &MirrorStatus) {
    println!("connection {conn}");
    println!("  pages        {} ({} pending)", s.pages, s.pending);
    println!("  data sources {}", s.data_sources);
    println!(
        "  last sync    {}",
        s.last_sync_at.as_deref().unwrap_or("never")
    );
    if let Some(t) = s.last_sync_at.as_deref().and_then(gate_mirror::parse_ms) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        println!("  lag          {} s", ((now - t) / 1000).max(0));
    }
    println!(
        "  full listing {}",
        s.last_full_sync_at.as_deref().unwrap_or("never")
    );
    println!("  errors       {}", s.errors);
    if let Some(e) = &s.last_error {
        println!("  last error   {e}");
    }
}

fn status(args: MirrorStatusArgs) -> Result<()> {
    let settings = resolve(&args.store, None, None)?;
    let mirrors = Mirrors::new(&settings.data_dir);
    let conns: Vec<String> = match &args.connection {
        Some(c) => vec![c.trim().to_owned()],
        None => mirrors.connections(),
    };
    let mut all = serde_json::Map::new();
    for c in &conns {
        let Some(store) = mirrors.get(c)? else {
            if args.connection.is_some() {
                return Err(anyhow!(
                    "no mirror for connection {c} in {}",
                    mirrors.root().display()
                ));
            }
            continue;
        };
        let s = store.status()?;
        if args.json {
            all.insert(c.clone(), serde_json::to_value(&s)?);
        } else {
            print_status(c, &s);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if conns.is_empty() {
        println!(
            "no mirror in {} yet: run `notion-gate mirror sync`",
            mirrors.root().display()
        );
    }
    Ok(())
}

/// How often `serve --mirror` syncs each connection.
pub const BACKGROUND_INTERVAL: Duration = Duration::from_secs(60);
/// The pause before each listing request and each page of a background sync: it keeps at
/// most one request in flight and leaves the connection's rate to agents (the limiter has no
/// priorities).
pub const BACKGROUND_PACE: Duration = Duration::from_millis(500);

/// `serve --mirror`: keeps every connection's mirror fresh, one incremental sync per
/// [`BACKGROUND_INTERVAL`] (a full listing hourly), paced by [`BACKGROUND_PACE`]; skipped
/// while local-only mode is on.
pub fn spawn_background(gate: Gate, data_dir: std::path::PathBuf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mirrors = gate
            .mirrors()
            .cloned()
            .unwrap_or_else(|| Mirrors::new(&data_dir));
        loop {
            if !gate.is_local_only() {
                match gate.store().list_connections(None).await {
                    Ok(conns) => {
                        for c in conns {
                            background_one(&gate, &mirrors, c.id).await;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "mirror: cannot list the connections"),
                }
            }
            tokio::time::sleep(BACKGROUND_INTERVAL).await;
        }
    })
}

async fn background_one(gate: &Gate, mirrors: &Mirrors, id: ConnectionId) {
    let store = match mirrors.open(&id.to_string()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(connection_id = %id, error = %e, "mirror: cannot open");
            return;
        }
    };
    let conn = match gate.mirror_connection(id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(connection_id = %id, error = %e, "mirror: connection unusable");
            return;
        }
    };
    // Local-only switched on mid-way: stop after the page in flight.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (gate, stop) = (gate.clone(), stop.clone());
        tokio::spawn(async move {
            while !gate.is_local_only() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop.store(true, Ordering::SeqCst);
        })
    };
    let options = SyncOptions::new().pace(Some(BACKGROUND_PACE)).stop(stop);
    let result = gate_mirror::sync(&conn, &store, &options).await;
    watcher.abort();
    match result {
        Ok(r) => {
            metrics::counter!("mirror_sync_requests_total").increment(r.requests);
            metrics::counter!("mirror_pages_fetched_total").increment(r.fetched);
            if r.fetched > 0 || r.removed > 0 || r.errors > 0 {
                tracing::info!(connection_id = %id, fetched = r.fetched, removed = r.removed,
                    errors = r.errors, requests = r.requests, "mirror synced");
            }
        }
        Err(e) => tracing::warn!(connection_id = %id, error = %e, "mirror sync failed"),
    }
}
