//! The gateway's configuration, resolved once per command from four sources, strongest
//! first: command-line flags, `NOTION_GATE_*` environment variables (and the original
//! system's names), an optional TOML file (`--config FILE` or `NOTION_GATE_CONFIG`), and the
//! defaults.
//!
//! Every value is carried as text until it is parsed here, together with where it came from,
//! so a bad value is reported as `invalid --listen "x": …`, `invalid NOTION_GATE_LISTEN
//! "x": …` or `invalid listen in FILE: …`. Secrets (the encryption key, the OAuth client
//! secret, `NOTION_API_KEY`, a database URL that may hold a password) are kept in
//! [`SecretString`] and never printed, not even in errors.
//!
//! The environment is read through [`Env`], so the precedence can be tested without touching
//! the process environment.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use notion_client::{LimiterConfig, NotionVersion};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Default address of `serve` and `sandbox`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default data folder (database, vault key file, sandbox admin key).
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Default Notion API base URL.
pub const DEFAULT_NOTION_URL: &str = "https://api.notion.com";
/// Default Notion rate limit per connection (requests per second) and burst.
pub const DEFAULT_RATE: f64 = 3.0;
/// See [`DEFAULT_RATE`].
pub const DEFAULT_BURST: u32 = 10;
/// The file `sandbox` writes with the URL of its in-process Notion emulator, so that admin
/// commands run against the same data folder (e.g. `approvals approve`) reach it. Removed
/// when the sandbox stops.
pub const SANDBOX_NOTION_URL_FILE: &str = "sandbox-notion.url";

/// Environment variable names: the one place each is spelled. The command-line shapes
/// (`opts`, `cli`) name them in clap's `env` attribute, so `--help` lists them; the resolver
/// reads those that have no flag or more than one name (aliases of the original system).
pub mod vars {
    /// The TOML configuration file.
    pub const CONFIG: &str = "NOTION_GATE_CONFIG";
    /// Listen address.
    pub const LISTEN: &str = "NOTION_GATE_LISTEN";
    /// Data folder.
    pub const DATA_DIR: &str = "NOTION_GATE_DATA_DIR";
    /// Database URL.
    pub const DATABASE_URL: &str = "NOTION_GATE_DATABASE_URL";
    /// Notion API base URL.
    pub const NOTION_URL: &str = "NOTION_GATE_NOTION_URL";
    /// `Notion-Version` sent to Notion.
    pub const NOTION_VERSION: &str = "NOTION_GATE_NOTION_VERSION";
    /// Public base URL of the gateway.
    pub const PUBLIC_URL: &str = "NOTION_GATE_PUBLIC_URL";
    /// gate-policy TOML file.
    pub const POLICY_FILE: &str = "NOTION_GATE_POLICY_FILE";
    /// Fernet key(s) of the token vault.
    pub const ENCRYPTION_KEY: &str = gate_store::KEY_ENV;
    /// Local-only switch.
    pub const LOCAL_ONLY: &str = gate_core::LOCAL_ONLY_ENV;
    /// The original system's local-only switch.
    pub const ATOM_LOCAL_ONLY: &str = gate_core::LEGACY_LOCAL_ONLY_ENV;
    /// Requests per second per Notion connection.
    pub const RATE: &str = "NOTION_GATE_RATE";
    /// Keep the local mirrors fresh in the background (`serve --mirror`).
    pub const MIRROR: &str = "NOTION_GATE_MIRROR";
    /// Burst per Notion connection.
    pub const BURST: &str = "NOTION_GATE_BURST";
    /// Cache lifetime in seconds.
    pub const CACHE_TTL: &str = "NOTION_GATE_CACHE_TTL";
    /// How long a web console sign-in lasts.
    pub const SESSION_TTL: &str = "NOTION_GATE_SESSION_TTL";
    /// Redis for the rate limiter shared by several instances.
    pub const REDIS_URL: &str = "NOTION_GATE_REDIS_URL";
    /// Failed authentications per client address and minute.
    pub const FAILED_AUTH_PER_MINUTE: &str = "NOTION_GATE_FAILED_AUTH_PER_MINUTE";
    /// CORS allow-list, comma-separated.
    pub const CORS_ORIGINS: &str = "NOTION_GATE_CORS_ORIGINS";
    /// Approval-notification webhooks, comma-separated.
    pub const APPROVAL_WEBHOOKS: &str = "NOTION_GATE_APPROVAL_WEBHOOKS";
    /// The secret that signs webhook bodies.
    pub const WEBHOOK_SECRET: &str = "NOTION_GATE_WEBHOOK_SECRET";
    /// OAuth client id.
    pub const OAUTH_CLIENT_ID: &str = "NOTION_GATE_OAUTH_CLIENT_ID";
    /// OAuth client secret.
    pub const OAUTH_CLIENT_SECRET: &str = "NOTION_GATE_OAUTH_CLIENT_SECRET";
    /// OAuth redirect URI.
    pub const OAUTH_REDIRECT_URI: &str = "NOTION_GATE_OAUTH_REDIRECT_URI";
    /// Audit durability: `process` or `fsync`.
    pub const AUDIT_DURABILITY: &str = "NOTION_GATE_AUDIT_DURABILITY";
    /// Testing only (crash tests): abort the process during every write, `after_intent`
    /// (its intent is durable, nothing sent) or `after_send` (Notion answered, no record).
    pub const TEST_ABORT_AT: &str = "NOTION_GATE_TEST_ABORT_AT";
    /// The original's OAuth client id.
    pub const NOTION_CLIENT_ID: &str = "NOTION_CLIENT_ID";
    /// The original's OAuth client secret.
    pub const NOTION_CLIENT_SECRET: &str = "NOTION_CLIENT_SECRET";
    /// The original's OAuth redirect URI.
    pub const NOTION_REDIRECT_URI: &str = "NOTION_REDIRECT_URI";
    /// Internal-integration token for the first user (`serve`); also the original's name of
    /// the token of `connect`, `export` and `check`, after [`NOTION_TOKEN`].
    pub const NOTION_API_KEY: &str = "NOTION_API_KEY";
    /// The token of `connect`, `export` and `check`.
    pub const NOTION_TOKEN: &str = "NOTION_GATE_NOTION_TOKEN";
    /// The agent key of `notion-gate mcp`.
    pub const AGENT_KEY: &str = "NOTION_GATE_AGENT_KEY";
}

