//! An in-memory Notion API server (axum) that stands in for `api.notion.com` in tests.
//!
//! The emulator is deliberately independent of `notion-client`: objects are stored as
//! `serde_json::Value` and shaped after real recorded responses (the fixtures in
//! `shared/notion-fixtures`), so the client and the emulator cannot agree on the same mistake.
//!
//! The one exception is the Markdown endpoints: they render and parse Markdown through the
//! `notion-markdown` crate, which brings `notion-client`'s *models* in as a transitive
//! dependency. Only the converter uses them (it takes and returns `serde_json::Value` blocks:
//! `notion_markdown::render_json` and `parse_markdown_json`); the emulator's storage,
//! validation and responses never touch a `notion-client` type.
//!
//! # Starting it
//!
//! ```no_run
//! # async fn demo() -> Result<(), notion_emulator::EmulatorError> {
//! use std::time::Duration;
//! use notion_emulator::{Emulator, RateLimit, ScriptedFault, Seed};
//! use axum::http::Method;
//!
//! let emu = Emulator::builder()
//!     .seed(Seed::Demo)
//!     .tokens(["secret_a"])                          // omit: any bearer token is accepted
//!     .rate_limit(RateLimit::per_second(3.0, 10))   // per token
//!     .oauth_client("client-id", "client-secret", ["http://localhost/cb"])
//!     .latency(Duration::from_millis(0))
//!     .start()
//!     .await?;                                       // binds 127.0.0.1:0
//! let base = emu.base_url();                         // "http://127.0.0.1:PORT"
//! emu.push_fault(ScriptedFault::new(Method::GET, "/v1/pages/{id}").status(429).retry_after(2).times(1));
//! let page = emu.demo_ids().root_page.clone();
//! let counters = emu.counters();
//! emu.shutdown().await;
//! # let _ = (base, page, counters); Ok(()) }
//! ```
//!
//! # Public API
//!
//! - [`Emulator::builder`] → [`EmulatorBuilder`]: `seed`, `tokens`, `rate_limit`,
//!   `workspace_rate_limit`, `window_budget`, `oauth_client`, `oauth_deny`, `latency`, `faults`,
//!   `workspace_name`, `query_result_cap`, `markdown_block_limit`, `file_upload_limit`,
//!   `free_workspace`, `webhook(`[`WebhookTarget`]`)`, `config`, `start` (binds `127.0.0.1:0`) and `start_on(addr)`.
//! - [`Emulator`]: `base_url()`, `addr()`, `handle()`, `shutdown().await`; it dereferences to
//!   [`EmulatorHandle`].
//! - [`EmulatorHandle`] (cloneable): `counters()` → [`Counters`], `request_log()` →
//!   `Vec<`[`LoggedRequest`]`>`, `reset_counters()`, `push_fault(`[`ScriptedFault`]`)`,
//!   `clear_scripted_faults()`, `set_faults(`[`FaultConfig`]`)`, `set_latency`,
//!   `set_rate_limit(Option<RateLimit>)`, `set_workspace_rate_limit`, `set_oauth_deny`,
//!   `add_token`, `revoke_token`, `expire_token`, `set_file_upload_limit`,
//!   `serve_external_file(url, size, mime)` (what an `external_url` import finds), `demo_ids()` → [`DemoIds`], `try_demo_ids()`,
//!   `bot_id()`, `create_page(parent_page_id, title)`, `append_children(block_id, Vec<Value>)`,
//!   `set_webhook(Option<`[`WebhookTarget`]`>)`, `webhook_stats()` → [`WebhookStats`],
//!   `get_object(id)`, `child_ids(id)`, `seed_objects(&[Value])` (objects stored under their
//!   own ids, for replaying recorded traffic), `with_store(|store| …)`.
//! - [`router`]`(handle)` and [`build_app`]`(config)` for in-process use without a socket
//!   (there, a dropped-connection fault is a 500 response carrying the
//!   [`pipeline::DropConnection`] extension).
//!
//! # Behaviour
//!
//! - Versions `2022-06-28`, `2025-09-03`, `2026-03-11` (`Notion-Version` required), bearer
//!   tokens, Notion's error envelopes and messages, `request_id` in every JSON body plus the
//!   `X-Notion-Request-Id` header.
//! - Rate limits per token and per workspace (GCRA or 60-second window); faults (scripted and
//!   probabilistic, before or after the effect, HTML 502, dropped connections); counters and a
//!   request log. All timing uses `tokio::time`, so tests with a paused clock are exact.
//! - Markdown endpoints (2025-09-03 and 2026-03-11; `invalid_request_url` on 2022-06-28):
//!   `GET /v1/pages/{id}/markdown` renders the stored block tree (`truncated` past
//!   `markdown_block_limit` blocks, unrenderable blocks listed in `unknown_block_ids`),
//!   `PATCH` applies `insert_content`, `replace_content_range`, `update_content` and
//!   `replace_content` to that Markdown and rebuilds the page body from it (child pages and
//!   databases are kept when their link line survives; deleting one needs
//!   `allow_deleting_content`), and `POST /v1/pages` accepts `markdown`.
//! - File uploads (single-part, multi-part, external URL; parts counted, not kept; Notion's
//!   part sizes, 1,000 parts, one-hour expiry, the workspace's per-file limit), usable as
//!   `file_upload` references in file blocks, `files` properties, icons and covers; views
//!   (2025-09-03+) whose queries apply the view's filter and sorts; comment update and delete;
//!   custom emojis; `allow_async` Markdown updates answered 202 with an `async_task`.
//! - Integration webhooks (`webhooks.rs`): a configured target gets the verification
//!   handshake, then signed events for page, block, data source, database and comment
//!   changes, sent off the request path with retries.
//! - Database containers on 2025-09-03+ omit `archived` (as recorded in
//!   `RM/retrieve_database_created.json`); pages, blocks and data sources carry both
//!   `archived` and `in_trash` except on 2026-03-11.

