//! `notion-emulator`: run the in-memory Notion API standalone.
//!
//! ```text
//! notion-emulator --listen 127.0.0.1:8787 [--seed demo|empty] [--token T]... [--rate R --burst B]
//!                 [--latency-ms L] [--fail-rate P]
//!                 [--oauth-client-id ID --oauth-client-secret S --oauth-redirect-uri URI]
//!                 [--webhook-url URL --webhook-token TOKEN]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use notion_emulator::{Emulator, FaultConfig, RateLimit, Seed, WebhookTarget};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SeedArg {
    Demo,
    Empty,
}

#[derive(Debug, Parser)]
#[command(name = "notion-emulator", about = "In-memory Notion API emulator")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Initial content.
    #[arg(long, value_enum, default_value = "demo")]
    seed: SeedArg,
    /// Accepted bearer token (repeatable). Without it any token is accepted.
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// Per-token rate (requests per second).
    #[arg(long)]
    rate: Option<f64>,
    /// Per-token burst.
    #[arg(long, default_value_t = 10)]
    burst: u32,
    /// Added latency per request in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability of a 500 on every request.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// OAuth client id.
    #[arg(long)]
    oauth_client_id: Option<String>,
    /// OAuth client secret.
    #[arg(long)]
    oauth_client_secret: Option<String>,
    /// A free workspace: file uploads limited to 5 MiB per file (default: a paid workspace's
    /// 5 GiB).
    #[arg(long, conflicts_with = "upload_limit")]
    free_workspace: bool,
    /// The workspace's per-file upload limit in bytes.
    #[arg(long)]
    upload_limit: Option<u64>,
    /// OAuth redirect URI (repeatable).
    #[arg(long = "oauth-redirect-uri")]
    oauth_redirect_uris: Vec<String>,
    /// Send Notion's webhooks here (e.g. http://127.0.0.1:8080/webhooks/notion): the
    /// verification handshake first, then signed events for every change.
    #[arg(long, env = "NOTION_EMULATOR_WEBHOOK_URL", requires = "webhook_token")]
    webhook_url: Option<String>,
    /// The webhook verification token (the handshake's, and the key of every signature).
    #[arg(long, env = "NOTION_EMULATOR_WEBHOOK_TOKEN", hide_env_values = true)]
    webhook_token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut b = Emulator::builder()
        .seed(match args.seed {
            SeedArg::Demo => Seed::Demo,
            SeedArg::Empty => Seed::Empty,
        })
        .latency(Duration::from_millis(args.latency_ms));
    if !args.tokens.is_empty() {
        b = b.tokens(args.tokens.clone());
    }
    if args.free_workspace {
        b = b.free_workspace();
    }
    if let Some(limit) = args.upload_limit {
        b = b.file_upload_limit(limit);
    }
    if let Some(r) = args.rate {
        anyhow::ensure!(r > 0.0, "--rate must be positive");
        b = b.rate_limit(RateLimit::per_second(r, args.burst));
    }
    if args.fail_rate > 0.0 {
        b = b.faults(FaultConfig::fail_rate(args.fail_rate));
    }
    if let Some(id) = &args.oauth_client_id {
        let secret = args
            .oauth_client_secret
            .clone()
            .context("--oauth-client-secret is required with --oauth-client-id")?;
        b = b.oauth_client(id, &secret, args.oauth_redirect_uris.clone());
    }
    if let (Some(url), Some(token)) = (&args.webhook_url, &args.webhook_token) {
        b = b.webhook(WebhookTarget::new(url, token));
    }
    let emu = b.start_on(args.listen).await?;
    tracing::info!(address = %emu.base_url(), "notion-emulator listening");
    if let Some(ids) = emu.try_demo_ids() {
        tracing::info!(?ids, "demo workspace ids");
    }
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(())
}