/// Reads environment variables. Blank values count as unset.
pub trait Env {
    /// The value of `name`, if set and not blank.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }
}

/// The flags of one command, as typed (unparsed). Commands fill what they accept.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--notion-url`.
    pub notion_url: Option<String>,
    /// `--notion-version`.
    pub notion_version: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
    /// `--policy-file`.
    pub policy_file: Option<PathBuf>,
    /// `--local-only` (only ever turns the mode on).
    pub local_only: bool,
    /// `--rate`.
    pub rate: Option<String>,
    /// `--burst`.
    pub burst: Option<String>,
    /// `--cache-ttl`.
    pub cache_ttl: Option<String>,
    /// `--session-ttl`.
    pub session_ttl: Option<String>,
    /// `--redis-url`.
    pub redis_url: Option<String>,
    /// `--failed-auth-per-minute`.
    pub failed_auth_per_minute: Option<String>,
    /// `--audit-durability`.
    pub audit_durability: Option<String>,
    /// `--cors-origin` (repeated), comma-joined.
    pub cors_origins: Option<String>,
    /// `--approval-webhook` (repeated), comma-joined.
    pub approval_webhooks: Option<String>,
    /// `--webhook-secret`.
    pub webhook_secret: Option<String>,
    /// The flags (by field name, which is also the TOML key) whose value clap took from the
    /// environment through the flag's `env` attribute: errors name that variable, not the flag.
    pub env_sourced: BTreeSet<String>,
}

