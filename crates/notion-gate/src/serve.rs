//! `notion-gate serve` and `notion-gate sandbox`: open the store (migrations run), load or
//! create the vault key, build the gate and the HTTP application, listen, and serve until
//! Ctrl-C or SIGTERM; then stop accepting, let in-flight requests finish, and flush the audit
//! (`Gate::shutdown`) before exiting.
//!
//! The first start on an empty database creates the administrator `admin` and prints its key
//! once (a log line and a banner on stderr). `serve` with `NOTION_API_KEY` set creates or
//! refreshes a token connection for the first user. `sandbox` runs the same gateway against an
//! in-process Notion emulator seeded with the demo workspace, gives the admin a connection to
//! it, and writes the admin key to `<data dir>/sandbox-admin.key` (0600).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use gate_core::Gate;
use gate_server::{AppState, Application, ServerOptions, ServerSettings};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use crate::config::{SANDBOX_NOTION_URL_FILE, Settings};
use crate::setup;

/// The sandbox admin key file, in the data folder.
pub const SANDBOX_KEY_FILE: &str = "sandbox-admin.key";
/// The token the sandbox's connection uses (the emulator accepts any token).
const SANDBOX_NOTION_TOKEN: &str = "ntn_sandbox_demo_workspace";
/// Name of the administrator created on the first start.
pub const FIRST_ADMIN: &str = "admin";

/// `notion-gate serve`.
pub async fn serve(settings: Settings) -> Result<()> {
    let notion_url = settings.notion_url.clone();
    run(settings, notion_url, None).await
}

/// `notion-gate sandbox`.
pub async fn sandbox(settings: Settings) -> Result<()> {
    if settings.notion_url_origin != crate::config::Origin::Default {
        tracing::info!(
            "sandbox: ignoring the Notion URL from {} (the sandbox runs its own emulator)",
            settings.notion_url_origin
        );
    }
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .workspace_name("Sandbox")
        .start()
        .await
        .map_err(|e| anyhow!("cannot start the Notion emulator: {e}"))?;
    let notion_url = emu.base_url();
    tracing::info!("sandbox: demo Notion workspace emulated at {notion_url}");
    run(settings, notion_url, Some(emu)).await
}

