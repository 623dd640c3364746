//! `spawn_gateway`: the real server on port 0 over a scratch SQLite database (or a fresh
//! PostgreSQL schema, see [`Backend`]), talking to the in-process Notion emulator (demo
//! workspace), with an admin, a user (Alice) who has a token connection, and one agent of each
//! maturity owned by Alice.

use std::collections::BTreeMap;
use std::sync::Arc;

use gate_core::{Gate, GateConfig, NewAgentSpec, OAuthSettings};
use gate_server::{AppState, Application, ServerOptions, ServerSettings};
use gate_store::{Vault, VaultKey};
use notion_client::{ClientConfig, LimiterConfig};
use notion_emulator::{Emulator, Seed};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub const CLIENT_ID: &str = "gate-client";
pub const CLIENT_SECRET: &str = "gate-client-secret-0123456789";

/// A running gateway and everything a test needs to drive it.
pub struct Gateway {
    pub base: String,
    pub http: reqwest::Client,
    pub emu: Emulator,
    pub gate: Gate,
    pub admin_key: String,
    pub alice_key: String,
    pub bob_key: String,
    /// Agent keys by maturity: `student`, `intern`, `supervised`, `autonomous`.
    pub agents: BTreeMap<&'static str, String>,
    pub notion_token: String,
    _dir: tempfile::TempDir,
}

/// Options of [`spawn_gateway_with`].
#[derive(Clone, Default)]
pub struct GatewayOpts {
    pub options: Option<ServerOptions>,
    pub policy: Option<gate_policy::Policy>,
    /// Store URL; `None` is a scratch SQLite file. See [`Backend::database_url`].
    pub database_url: Option<String>,
    /// The emulator's per-token rate limit (`None`: unlimited).
    pub emulator_rate: Option<notion_emulator::RateLimit>,
    /// The gateway's per-connection limiter (`None`: 1000 req/s, burst 1000).
    pub limiter: Option<LimiterConfig>,
    /// The gateway's Notion retry policy and request timeout (`None`: the defaults).
    pub retry: Option<notion_client::RetryPolicy>,
    pub request_timeout: Option<std::time::Duration>,
    /// Approval notifications (`None`: no webhooks).
    pub webhooks: Option<gate_core::WebhookConfig>,
    /// Serve mirror reads from `<temp dir>/mirror/` (gate-mirror).
    pub mirror: bool,
}

static PG_NOTICE: std::sync::Once = std::sync::Once::new();

/// The storage engines a backend-parametrized test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set (a notice on stderr once
    /// otherwise). `.ci/run` sets it.
    pub fn available() -> Vec<Backend> {
        if std::env::var("TEST_DATABASE_URL").is_ok() {
            vec![Backend::Sqlite, Backend::Postgres]
        } else {
            PG_NOTICE.call_once(|| {
                eprintln!(
                    "\nNOTICE: TEST_DATABASE_URL is not set: the PostgreSQL half of the \
                     gate-server suite is SKIPPED.\n"
                );
            });
            vec![Backend::Sqlite]
        }
    }

    /// The store URL for a new gateway on this backend: `None` for SQLite (the gateway makes
    /// a scratch file), or a fresh schema of `TEST_DATABASE_URL` for PostgreSQL. Two
    /// gateways given the same URL share one database.
    pub async fn database_url(self, test: &str) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => {
                use sqlx::Connection as _;
                let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let schema = format!(
                    "gs_{}_{}",
                    &test[..test.len().min(24)],
                    uuid::Uuid::new_v4().simple()
                )
                .to_ascii_lowercase();
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
                sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create schema");
                let _ = conn.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                Some(format!("{base}{sep}options[search_path]={schema}"))
            }
        }
    }

    /// Options for a gateway on this backend (a fresh database).
    pub async fn opts(self, test: &str) -> GatewayOpts {
        GatewayOpts {
            database_url: self.database_url(test).await,
            ..GatewayOpts::default()
        }
    }
}

pub async fn spawn_gateway() -> Gateway {
    spawn_gateway_with(GatewayOpts::default()).await
}