/// The optional TOML file. Every key is optional; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Listen address.
    pub listen: Option<String>,
    /// Data folder.
    pub data_dir: Option<PathBuf>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Notion API base URL.
    pub notion_url: Option<String>,
    /// `Notion-Version`.
    pub notion_version: Option<String>,
    /// Public base URL.
    pub public_url: Option<String>,
    /// Policy file.
    pub policy_file: Option<PathBuf>,
    /// Local-only mode.
    pub local_only: Option<bool>,
    /// Requests per second per connection.
    pub rate: Option<f64>,
    /// Burst per connection.
    pub burst: Option<u32>,
    /// Cache lifetime, seconds.
    pub cache_ttl: Option<f64>,
    /// Console session lifetime (`"12h"`, `"30m"`, `"7d"` or seconds).
    pub session_ttl: Option<String>,
    /// Redis URL of the shared rate limiter.
    pub redis_url: Option<String>,
    /// Failed authentications per client address and minute (0: no limit).
    pub failed_auth_per_minute: Option<u32>,
    /// Audit durability: `process` or `fsync`.
    pub audit_durability: Option<String>,
    /// CORS allow-list (exact origins).
    pub cors_origins: Option<Vec<String>>,
    /// Approval-notification webhooks (`slack+https://…` for Slack's format).
    pub approval_webhooks: Option<Vec<String>>,
    /// The secret that signs webhook bodies.
    pub webhook_secret: Option<String>,
    /// OAuth client id.
    pub oauth_client_id: Option<String>,
    /// OAuth client secret.
    pub oauth_client_secret: Option<String>,
    /// OAuth redirect URI.
    pub oauth_redirect_uri: Option<String>,
}

impl FileConfig {
    /// Parses the file's text; errors name the line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text)
            .map_err(|e| anyhow!("invalid configuration file {}: {e}", path.display()))
    }
}

/// A span such as `12h`, `90m`, `7d`, `45s` or a bare number of seconds, from one minute
/// to thirty days.
fn parse_span(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&raw[..i], raw[i..].trim()),
        None => (raw, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (60..=30 * 86_400)
        .contains(&secs)
        .then(|| Duration::from_secs(secs))
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A key of the TOML file.
    File(&'static str, PathBuf),
    /// The sandbox's emulator URL file in the data folder.
    SandboxFile(PathBuf),
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "{name}"),
            Origin::Env(name) => write!(f, "{name}"),
            Origin::File(key, path) => write!(f, "`{key}` in {}", path.display()),
            Origin::SandboxFile(path) => write!(f, "{}", path.display()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone)]
struct Sourced {
    value: String,
    origin: Origin,
}

impl Sourced {
    fn invalid(&self, why: impl fmt::Display) -> anyhow::Error {
        anyhow!("invalid {} {:?}: {why}", self.origin, self.value)
    }

    fn invalid_secret(&self, why: impl fmt::Display) -> anyhow::Error {
        anyhow!("invalid {}: {why}", self.origin)
    }
}

/// The resolved configuration.
pub struct Settings {
    /// Where `serve`/`sandbox` listen.
    pub listen: SocketAddr,
    /// The data folder.
    pub data_dir: PathBuf,
    /// `serve --mirror`: keep the local mirrors fresh in the background.
    pub mirror: bool,
    /// The database URL (may hold a password: never printed).
    pub database_url: SecretString,
    /// Notion's base URL, and where it came from.
    pub notion_url: String,
    /// Where [`Settings::notion_url`] came from.
    pub notion_url_origin: Origin,
    /// `Notion-Version` sent to Notion (default: the client's).
    pub notion_version: Option<NotionVersion>,
    /// The public base URL (default: `http://<bound address>`).
    pub public_url: Option<String>,
    /// The gate-policy file, if any.
    pub policy_file: Option<PathBuf>,
    /// Vault keys from `NOTION_GATE_ENCRYPTION_KEY` (else the key file in the data folder).
    pub encryption_key: Option<SecretString>,
    /// Local-only mode at start.
    pub local_only: bool,
    /// The per-connection limiter.
    pub limiter: LimiterConfig,
    /// The cache lifetime.
    pub cache_ttl: Duration,
    /// How long a web console sign-in lasts.
    pub session_ttl: Duration,
    /// Redis for the limiter shared by instances (may hold a password: never printed);
    /// `None`: the in-process limiter.
    pub redis_url: Option<SecretString>,
    /// Failed authentications per client address and minute (0: no limit).
    pub failed_auth_per_minute: u32,
    /// How durable an audit record is before the call goes on.
    pub audit_durability: gate_store::AuditDurability,
    /// CORS allow-list (exact origins; empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Approval-notification webhooks (their URLs are secrets: never printed).
    pub approval_webhooks: Vec<gate_core::WebhookTarget>,
    /// The secret that signs webhook bodies (never printed).
    pub webhook_secret: Option<SecretString>,
    /// OAuth client id and secret, when both are configured.
    pub oauth: Option<(String, SecretString)>,
    /// OAuth redirect URI (default `<public url>/api/v1/notion/oauth/callback`).
    pub oauth_redirect_uri: Option<String>,
    /// `NOTION_API_KEY`: an internal-integration token for the first user.
    pub notion_api_key: Option<SecretString>,
    /// The TOML file read, if any.
    pub config_file: Option<PathBuf>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_backend())
            .field("notion_url", &self.notion_url)
            .field("notion_version", &self.notion_version)
            .field("public_url", &self.public_url)
            .field("policy_file", &self.policy_file)
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "[set]"),
            )
            .field("local_only", &self.local_only)
            .field("limiter", &self.limiter)
            .field("cache_ttl", &self.cache_ttl)
            .field("session_ttl", &self.session_ttl)
            .field("redis", &self.redis_url.as_ref().map(|_| "[set]"))
            .field(
                "approval_webhooks",
                &self
                    .approval_webhooks
                    .iter()
                    .map(gate_core::WebhookTarget::label)
                    .collect::<Vec<_>>(),
            )
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[set]"),
            )
            .field("oauth_client_id", &self.oauth.as_ref().map(|(id, _)| id))
            .field("oauth_redirect_uri", &self.oauth_redirect_uri)
            .field(
                "notion_api_key",
                &self.notion_api_key.as_ref().map(|_| "[set]"),
            )
            .field("config_file", &self.config_file)
            .finish()
    }
}