async fn run(mut settings: Settings, notion_url: String, emu: Option<Emulator>) -> Result<()> {
    let sandbox = emu.is_some();
    let listener = TcpListener::bind(settings.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (--listen / NOTION_GATE_LISTEN)",
            settings.listen
        )
    })?;
    let addr = listener.local_addr().context("the bound address")?;
    let base = format!("http://{addr}");
    // The console links in approval notifications use the bound address by default.
    settings.public_url.get_or_insert_with(|| base.clone());

    let store = setup::open_store(&settings).await?;
    tracing::info!(
        database = %settings.database_display(),
        audit_durability = %settings.audit_durability,
        "database ready (migrations applied)"
    );
    setup::check_redis(&settings).await?;
    let gate = setup::build_gate(&settings, store, &notion_url)?;
    if !settings.approval_webhooks.is_empty() {
        let hooks: Vec<&str> = settings
            .approval_webhooks
            .iter()
            .map(gate_core::WebhookTarget::label)
            .collect();
        tracing::info!(
            hooks = ?hooks,
            signed = settings.webhook_secret.is_some(),
            "approval notifications enabled"
        );
    }
    if settings.local_only {
        tracing::warn!(
            "local-only mode is on: every call to Notion is refused (reads of mirrored pages are answered from the local mirror)"
        );
    }

    let first_key = bootstrap(&gate).await?;
    let mut sandbox_key = None;
    if sandbox {
        sandbox_key =
            Some(prepare_sandbox(&gate, &settings, first_key.as_ref(), &notion_url).await?);
    } else if let Some(token) = &settings.notion_api_key {
        connect_api_key(&gate, token).await;
    }
    if settings.mirror {
        tracing::info!("local mirror: synced in the background (serve --mirror)");
        crate::mirror::spawn_background(gate.clone(), settings.data_dir.clone());
    }

    let public_url = settings.public_url.clone().unwrap_or_else(|| base.clone());
    let mut server = ServerSettings::new(public_url.clone(), notion_url.clone())
        .session_ttl(settings.session_ttl)
        .rate_per_second(settings.limiter.rate_per_second);
    if let Some(uri) = &settings.oauth_redirect_uri {
        server = server.oauth_redirect_uri(uri.clone());
    }
    if settings.oauth.is_some() {
        tracing::info!(redirect_uri = %server.redirect_uri(), "OAuth connections enabled");
    }
    let state = AppState::new(gate.clone(), server);
    let options = ServerOptions::default()
        .failed_auth_per_minute(settings.failed_auth_per_minute)
        .cors_origins(&settings.cors_origins)
        .context("--cors-origin")?;
    let app = Application::build(listener, gate_server::api::app(state, &options))
        .context("build the application")?;

    let expiry = tokio::spawn(expire_approvals(gate.clone()));
    tracing::info!("listening on {base}");
    if let Some(key) = &sandbox_key {
        sandbox_banner(&base, &settings.data_dir, key);
    }
    let stopping = {
        let gate = gate.clone();
        async move {
            shutdown_signal().await;
            // Approval waits (up to 60 s) answer now rather than hold up the shutdown.
            gate.end_waits();
        }
    };
    let served = app.run_until_stopped(stopping).await;
    expiry.abort();
    tracing::info!("stopped accepting requests; flushing the audit");
    let stats = gate.shutdown().await;
    tracing::info!(
        written = stats.written,
        lost = stats.lost,
        "audit flushed; goodbye"
    );
    if let Some(emu) = emu {
        let _ = std::fs::remove_file(settings.data_dir.join(SANDBOX_NOTION_URL_FILE));
        emu.shutdown().await;
    }
    gate.store().close().await;
    served.context("the server failed")?;
    if stats.lost > 0 {
        return Err(anyhow!(
            "{} audit record(s) could not be written before exiting",
            stats.lost
        ));
    }
    Ok(())
}

/// Creates the first administrator on an empty database and prints the key once.
async fn bootstrap(gate: &Gate) -> Result<Option<SecretString>> {
    if !gate.store().list_users().await?.is_empty() {
        return Ok(None);
    }
    let (user, key) = gate
        .bootstrap_admin(FIRST_ADMIN)
        .await
        .map_err(|e| anyhow!("cannot create the first administrator: {e}"))?;
    tracing::warn!(
        user = %user.name,
        "first start: created the administrator; its key is printed below, once"
    );
    let line = "=".repeat(72);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\n{line}\n  First start: administrator '{}' created. Its key (shown only now):\n\n    {}\n\n  \
         Use it as `Authorization: Bearer <key>`. Keep it safe; add users and agents\n  \
         with `notion-gate user add` / `notion-gate agent add`.\n{line}\n",
        user.name,
        key.key.expose_secret()
    );
    Ok(Some(key.key))
}

/// `NOTION_API_KEY` at the start of `serve`: a token connection for the first user (created
/// or refreshed). A failure is logged, not fatal: the gateway still serves.
async fn connect_api_key(gate: &Gate, token: &SecretString) {
    let result = async {
        let admin = gate.system_admin().await?;
        let first = gate
            .store()
            .list_users()
            .await?
            .into_iter()
            .min_by_key(|u| (u.created_at, u.id))
            .map(|u| u.id);
        gate.add_token_connection(&admin, first, token.clone())
            .await
    }
    .await;
    match result {
        Ok(c) => tracing::info!(
            connection_id = %c.id,
            workspace = c.bot.workspace_name.as_deref().unwrap_or(""),
            "NOTION_API_KEY: token connection ready for the first user"
        ),
        Err(e) => tracing::error!("NOTION_API_KEY: the token connection failed: {e}"),
    }
}