pub mod config;
pub mod error;
pub mod handlers;
pub mod model;
pub mod pipeline;
pub mod query;
pub mod seed;
pub mod state;
pub mod store;
pub mod util;
pub mod webhooks;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

pub use config::{
    ApiVersion, EmulatorConfig, Fault, FaultConfig, FaultRule, FaultTiming, OAuthClient, RateLimit,
    ScriptedFault, Seed,
};
pub use error::{ApiError, EmulatorError};
pub use handlers::router;
pub use seed::DemoIds;
pub use state::{Counters, EmulatorHandle, LoggedRequest, REQUEST_LOG_CAP};
pub use webhooks::{WebhookStats, WebhookTarget};

/// Builds the router and its state from a configuration (no socket).
pub fn build_app(config: EmulatorConfig) -> (Router, EmulatorHandle) {
    let h = EmulatorHandle::from_config(&config);
    (router(h.clone()), h)
}

/// Builder for [`Emulator`].
#[derive(Debug, Clone, Default)]
pub struct EmulatorBuilder {
    config: EmulatorConfig,
}

impl EmulatorBuilder {
    /// Initial content.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.config.seed = seed;
        self
    }

    /// Accept only these internal tokens (plus OAuth-issued ones). Without this call any bearer
    /// token is accepted, each token counting as its own connection for rate limits.
    pub fn tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.tokens = Some(tokens.into_iter().map(Into::into).collect());
        self
    }

    /// Per-token rate limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.rate_limit = Some(limit);
        self
    }

    /// Workspace-wide rate limit shared by all tokens.
    pub fn workspace_rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.workspace_rate_limit = Some(limit);
        self
    }

    /// Per-token budget of `budget` requests per 60-second window.
    pub fn window_budget(mut self, budget: u32) -> Self {
        self.config.rate_limit = Some(RateLimit::window_budget(budget));
        self
    }

    /// Registers an OAuth client.
    pub fn oauth_client<I, S>(
        mut self,
        client_id: &str,
        client_secret: &str,
        redirect_uris: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.oauth_clients.push(OAuthClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: redirect_uris.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Makes `/v1/oauth/authorize` refuse consent.
    pub fn oauth_deny(mut self, deny: bool) -> Self {
        self.config.oauth_deny = deny;
        self
    }

    /// Fixed latency per request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.config.faults.latency = latency;
        self
    }

    /// Fault configuration (keeps a latency set earlier unless the new one is non-zero).
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        let latency = self.config.faults.latency;
        self.config.faults = faults;
        if self.config.faults.latency.is_zero() {
            self.config.faults.latency = latency;
        }
        self
    }

    /// Workspace name.
    pub fn workspace_name(mut self, name: &str) -> Self {
        self.config.workspace_name = name.into();
        self
    }

    /// Result cap per query/search (default 10,000).
    pub fn query_result_cap(mut self, cap: usize) -> Self {
        self.config.query_result_cap = cap;
        self
    }

    /// Blocks rendered by the Markdown endpoint before it answers `truncated: true`.
    pub fn markdown_block_limit(mut self, limit: usize) -> Self {
        self.config.markdown_block_limit = limit;
        self
    }

    /// The workspace's per-file upload limit (default: a paid workspace's 5 GiB).
    pub fn file_upload_limit(mut self, bytes: u64) -> Self {
        self.config.max_file_upload_size = bytes;
        self
    }

    /// A free workspace: uploads limited to 5 MiB per file, as Notion's free plan.
    pub fn free_workspace(self) -> Self {
        self.file_upload_limit(handlers::uploads::FREE_WORKSPACE_UPLOAD_LIMIT)
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: EmulatorConfig) -> Self {
        self.config = config;
        self
    }

    /// Sends Notion's webhooks to `target` (handshake first, then signed events).
    pub fn webhook(mut self, target: crate::webhooks::WebhookTarget) -> Self {
        self.config.webhook = Some(target);
        self
    }

    /// The configuration built so far.
    pub fn build_config(&self) -> EmulatorConfig {
        self.config.clone()
    }

    /// Starts the server on `127.0.0.1:0`.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        self.start_on(
            "127.0.0.1:0"
                .parse()
                .map_err(|_| EmulatorError::Config("address".into()))?,
        )
        .await
    }

    /// Starts the server on the given address.
    pub async fn start_on(self, addr: SocketAddr) -> Result<Emulator, EmulatorError> {
        if let Some(RateLimit::PerSecond { rate, .. }) = self.config.rate_limit
            && rate <= 0.0
        {
            return Err(EmulatorError::Config("rate must be positive".into()));
        }
        let webhook = self.config.webhook.clone();
        let (app, handle) = build_app(self.config);
        handle.set_webhook(webhook);
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, app, rx));
        Ok(Emulator {
            handle,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn serve(listener: TcpListener, app: Router, mut shutdown: oneshot::Receiver<()>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let app = app.clone();
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let app = app.clone();
                        async move {
                            let resp = app.oneshot(req.map(axum::body::Body::new)).await;
                            let resp = match resp {
                                Ok(r) => r,
                                Err(never) => match never {},
                            };
                            if resp.extensions().get::<pipeline::DropConnection>().is_some() {
                                return Err(Dropped);
                            }
                            Ok(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

/// A running emulator bound to a local TCP port.
#[derive(Debug)]
pub struct Emulator {
    handle: EmulatorHandle,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the default configuration (empty seed, any token, no limits).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash; paths start with `/v1/`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable handle on the state.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// Stops accepting connections and closes open ones.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl std::ops::Deref for Emulator {
    type Target = EmulatorHandle;
    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl EmulatorHandle {
    /// Creates a page titled `title` under a page; returns its id.
    pub fn create_page(&self, parent_page_id: &str, title: &str) -> Result<String, EmulatorError> {
        let parent = util::parse_id(parent_page_id)
            .ok_or_else(|| ApiError::bad_uuid("page_id", parent_page_id))?;
        let mut s = state::lock(&self.0.store);
        let by = s.bot_id.clone();
        Ok(handlers::pages::create_child_page(
            &mut s, &parent, title, &by,
        )?)
    }

    /// Stores whole objects as Notion answered them (pages, blocks, databases, data sources,
    /// users, comments) under their own ids: a workspace rebuilt from recorded answers, for
    /// replaying recorded traffic ([`store::Store::seed_object`]). This is Rust-only test
    /// access; no HTTP route reaches it. Returns how many objects were stored.
    pub fn seed_objects<'a>(&self, objects: impl IntoIterator<Item = &'a Value>) -> usize {
        let mut s = state::lock(&self.0.store);
        objects
            .into_iter()
            .filter(|o| s.seed_object(o).is_some())
            .count()
    }

    /// Appends blocks (request form, e.g. `{"type":"paragraph","paragraph":{…}}`) at the end of
    /// a page or block, with the API's validation; returns the new first-level ids.
    pub fn append_children(
        &self,
        block_id: &str,
        children: Vec<Value>,
    ) -> Result<Vec<String>, EmulatorError> {
        let parent =
            util::parse_id(block_id).ok_or_else(|| ApiError::bad_uuid("block_id", block_id))?;
        let mut s = state::lock(&self.0.store);
        let by = s.bot_id.clone();
        let mut ids = Vec::new();
        // The API takes at most 100 children per request; test access may append more.
        for chunk in children.chunks(100) {
            let (new, _) = handlers::blocks::append_inner(
                &mut s,
                &parent,
                &Value::Array(chunk.to_vec()),
                &Value::Null,
                ApiVersion::V2026_03_11,
                &by,
            )?;
            ids.extend(new);
        }
        Ok(ids)
    }
}