/// Options of [`Settings::resolve`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ResolveOptions {
    /// Default the Notion URL to the running sandbox's emulator when the data folder has
    /// [`SANDBOX_NOTION_URL_FILE`] (admin commands; never `serve`).
    pub sandbox_notion_url: bool,
}

/// An OAuth client: its id and secret.
type OAuthClient = (String, SecretString);

/// The sources of one resolution: the flags, the environment and the parsed TOML file.
struct Resolver<'a> {
    flags: &'a Flags,
    env: &'a dyn Env,
    file: FileConfig,
    file_path: Option<PathBuf>,
}

impl Resolver<'_> {
    /// flag > first set env var > file > none. A flag value that clap took from the
    /// environment (its `env` attribute, recorded in [`Flags::env_sourced`]) is reported as
    /// that variable, the first of `envs`, and counts as unset when blank, like any variable.
    fn pick(
        &self,
        flag: Option<String>,
        flag_name: &'static str,
        envs: &[&'static str],
        file: Option<String>,
        key: &'static str,
    ) -> Option<Sourced> {
        let from_env = self.flags.env_sourced.contains(key);
        if let Some(value) = flag.filter(|v| !(from_env && v.trim().is_empty())) {
            let origin = match envs.first() {
                Some(name) if from_env => Origin::Env(name),
                _ => Origin::Flag(flag_name),
            };
            return Some(Sourced { value, origin });
        }
        for name in envs {
            if let Some(value) = self.env.var(name) {
                return Some(Sourced {
                    value,
                    origin: Origin::Env(name),
                });
            }
        }
        let path = self.file_path.clone()?;
        file.map(|value| Sourced {
            value,
            origin: Origin::File(key, path),
        })
    }

    /// Reads the TOML file named by `--config` or [`vars::CONFIG`], if any.
    fn load(flags: &Flags, env: &dyn Env) -> Result<(Option<PathBuf>, FileConfig)> {
        let config_path = flags
            .config
            .clone()
            .filter(|p| !p.as_os_str().to_string_lossy().trim().is_empty())
            .or_else(|| env.var(vars::CONFIG).map(PathBuf::from));
        let file = match &config_path {
            Some(path) => {
                let origin = if flags.config.is_some() && !flags.env_sourced.contains("config") {
                    "--config"
                } else {
                    vars::CONFIG
                };
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "invalid {origin}: cannot read the configuration file {}",
                        path.display()
                    )
                })?;
                FileConfig::parse(&text, path)?
            }
            None => FileConfig::default(),
        };
        Ok((config_path, file))
    }

    fn listen(&self) -> Result<SocketAddr> {
        let f = &self.file;
        Ok(
            match self.pick(
                self.flags.listen.clone(),
                "--listen",
                &[vars::LISTEN],
                f.listen.clone(),
                "listen",
            ) {
                Some(s) => s.value.trim().parse::<SocketAddr>().map_err(|e| {
                    s.invalid(format_args!(
                        "{e} (expected an address like {DEFAULT_LISTEN})"
                    ))
                })?,
                None => DEFAULT_LISTEN.parse().expect("the default address parses"),
            },
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.pick(
            self.flags
                .data_dir
                .as_ref()
                .map(|p| p.display().to_string()),
            "--data-dir",
            &[vars::DATA_DIR],
            self.file.data_dir.as_ref().map(|p| p.display().to_string()),
            "data_dir",
        )
        .map(|s| PathBuf::from(s.value))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    fn database_url(&self, data_dir: &Path) -> Result<SecretString> {
        Ok(
            match self.pick(
                self.flags.database_url.clone(),
                "--database-url",
                &[vars::DATABASE_URL],
                self.file.database_url.clone(),
                "database_url",
            ) {
                Some(s) => {
                    gate_store::Backend::from_url(s.value.trim()).map_err(|e| {
                        s.invalid_secret(format_args!(
                            "{e} (expected sqlite://PATH or postgres://USER@HOST/DB)"
                        ))
                    })?;
                    SecretString::from(s.value.trim().to_owned())
                }
                None => SecretString::from(gate_store::default_sqlite_url(data_dir)),
            },
        )
    }

    /// Notion's base URL and where it came from: a source, else (admin commands) the running
    /// sandbox's emulator, else the default.
    fn notion_url(&self, data_dir: &Path, options: ResolveOptions) -> Result<(String, Origin)> {
        let sandbox_file = data_dir.join(SANDBOX_NOTION_URL_FILE);
        Ok(
            match self.pick(
                self.flags.notion_url.clone(),
                "--notion-url",
                &[vars::NOTION_URL],
                self.file.notion_url.clone(),
                "notion_url",
            ) {
                Some(s) => (check_http_url(&s)?, s.origin),
                None => match options
                    .sandbox_notion_url
                    .then(|| std::fs::read_to_string(&sandbox_file).ok())
                    .flatten()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                {
                    Some(url) => (url, Origin::SandboxFile(sandbox_file)),
                    None => (DEFAULT_NOTION_URL.to_owned(), Origin::Default),
                },
            },
        )
    }

    fn notion_version(&self) -> Result<Option<NotionVersion>> {
        self.pick(
            self.flags.notion_version.clone(),
            "--notion-version",
            &[vars::NOTION_VERSION],
            self.file.notion_version.clone(),
            "notion_version",
        )
        .map(|s| NotionVersion::parse(s.value.trim()).map_err(|e| s.invalid(e)))
        .transpose()
    }

    fn public_url(&self) -> Result<Option<String>> {
        self.pick(
            self.flags.public_url.clone(),
            "--public-url",
            &[vars::PUBLIC_URL],
            self.file.public_url.clone(),
            "public_url",
        )
        .map(|s| check_http_url(&s))
        .transpose()
    }

    fn policy_file(&self) -> Option<PathBuf> {
        self.pick(
            self.flags
                .policy_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "--policy-file",
            &[vars::POLICY_FILE],
            self.file
                .policy_file
                .as_ref()
                .map(|p| p.display().to_string()),
            "policy_file",
        )
        .map(|s| PathBuf::from(s.value))
    }

    /// Local-only: a privacy switch, so any source that says "on" turns it on, and a value
    /// that is neither on nor off is an error naming its source. Two variables name it (ours
    /// and the original's, [`vars::ATOM_LOCAL_ONLY`]), so the resolver reads them, not clap.
    fn local_only(&self) -> Result<bool> {
        let mut local_only = self.flags.local_only;
        let mut from_env = false;
        for name in [vars::LOCAL_ONLY, vars::ATOM_LOCAL_ONLY] {
            if let Some(v) = self.env.var(name) {
                from_env = true;
                local_only |= gate_core::parse_local_only(name, &v).map_err(|_| {
                    anyhow!(
                        "invalid {name} {v:?}: expected true or false (also 1/0, yes/no, on/off)"
                    )
                })?;
            }
        }
        if !self.flags.local_only && !from_env {
            local_only = self.file.local_only.unwrap_or(false);
        }
        Ok(local_only)
    }

    /// The per-connection limiter: `--rate` and `--burst`.
    fn limiter(&self) -> Result<LimiterConfig> {
        let f = &self.file;
        let rate = self
            .pick(
                self.flags.rate.clone(),
                "--rate",
                &[vars::RATE],
                f.rate.map(|v| v.to_string()),
                "rate",
            )
            .map(|s| match s.value.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
                _ => Err(s.invalid("expected a positive number of requests per second")),
            })
            .transpose()?
            .unwrap_or(DEFAULT_RATE);
        let burst = self
            .pick(
                self.flags.burst.clone(),
                "--burst",
                &[vars::BURST],
                f.burst.map(|v| v.to_string()),
                "burst",
            )
            .map(|s| match s.value.trim().parse::<u32>() {
                Ok(v) if v > 0 => Ok(v),
                _ => Err(s.invalid("expected a whole number of requests, at least 1")),
            })
            .transpose()?
            .unwrap_or(DEFAULT_BURST);
        LimiterConfig::new(rate, burst)
            .map_err(|e| anyhow!("invalid --rate/--burst ({rate}, {burst}): {e}"))
    }

    fn cache_ttl(&self) -> Result<Duration> {
        Ok(self
            .pick(
                self.flags.cache_ttl.clone(),
                "--cache-ttl",
                &[vars::CACHE_TTL],
                self.file.cache_ttl.map(|v| v.to_string()),
                "cache_ttl",
            )
            .map(|s| match s.value.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=86_400.0).contains(&v) => {
                    Ok(Duration::from_secs_f64(v))
                }
                _ => Err(s.invalid("expected a number of seconds between 0 and 86400")),
            })
            .transpose()?
            .unwrap_or(gate_core::DEFAULT_CACHE_TTL))
    }

    fn session_ttl(&self) -> Result<Duration> {
        Ok(self
            .pick(
                self.flags.session_ttl.clone(),
                "--session-ttl",
                &[vars::SESSION_TTL],
                self.file.session_ttl.clone(),
                "session_ttl",
            )
            .map(|s| {
                parse_span(&s.value).ok_or_else(|| {
                    s.invalid("expected a duration from 1m to 30d, such as 12h, 90m, 7d or seconds")
                })
            })
            .transpose()?
            .unwrap_or(gate_core::DEFAULT_SESSION_TTL))
    }

    fn audit_durability(&self) -> Result<gate_store::AuditDurability> {
        Ok(self
            .pick(
                self.flags.audit_durability.clone(),
                "--audit-durability",
                &[vars::AUDIT_DURABILITY],
                self.file.audit_durability.clone(),
                "audit_durability",
            )
            .map(|s| {
                s.value
                    .parse::<gate_store::AuditDurability>()
                    .map_err(|_| s.invalid("expected `process` or `fsync`"))
            })
            .transpose()?
            .unwrap_or_default())
    }

    fn redis_url(&self) -> Result<Option<SecretString>> {
        self.pick(
            self.flags.redis_url.clone(),
            "--redis-url",
            &[vars::REDIS_URL],
            self.file.redis_url.clone(),
            "redis_url",
        )
        .map(|s| {
            let v = s.value.trim();
            if ["redis://", "rediss://", "redis+unix://", "unix://"]
                .iter()
                .any(|p| v.starts_with(p))
            {
                Ok(SecretString::from(v.to_owned()))
            } else {
                Err(s.invalid_secret("expected redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://…"))
            }
        })
        .transpose()
    }

    /// The OAuth client (id and secret, both or neither) and its redirect URI; environment
    /// or file only (no flags: the secret would show in the process list).
    fn oauth(&self) -> Result<(Option<OAuthClient>, Option<String>)> {
        let f = &self.file;
        let client_id = self.pick(
            None,
            "",
            &[vars::OAUTH_CLIENT_ID, vars::NOTION_CLIENT_ID],
            f.oauth_client_id.clone(),
            "oauth_client_id",
        );
        let client_secret = self.pick(
            None,
            "",
            &[vars::OAUTH_CLIENT_SECRET, vars::NOTION_CLIENT_SECRET],
            f.oauth_client_secret.clone(),
            "oauth_client_secret",
        );
        let oauth = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some((
                id.value.trim().to_owned(),
                SecretString::from(secret.value.trim().to_owned()),
            )),
            (None, None) => None,
            (Some(id), None) => bail!(
                "{} is set but the OAuth client secret is not: set {} (or {})",
                id.origin,
                vars::OAUTH_CLIENT_SECRET,
                vars::NOTION_CLIENT_SECRET
            ),
            (None, Some(secret)) => bail!(
                "{} is set but the OAuth client id is not: set {} (or {})",
                secret.origin,
                vars::OAUTH_CLIENT_ID,
                vars::NOTION_CLIENT_ID
            ),
        };
        let redirect_uri = self
            .pick(
                None,
                "",
                &[vars::OAUTH_REDIRECT_URI, vars::NOTION_REDIRECT_URI],
                f.oauth_redirect_uri.clone(),
                "oauth_redirect_uri",
            )
            .map(|s| check_http_url(&s))
            .transpose()?;
        Ok((oauth, redirect_uri))
    }

    fn failed_auth_per_minute(&self) -> Result<u32> {
        Ok(self
            .pick(
                self.flags.failed_auth_per_minute.clone(),
                "--failed-auth-per-minute",
                &[vars::FAILED_AUTH_PER_MINUTE],
                self.file.failed_auth_per_minute.map(|v| v.to_string()),
                "failed_auth_per_minute",
            )
            .map(|s| {
                s.value
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| s.invalid("expected a whole number (0 turns the limit off)"))
            })
            .transpose()?
            .unwrap_or(gate_server::auth_limit::AuthLimitConfig::default().failed_auth_per_minute))
    }

    fn cors_origins(&self) -> Result<Vec<String>> {
        let Some(s) = self.pick(
            self.flags.cors_origins.clone(),
            "--cors-origin",
            &[vars::CORS_ORIGINS],
            self.file.cors_origins.as_ref().map(|v| v.join(",")),
            "cors_origins",
        ) else {
            return Ok(Vec::new());
        };
        let list: Vec<String> = s
            .value
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if let Err(e) = gate_server::ServerOptions::default().cors_origins(&list) {
            return Err(s.invalid(e));
        }
        Ok(list)
    }

    fn approval_webhooks(&self) -> Result<Vec<gate_core::WebhookTarget>> {
        let Some(s) = self.pick(
            self.flags.approval_webhooks.clone(),
            "--approval-webhook",
            &[vars::APPROVAL_WEBHOOKS],
            self.file.approval_webhooks.as_ref().map(|v| v.join(",")),
            "approval_webhooks",
        ) else {
            return Ok(Vec::new());
        };
        s.value
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                // The URL may hold a secret (Slack's do): the error never repeats it.
                gate_core::WebhookTarget::parse(u).map_err(|e| s.invalid_secret(e))
            })
            .collect()
    }

    fn webhook_secret(&self) -> Result<Option<SecretString>> {
        self.pick(
            self.flags.webhook_secret.clone(),
            "--webhook-secret",
            &[vars::WEBHOOK_SECRET],
            self.file.webhook_secret.clone(),
            "webhook_secret",
        )
        .map(|s| {
            let v = s.value.trim();
            if v.len() < 16 {
                Err(s.invalid_secret("expected at least 16 characters"))
            } else {
                Ok(SecretString::from(v.to_owned()))
            }
        })
        .transpose()
    }
}