pub async fn spawn_gateway_with(opts: GatewayOpts) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let url = opts
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("gate.db").display()));
    let store = gate_store::open(&url).await.unwrap();
    let (_, key) = VaultKey::generate();
    let vault = Arc::new(Vault::new(vec![key]).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let redirect = format!("{base}/api/v1/notion/oauth/callback");
    let mut emu = Emulator::builder().seed(Seed::Demo).oauth_client(
        CLIENT_ID,
        CLIENT_SECRET,
        [redirect.clone()],
    );
    if let Some(limit) = opts.emulator_rate {
        emu = emu.rate_limit(limit);
    }
    let emu = emu.start().await.unwrap();
    let mut config = GateConfig::new(store, vault)
        .notion({
            let mut notion = ClientConfig::default().base_url(emu.base_url());
            if let Some(retry) = opts.retry.clone() {
                notion = notion.retry(retry);
            }
            if opts.request_timeout.is_some() {
                notion = notion.request_timeout(opts.request_timeout);
            }
            notion
        })
        .limiter(
            opts.limiter
                .unwrap_or_else(|| LimiterConfig::new(1000.0, 1000).unwrap()),
        )
        .oauth(OAuthSettings::new(
            CLIENT_ID,
            SecretString::from(CLIENT_SECRET.to_owned()),
        ));
    if let Some(policy) = opts.policy {
        config = config.policy(policy);
    }
    if let Some(webhooks) = opts.webhooks {
        config = config.webhooks(webhooks);
    }
    if opts.mirror {
        config = config.mirrors(gate_mirror::Mirrors::new(dir.path()));
    }
    let gate = Gate::new(config).unwrap();
    let (_, admin) = gate.bootstrap_admin("admin").await.unwrap();
    let admin_key = admin.key.expose_secret().to_owned();
    let admin_caller = gate.authenticate(&admin_key).await.unwrap();

    let mut keys = Vec::new();
    for name in ["alice", "bob"] {
        let user = gate.create_user(&admin_caller, name, false).await.unwrap();
        let key = gate
            .issue_user_key(&admin_caller, user.id, Some("own"))
            .await
            .unwrap()
            .key
            .expose_secret()
            .to_owned();
        keys.push(key);
    }
    let alice = gate.authenticate(&keys[0]).await.unwrap();
    let notion_token = format!("ntn_alice_{}", uuid::Uuid::new_v4().simple());
    gate.add_token_connection(&alice, None, SecretString::from(notion_token.clone()))
        .await
        .unwrap();
    let alice = gate.authenticate(&keys[0]).await.unwrap();
    let mut agents = BTreeMap::new();
    for maturity in ["student", "intern", "supervised", "autonomous"] {
        let agent = gate
            .create_agent(
                &alice,
                NewAgentSpec::new(format!("{maturity}-bot"), maturity),
            )
            .await
            .unwrap();
        let key = gate
            .issue_agent_key(&alice, agent.id, None)
            .await
            .unwrap()
            .key
            .expose_secret()
            .to_owned();
        agents.insert(maturity, key);
    }

    let settings = ServerSettings::new(base.clone(), emu.base_url()).oauth_redirect_uri(redirect);
    let state = AppState::new(gate.clone(), settings);
    let options = opts.options.unwrap_or_default();
    let app = Application::build(listener, gate_server::api::app(state, &options)).unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Gateway {
        base,
        http: reqwest::Client::new(),
        emu,
        gate,
        admin_key,
        alice_key: keys[0].clone(),
        bob_key: keys[1].clone(),
        agents,
        notion_token,
        _dir: dir,
    }
}

impl Gateway {
    /// `METHOD /api/v1{path}` with a key and an optional JSON body; the status and the JSON
    /// body (or `Null`).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The folder holding the gateway's SQLite database (and its WAL files).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The agent key of a maturity.
    pub fn agent(&self, maturity: &str) -> &str {
        &self.agents[maturity]
    }

    /// The Prometheus text of `/metrics` (the recorder is process-wide: other tests' series
    /// may be there too).
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// `GET /api/v1/me` with `key`: the status and the body.
pub async fn me(gw: &Gateway, key: &str) -> (u16, Value) {
    gw.call(reqwest::Method::GET, "/me", Some(key), None).await
}

/// Every audit record so far (up to 1000), newest first.
pub async fn audit(gw: &Gateway) -> Vec<gate_store::AuditRecord> {
    gw.gate.flush_audit().await.unwrap();
    gw.gate
        .store()
        .query_audit(&gate_store::AuditQuery::new().limit(1000))
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.record)
        .collect()
}
