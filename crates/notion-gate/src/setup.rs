//! From resolved [`Settings`] to a running [`Gate`]: the data folder, the store (migrations
//! run on open), the vault (key from `NOTION_GATE_ENCRYPTION_KEY` or the 0600 key file), the
//! policy and the Notion client.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use gate_core::{AbortPoint, Gate, GateConfig, OAuthSettings, WebhookConfig};
use gate_store::{Store, Vault};
use notion_client::ClientConfig;
use secrecy::ExposeSecret;

use crate::config::Settings;

/// Creates the data folder if needed (0700 on Unix when it is new).
pub fn ensure_data_dir(settings: &Settings) -> Result<()> {
    let dir = &settings.data_dir;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Opens the store and runs the migrations.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>> {
    ensure_data_dir(settings)?;
    let options = gate_store::StoreOptions::default().audit_durability(settings.audit_durability);
    gate_store::open_with(settings.database_url.expose_secret(), options)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database_display()))
}

/// Loads the vault keys, creating the key file on first use.
pub fn open_vault(settings: &Settings) -> Result<Arc<Vault>> {
    ensure_data_dir(settings)?;
    let env = settings
        .encryption_key
        .as_ref()
        .map(|k| k.expose_secret().to_owned());
    let vault = Vault::load_or_create(&settings.data_dir, env.as_deref()).map_err(|e| {
        let origin = if env.is_some() {
            crate::config::vars::ENCRYPTION_KEY.to_owned()
        } else {
            Vault::key_file_path(&settings.data_dir)
                .display()
                .to_string()
        };
        anyhow!("invalid encryption key ({origin}): {e}")
    })?;
    Ok(Arc::new(vault))
}

/// Builds the gate on an open store, talking to Notion at `notion_url`.
pub fn build_gate(settings: &Settings, store: Arc<dyn Store>, notion_url: &str) -> Result<Gate> {
    let vault = open_vault(settings)?;
    let mut notion = ClientConfig::default()
        .base_url(notion_url)
        .limiter(settings.limiter);
    if let Some(v) = &settings.notion_version {
        notion = notion.notion_version(v.clone());
    }
    let mut config = GateConfig::new(store, vault)
        .policy(settings.policy()?)
        .notion(notion)
        .local_only(settings.local_only)
        .cache_ttl(settings.cache_ttl)
        .limiter(settings.limiter)
        .mirrors(gate_mirror::Mirrors::new(&settings.data_dir));
    if let Some((id, secret)) = &settings.oauth {
        config = config.oauth(OAuthSettings::new(id.clone(), secret.clone()));
    }
    if let Ok(point) = std::env::var(crate::config::vars::TEST_ABORT_AT) {
        let point = point
            .parse::<AbortPoint>()
            .map_err(|e| anyhow!("{}: {e}", crate::config::vars::TEST_ABORT_AT))?;
        tracing::warn!(
            ?point,
            "test abort point set: this process aborts during every write"
        );
        config = config.abort_at(Some(point));
    }
    if !settings.approval_webhooks.is_empty() {
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", settings.listen));
        let mut hooks = WebhookConfig::new(settings.approval_webhooks.clone(), public_url);
        if let Some(secret) = &settings.webhook_secret {
            hooks = hooks.secret(secret.clone());
        }
        config = config.webhooks(hooks);
    }
    if let Some(limiters) = redis_limiters(settings)? {
        config = config.limiter_factory(Arc::new(move |id| {
            Arc::new(limiters.limiter(&id.to_string())) as Arc<dyn notion_client::RateLimiter>
        }));
    }
    if let Some(url) = &settings.redis_url {
        // Approval changes between instances (waits answer at once on every instance).
        let bus =
            gate_redis::RedisApprovalBus::new(url.expose_secret()).map_err(|e| anyhow!("{e}"))?;
        config = config.approval_bus(Arc::new(bus));
    }
    Gate::new(config).map_err(|e| anyhow!("cannot start the gate: {e}"))
}

/// The Redis limiters when `NOTION_GATE_REDIS_URL` is set (connecting lazily).
pub fn redis_limiters(settings: &Settings) -> Result<Option<gate_redis::RedisLimiters>> {
    settings
        .redis_url
        .as_ref()
        .map(|url| gate_redis::RedisLimiters::new(url.expose_secret(), settings.limiter))
        .transpose()
        .map_err(|e| anyhow!("{e}"))
}

/// Fails with a clear error when `NOTION_GATE_REDIS_URL` is set but Redis does not answer
/// (at start; later outages fall back to the in-process limiter, see gate-redis).
pub async fn check_redis(settings: &Settings) -> Result<()> {
    if let Some(limiters) = redis_limiters(settings)? {
        limiters.check().await.map_err(|e| {
            anyhow!("Redis (--redis-url / NOTION_GATE_REDIS_URL) does not answer: {e}")
        })?;
        tracing::info!("rate limits shared through Redis");
    }
    Ok(())
}

/// Store and gate in one step.
pub async fn open_gate(settings: &Settings, notion_url: &str) -> Result<Gate> {
    let store = open_store(settings).await?;
    build_gate(settings, store, notion_url)
}