impl Settings {
    /// Resolves the configuration from flags, the environment and the TOML file, one
    /// concern at a time (each a [`Resolver`] method).
    pub fn resolve(flags: &Flags, env: &dyn Env, options: ResolveOptions) -> Result<Settings> {
        let (config_path, file) = Resolver::load(flags, env)?;
        let r = Resolver {
            flags,
            env,
            file,
            file_path: config_path.clone(),
        };
        let listen = r.listen()?;
        let data_dir = r.data_dir();
        let database_url = r.database_url(&data_dir)?;
        let (notion_url, notion_url_origin) = r.notion_url(&data_dir, options)?;
        let notion_version = r.notion_version()?;
        let public_url = r.public_url()?;
        let policy_file = r.policy_file();
        let encryption_key = env.var(vars::ENCRYPTION_KEY).map(SecretString::from);
        let local_only = r.local_only()?;
        let limiter = r.limiter()?;
        let cache_ttl = r.cache_ttl()?;
        let session_ttl = r.session_ttl()?;
        let audit_durability = r.audit_durability()?;
        let redis_url = r.redis_url()?;
        let (oauth, oauth_redirect_uri) = r.oauth()?;
        let notion_api_key = env
            .var(vars::NOTION_API_KEY)
            .map(|v| SecretString::from(v.trim().to_owned()));
        Ok(Settings {
            listen,
            mirror: false,
            data_dir,
            database_url,
            notion_url,
            notion_url_origin,
            notion_version,
            public_url,
            policy_file,
            encryption_key,
            local_only,
            limiter,
            cache_ttl,
            session_ttl,
            redis_url,
            failed_auth_per_minute: r.failed_auth_per_minute()?,
            audit_durability,
            cors_origins: r.cors_origins()?,
            approval_webhooks: r.approval_webhooks()?,
            webhook_secret: r.webhook_secret()?,
            oauth,
            oauth_redirect_uri,
            notion_api_key,
            config_file: config_path,
        })
    }