/// Sandbox start-up: the admin key file (0600), a connection to the demo workspace, and the
/// emulator URL file for admin commands.
async fn prepare_sandbox(
    gate: &Gate,
    settings: &Settings,
    first_key: Option<&SecretString>,
    notion_url: &str,
) -> Result<SecretString> {
    let key_path = settings.data_dir.join(SANDBOX_KEY_FILE);
    let key = match first_key {
        Some(k) => k.clone(),
        None => existing_or_new_key(gate, &key_path).await?,
    };
    write_private(&key_path, &format!("{}\n", key.expose_secret()))?;
    tracing::info!(
        "sandbox: admin key written to {} (mode 0600)",
        key_path.display()
    );
    let admin = gate.system_admin().await?;
    if admin.connection_id.is_none() {
        // The emulator is in this process, so connecting it is no cloud call: local-only mode
        // (if on) applies from the first request on.
        let local_only = gate.is_local_only();
        gate.set_local_only(false);
        let connected = gate
            .add_token_connection(
                &admin,
                None,
                SecretString::from(SANDBOX_NOTION_TOKEN.to_owned()),
            )
            .await;
        gate.set_local_only(local_only);
        let c = connected.map_err(|e| anyhow!("cannot connect the demo workspace: {e}"))?;
        tracing::info!(connection_id = %c.id, "sandbox: admin connected to the demo workspace");
    }
    std::fs::write(
        settings.data_dir.join(SANDBOX_NOTION_URL_FILE),
        format!("{notion_url}\n"),
    )
    .context("write the sandbox's emulator URL file")?;
    Ok(key)
}

/// The key in the sandbox key file if it still authenticates as an admin; otherwise a new key
/// for the first administrator.
async fn existing_or_new_key(gate: &Gate, path: &Path) -> Result<SecretString> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key = text.trim();
        if let Ok(caller) = gate.authenticate(key).await
            && caller.is_admin()
        {
            tracing::info!("sandbox: reusing the admin key in {}", path.display());
            return Ok(SecretString::from(key.to_owned()));
        }
    }
    let admin = gate.system_admin().await?;
    let created = gate
        .issue_user_key(&admin, admin.user_id, Some("sandbox"))
        .await
        .map_err(|e| anyhow!("cannot issue the sandbox admin key: {e}"))?;
    tracing::warn!(
        "sandbox: issued a new admin key for '{}': {}",
        admin.name,
        created.key.expose_secret()
    );
    Ok(created.key)
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn sandbox_banner(base: &str, data_dir: &Path, key: &SecretString) {
    let key_file: PathBuf = data_dir.join(SANDBOX_KEY_FILE);
    let line = "-".repeat(72);
    eprintln!(
        "\n{line}\n  notion-gate sandbox: {base} (demo workspace, no Notion account needed)\n  \
         admin key: {secret}\n\n  \
         Console: open {base}/ in a browser and sign in with the key above\n\n  \
         KEY=$(cat {key})\n  curl -s {base}/api/v1/me -H \"Authorization: Bearer $KEY\"\n  \
         API docs: {base}/docs   Stop: Ctrl-C\n{line}\n",
        secret = key.expose_secret(),
        key = key_file.display()
    );
}

/// Every minute, from the start: expires approvals nobody decided (and notifies them), settles
/// the intents of writes whose process stopped between the intent and the audit record (a
/// crash before this start, or another instance that died; see
/// `gate_core::Gate::settle_intents`), and drops expired MCP OAuth tokens' keys, expired
/// registrations and spent codes.
async fn expire_approvals(gate: Gate) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match gate.settle_intents().await {
            Ok(r) if r.open > r.left => tracing::warn!(
                applied = r.applied,
                not_applied = r.not_applied,
                unknown = r.unknown,
                "settled writes left without an audit record by a stopped process"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("settling write intents failed: {e}"),
        }
        match gate.expire_approvals().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "approvals expired"),
            Err(e) => tracing::warn!("expiring approvals failed: {e}"),
        }
        match gate.purge_mcp_oauth().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                rows = n,
                "expired MCP OAuth tokens, codes and clients purged"
            ),
            Err(e) => tracing::warn!("purging MCP OAuth rows failed: {e}"),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received: shutting down"),
        () = term => tracing::info!("SIGTERM received: shutting down"),
    }
}