    /// `sqlite` or `postgres` (for logs; the URL itself may hold a password).
    pub fn database_backend(&self) -> &'static str {
        match gate_store::Backend::from_url(self.database_url.expose_secret()) {
            Ok(gate_store::Backend::Postgres) => "postgres",
            _ => "sqlite",
        }
    }

    /// The database for logs: the SQLite path, or `postgres` with the host part only.
    pub fn database_display(&self) -> String {
        let url = self.database_url.expose_secret();
        match self.database_backend() {
            "postgres" => match url::Url::parse(url) {
                Ok(u) => format!(
                    "postgres://{}{}",
                    u.host_str().unwrap_or(""),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                ),
                Err(_) => "postgres".to_owned(),
            },
            _ => url.to_owned(),
        }
    }

    /// The gate-policy policy: the file's, or the built-in default. A bad file is an error
    /// naming the file and the line.
    pub fn policy(&self) -> Result<gate_policy::Policy> {
        match &self.policy_file {
            None => Ok(gate_policy::Policy::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the policy file {} ({})",
                        path.display(),
                        vars::POLICY_FILE
                    )
                })?;
                gate_policy::Policy::from_toml_str(&text)
                    .map_err(|e| anyhow!("invalid policy file {}: {e}", path.display()))
            }
        }
    }
}

/// The settings of `serve` and `sandbox` from their flags and the process environment.
/// The client-side limiter of `export` from `--rate` and `--burst` (clap fills them from
/// [`vars::RATE`] and [`vars::BURST`], the variables of `serve`): `None` when the rate is 0
/// (no client-side limit), else the rate and burst (defaults [`DEFAULT_RATE`] and
/// [`DEFAULT_BURST`]).
pub fn export_limiter(rate: Option<&str>, burst: Option<&str>) -> Result<Option<LimiterConfig>> {
    let rate = match rate.map(str::trim) {
        None => DEFAULT_RATE,
        Some(v) => match v.parse::<f64>() {
            Ok(r) if r.is_finite() && r >= 0.0 => r,
            _ => bail!(
                "invalid --rate (or {}) {v:?}: expected a number of requests per second, 0 for no                  client-side limit",
                vars::RATE
            ),
        },
    };
    let burst = match burst.map(str::trim) {
        None => DEFAULT_BURST,
        Some(v) => match v.parse::<u32>() {
            Ok(b) if b > 0 => b,
            _ => bail!(
                "invalid --burst (or {}) {v:?}: expected a whole number of requests, at least 1",
                vars::BURST
            ),
        },
    };
    if rate == 0.0 {
        return Ok(None);
    }
    LimiterConfig::new(rate, burst)
        .map(Some)
        .map_err(|e| anyhow!("invalid --rate/--burst ({rate}, {burst}): {e}"))
}

pub fn server_settings(args: &crate::opts::ServeArgs) -> Result<Settings> {
    Settings::resolve(&args.flags(), &ProcessEnv, ResolveOptions::default())
}

/// An `http(s)://` URL without a trailing slash.
fn check_http_url(s: &Sourced) -> Result<String> {
    let value = s.value.trim();
    let url = url::Url::parse(value).map_err(|e| s.invalid(format_args!("{e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(s.invalid("the scheme must be http or https"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests;
