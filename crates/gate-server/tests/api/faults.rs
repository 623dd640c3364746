//! The fault suite (issue #7): the emulator injects 500/502/503/529, HTML 502s, 429 bursts with
//! `Retry-After`, added latency and dropped connections, before or after a write is applied,
//! and every surface (REST, tool endpoint, proxy, MCP over HTTP) is driven through them on
//! every storage backend. The suite shows that
//!
//! - reads succeed despite 20% injected faults, within the retry budget;
//! - a create or an append that reached Notion before the fault is never sent twice (counted
//!   at the emulator: requests received and writes applied per route);
//! - when retries run out the caller gets a clear error that says whether the write may have
//!   happened (`write_state`: `may_have_applied` or `not_applied`);
//! - the audit has exactly one record per call.
//!
//! Retry backoffs are shortened (1–5 ms, `Retry-After` capped) so the suite runs in seconds;
//! nothing asserts a wall-clock time.

use std::time::Duration;

use gate_store::{AuditQuery, AuditRecord};
use notion_client::RetryPolicy;
use notion_emulator::{Fault, FaultConfig, FaultRule, ScriptedFault};
use reqwest::Method;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::test_support::{Backend, Gateway, GatewayOpts, spawn_gateway_with};

type McpClient = RunningService<RoleClient, ()>;

const CREATE: &str = "POST /v1/pages";
const APPEND: &str = "PATCH /v1/blocks/{id}/children";

/// The gateway's request timeout: far above a normal answer, far below an injected stall.
const TIMEOUT: Duration = Duration::from_millis(1500);
const STALL: Duration = Duration::from_millis(4000);

/// The default budgets (5 rate-limit retries, 3 server-error retries) with short delays.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(5))
}

async fn gateway(backend: Backend, test: &str) -> Gateway {
    spawn_gateway_with(GatewayOpts {
        retry: Some(fast_retries()),
        request_timeout: Some(TIMEOUT),
        ..backend.opts(test).await
    })
    .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Surface {
    Rest,
    Tool,
    Proxy,
    Mcp,
}

const SURFACES: [Surface; 4] = [Surface::Rest, Surface::Tool, Surface::Proxy, Surface::Mcp];

impl Surface {
    fn audit_name(self) -> &'static str {
        match self {
            Surface::Rest => "rest",
            Surface::Tool => "tool",
            Surface::Proxy => "proxy",
            Surface::Mcp => "mcp",
        }
    }
}

/// How a call ended, the same for every surface.
#[derive(Debug)]
enum Reply {
    /// Success; the created page's id for a create.
    Ok(Option<String>),
    /// An error: the surface's code, its `write_state` (if it says one) and the raw answer.
    Err {
        code: String,
        write_state: Option<String>,
        raw: Value,
    },
}

impl Reply {
    fn is_ok(&self) -> bool {
        matches!(self, Reply::Ok(_))
    }

    #[track_caller]
    fn err(&self) -> (&str, Option<&str>, &Value) {
        match self {
            Reply::Err {
                code,
                write_state,
                raw,
            } => (code, write_state.as_deref(), raw),
            Reply::Ok(_) => panic!("expected an error, got {self:?}"),
        }
    }
}

/// One agent (autonomous: every write runs) on all four surfaces.
struct Driver<'a> {
    gw: &'a Gateway,
    key: String,
    mcp: McpClient,
}

impl<'a> Driver<'a> {
    async fn new(gw: &'a Gateway) -> Driver<'a> {
        let key = gw.agent("autonomous").to_owned();
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", gw.base))
            .auth_header(key.clone());
        let mcp =
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .expect("MCP client");
        Driver { gw, key, mcp }
    }

    async fn read(&self, s: Surface, page: &str) -> Reply {
        match s {
            Surface::Rest => {
                let path = format!("/notion/pages/{page}");
                envelope(
                    self.gw
                        .call(Method::GET, &path, Some(&self.key), None)
                        .await,
                )
            }
            Surface::Tool => self.tool("get_page", json!({"page_id": page})).await,
            Surface::Proxy => {
                let r = self
                    .gw
                    .http
                    .get(format!("{}/v1/pages/{page}", self.gw.base))
                    .bearer_auth(&self.key)
                    .header("Notion-Version", "2025-09-03")
                    .send()
                    .await
                    .unwrap();
                proxy_reply(r).await
            }
            Surface::Mcp => self.mcp_call("get_page", json!({"page_id": page})).await,
        }
    }

    async fn create(&self, s: Surface, parent: &str, title: &str) -> Reply {
        let params = json!({"parent": {"page_id": parent}, "title": title});
        match s {
            Surface::Rest => envelope(
                self.gw
                    .call(Method::POST, "/notion/pages", Some(&self.key), Some(params))
                    .await,
            ),
            Surface::Tool => self.tool("create_page", params).await,
            Surface::Proxy => {
                let body = json!({
                    "parent": {"page_id": parent},
                    "properties": {"title": {"title": [{"text": {"content": title}}]}},
                });
                let r = self
                    .gw
                    .http
                    .post(format!("{}/v1/pages", self.gw.base))
                    .bearer_auth(&self.key)
                    .header("Notion-Version", "2025-09-03")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                proxy_reply(r).await
            }
            Surface::Mcp => self.mcp_call("create_page", params).await,
        }
    }

    async fn append(&self, s: Surface, page: &str, text: &str) -> Reply {
        match s {
            Surface::Rest => {
                let path = format!("/notion/pages/{page}/blocks");
                envelope(
                    self.gw
                        .call(
                            Method::POST,
                            &path,
                            Some(&self.key),
                            Some(json!({"markdown": text})),
                        )
                        .await,
                )
            }
            Surface::Tool => {
                self.tool(
                    "append_markdown",
                    json!({"page_id": page, "markdown": text}),
                )
                .await
            }
            Surface::Proxy => {
                let body = json!({"children": [{"type": "paragraph", "paragraph": {
                    "rich_text": [{"type": "text", "text": {"content": text}}]}}]});
                let r = self
                    .gw
                    .http
                    .patch(format!("{}/v1/blocks/{page}/children", self.gw.base))
                    .bearer_auth(&self.key)
                    .header("Notion-Version", "2025-09-03")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                proxy_reply(r).await
            }
            Surface::Mcp => {
                self.mcp_call(
                    "append_markdown",
                    json!({"page_id": page, "markdown": text}),
                )
                .await
            }
        }
    }

    async fn tool(&self, action: &str, params: Value) -> Reply {
        envelope(
            self.gw
                .call(
                    Method::POST,
                    "/tools/notion",
                    Some(&self.key),
                    Some(json!({"action": action, "params": params})),
                )
                .await,
        )
    }

    async fn mcp_call(&self, tool: &str, args: Value) -> Reply {
        let params = CallToolRequestParams::new(tool.to_owned())
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        let r: CallToolResult = self.mcp.call_tool(params).await.expect("MCP call");
        let v = r.structured_content.clone().unwrap_or(Value::Null);
        if r.is_error == Some(true) {
            Reply::Err {
                code: v["error"].as_str().unwrap_or_default().to_owned(),
                write_state: v["write_state"].as_str().map(str::to_owned),
                raw: v,
            }
        } else {
            Reply::Ok(v["id"].as_str().map(str::to_owned))
        }
    }
}

/// The REST / tool endpoint envelope.
fn envelope((status, body): (u16, Value)) -> Reply {
    if status == 200 {
        let result = if body.get("result").is_some() {
            &body["result"]
        } else {
            &body
        };
        return Reply::Ok(result["id"].as_str().map(str::to_owned));
    }
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "every error has a message: {body}"
    );
    Reply::Err {
        code: e["code"].as_str().unwrap_or_default().to_owned(),
        write_state: e["details"]["write_state"].as_str().map(str::to_owned),
        raw: json!({"status": status, "body": body}),
    }
}

/// The proxy: Notion's status and envelope, plus the gateway's write-state header or
/// `additional_data.write_state`.
async fn proxy_reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let header = r
        .headers()
        .get("notion-gate-write-state")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status == 200 {
        return Reply::Ok(body["id"].as_str().map(str::to_owned));
    }
    let write_state = header.or_else(|| {
        body["additional_data"]["write_state"]
            .as_str()
            .map(str::to_owned)
    });
    Reply::Err {
        code: body["code"].as_str().unwrap_or("non_json").to_owned(),
        write_state,
        raw: json!({"status": status, "body": body}),
    }
}

async fn audit(gw: &Gateway) -> Vec<AuditRecord> {
    gw.gate.flush_audit().await.unwrap();
    gw.gate
        .store()
        .query_audit(&AuditQuery::new().limit(10_000))
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.record)
        .collect()
}

/// How many pages directly under `parent` carry `marker` (in their title).
fn pages_with(gw: &Gateway, parent: &str, marker: &str) -> usize {
    gw.emu
        .child_ids(parent)
        .iter()
        .filter_map(|id| gw.emu.get_object(id))
        .filter(|o| o["object"] == "page" && o.to_string().contains(marker))
        .count()
}

/// How many blocks directly under `page` carry `marker`.
fn blocks_with(gw: &Gateway, page: &str, marker: &str) -> usize {
    gw.emu
        .child_ids(page)
        .iter()
        .filter_map(|id| gw.emu.get_object(id))
        .filter(|o| o["object"] == "block" && o.to_string().contains(marker))
        .count()
}

/// Scripted faults, one situation at a time, on every surface and backend: the emulator's
/// counts say what reached Notion and what was applied, the caller's error says it too, and
/// each call leaves one audit record.
#[tokio::test]
async fn writes_are_never_sent_twice_and_errors_say_whether_they_applied() {
    for backend in Backend::available() {
        let gw = gateway(backend, "faults_scripted").await;
        let d = Driver::new(&gw).await;
        let root = gw.emu.demo_ids().root_page.clone();
        for s in SURFACES {
            let target = gw.emu.create_page(&root, &format!("target {s:?}")).unwrap();
            let audit_before = audit(&gw).await.len();
            let mut calls = 0;
            let ctx = format!("{backend:?}/{s:?}");

            // 1. A create answered 500 after Notion applied it: sent once, applied once, and
            //    the caller is told it may have happened.
            gw.emu.reset_counters();
            gw.emu.push_fault(
                ScriptedFault::new(Method::POST, "/v1/pages")
                    .status(500)
                    .after_effect(),
            );
            let marker = format!("c500-{s:?}");
            let r = d.create(s, &root, &marker).await;
            calls += 1;
            let (code, ws, raw) = r.err();
            assert_eq!(ws, Some("may_have_applied"), "{ctx}: {raw}");
            match s {
                Surface::Proxy => {
                    assert_eq!(raw["status"], 500, "{ctx}: Notion's status kept");
                    assert_eq!(code, "internal_server_error", "{ctx}");
                }
                _ => assert_eq!(code, "notion_error", "{ctx}: {raw}"),
            }
            let c = gw.emu.counters();
            assert_eq!(c.route(CREATE), 1, "{ctx}: the create was sent once");
            assert_eq!(c.applied(CREATE), 1, "{ctx}");
            assert_eq!(pages_with(&gw, &root, &marker), 1, "{ctx}: no duplicate");

            // 2. An append whose connection drops after it was applied: sent once, applied
            //    once, "may have applied".
            gw.emu.reset_counters();
            gw.emu.push_fault(
                ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
                    .drop_connection()
                    .after_effect(),
            );
            let marker = format!("drop-{s:?}");
            let r = d.append(s, &target, &marker).await;
            calls += 1;
            let (code, ws, raw) = r.err();
            assert_eq!(ws, Some("may_have_applied"), "{ctx}: {raw}");
            let want = if s == Surface::Proxy {
                "bad_gateway"
            } else {
                "notion_error"
            };
            assert_eq!(code, want, "{ctx}: {raw}");
            let c = gw.emu.counters();
            assert_eq!(c.route(APPEND), 1, "{ctx}: the append was sent once");
            assert_eq!(c.applied(APPEND), 1, "{ctx}");
            assert_eq!(c.dropped, 1, "{ctx}");
            assert_eq!(blocks_with(&gw, &target, &marker), 1, "{ctx}: no duplicate");

            // 4. A burst of 429s (and a 529) on a create: Notion refused before acting, so the
            //    gateway re-sends it and it is applied exactly once.
            gw.emu.reset_counters();
            gw.emu.push_fault(
                ScriptedFault::new(Method::POST, "/v1/pages")
                    .status(429)
                    .retry_after(1)
                    .times(3),
            );
            gw.emu.push_fault(
                ScriptedFault::new(Method::POST, "/v1/pages")
                    .status(529)
                    .retry_after(1),
            );
            let marker = format!("burst-{s:?}");
            let r = d.create(s, &root, &marker).await;
            calls += 1;
            let Reply::Ok(Some(id)) = &r else {
                panic!("{ctx}: the create succeeds with its id: {r:?}")
            };
            assert!(gw.emu.get_object(id).is_some(), "{ctx}: {id}");
            let c = gw.emu.counters();
            assert_eq!(c.route(CREATE), 5, "{ctx}: four refusals, then the create");
            assert_eq!(c.applied(CREATE), 1, "{ctx}");
            assert_eq!(pages_with(&gw, &root, &marker), 1, "{ctx}");

            // 5. 429s outlast the budget: a clear rate-limit error, nothing applied.
            gw.emu.reset_counters();
            gw.emu.push_fault(
                ScriptedFault::new(Method::POST, "/v1/pages")
                    .status(429)
                    .retry_after(1)
                    .times(20),
            );
            let marker = format!("limited-{s:?}");
            let r = d.create(s, &root, &marker).await;
            calls += 1;
            gw.emu.clear_scripted_faults();
            let (code, ws, raw) = r.err();
            assert_eq!(ws, Some("not_applied"), "{ctx}: {raw}");
            assert_eq!(code, "rate_limited", "{ctx}: {raw}");
            let c = gw.emu.counters();
            assert_eq!(c.route(CREATE), 6, "{ctx}: 1 + 5 retries");
            assert_eq!(c.applied(CREATE), 0, "{ctx}");
            assert_eq!(pages_with(&gw, &root, &marker), 0, "{ctx}");

            // 6. A read whose 503s (and an HTML 502) outlast the budget: a clear error after
            //    1 + 3 attempts.
            gw.emu.reset_counters();
            gw.emu.push_fault(
                ScriptedFault::new(Method::GET, "/v1/pages/{id}")
                    .status(503)
                    .times(3),
            );
            gw.emu
                .push_fault(ScriptedFault::new(Method::GET, "/v1/pages/{id}").html_bad_gateway());
            let r = d.read(s, &target).await;
            calls += 1;
            let (code, _, raw) = r.err();
            match s {
                Surface::Proxy => assert_eq!(raw["status"], 502, "{ctx}: {raw}"),
                _ => assert_eq!(code, "notion_error", "{ctx}: {raw}"),
            }
            assert_eq!(gw.emu.counters().route("GET /v1/pages/{id}"), 4, "{ctx}");

            // 7. The same read with fewer faults than the budget succeeds.
            gw.emu.reset_counters();
            for fault in [
                Fault::status(500),
                Fault::DropConnection,
                Fault::status(529),
            ] {
                let mut f = ScriptedFault::new(Method::GET, "/v1/pages/{id}");
                f.fault = fault;
                gw.emu.push_fault(f);
            }
            let r = d.read(s, &target).await;
            calls += 1;
            assert!(r.is_ok(), "{ctx}: {r:?}");
            assert_eq!(gw.emu.counters().route("GET /v1/pages/{id}"), 4, "{ctx}");

            // One audit record per call, on this surface, failures included.
            let records = audit(&gw).await;
            let new = &records[..records.len() - audit_before];
            assert_eq!(new.len(), calls, "{ctx}: one audit record per call");
            assert!(
                new.iter()
                    .all(|r| r.call.surface.as_str() == s.audit_name()),
                "{ctx}"
            );
            let failed = new.iter().filter(|r| r.outcome.as_str() == "error").count();
            assert_eq!(
                failed, 4,
                "{ctx}: the four failed calls are audited as errors"
            );
        }

        // An append applied, then stalled past the gateway's timeout, on the four surfaces at
        // once: not re-sent (a second send would find no fault and append a second copy).
        // Last, because the stalled answers are still pending when the test ends.
        gw.emu.push_fault(
            ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
                .delay(STALL)
                .after_effect()
                .times(4),
        );
        let audit_before = audit(&gw).await.len();
        let target = gw.emu.create_page(&root, "stall target").unwrap();
        let markers = SURFACES.map(|s| format!("stall-{s:?}"));
        let replies = futures::future::join_all(
            SURFACES
                .iter()
                .zip(&markers)
                .map(|(s, m)| d.append(*s, &target, m)),
        )
        .await;
        for (s, r) in SURFACES.iter().zip(&replies) {
            let ctx = format!("{backend:?}/{s:?}");
            let (_, ws, raw) = r.err();
            assert_eq!(ws, Some("may_have_applied"), "{ctx}: {raw}");
            assert_eq!(
                blocks_with(&gw, &target, &format!("stall-{s:?}")),
                1,
                "{ctx}: applied once, never re-sent"
            );
        }
        assert_eq!(audit(&gw).await.len(), audit_before + 4, "{backend:?}");
    }
}

/// 20% random faults of every kind (seeded): every read succeeds; no write is applied twice;
/// every failed write says whether it may have been applied, and says it truthfully; the
/// audit holds one record per call.
#[tokio::test]
async fn twenty_percent_faults_on_every_surface() {
    for backend in Backend::available() {
        let gw = gateway(backend, "faults_random").await;
        let d = Driver::new(&gw).await;
        let root = gw.emu.demo_ids().root_page.clone();
        let target = gw.emu.create_page(&root, "random target").unwrap();
        let audit_before = audit(&gw).await.len();
        gw.emu.reset_counters();
        gw.emu.set_faults(twenty_percent(7));

        let (mut calls, mut reads, mut failed_writes) = (0usize, 0usize, 0usize);
        for round in 0..6 {
            for s in SURFACES {
                let ctx = format!("{backend:?}/{s:?}/{round}");
                let r = d.read(s, &target).await;
                calls += 1;
                reads += 1;
                assert!(r.is_ok(), "{ctx}: reads survive 20% faults: {r:?}");

                let marker = format!("rnd-create-{s:?}-{round}");
                let r = d.create(s, &root, &marker).await;
                calls += 1;
                failed_writes += check_write(&r, pages_with(&gw, &root, &marker), &ctx);

                let marker = format!("rnd-append-{s:?}-{round}");
                let r = d.append(s, &target, &marker).await;
                calls += 1;
                failed_writes += check_write(&r, blocks_with(&gw, &target, &marker), &ctx);
            }
        }
        gw.emu.set_faults(FaultConfig::default());

        let c = gw.emu.counters();
        assert!(
            c.faults_injected() >= 20,
            "{backend:?}: faults were injected: {:?}",
            c.faults
        );
        assert!(
            c.applied(CREATE) <= 24 && c.applied(APPEND) <= 24,
            "{backend:?}: at most one apply per write: {c:?}"
        );
        assert_eq!(reads, 24);
        let records = audit(&gw).await;
        assert_eq!(
            records.len() - audit_before,
            calls,
            "{backend:?}: one audit record per call ({failed_writes} failed writes)"
        );
    }
}

/// A write's reply against what the emulator holds (`copies` of its marker): success means
/// exactly one copy; `not_applied` means none; `may_have_applied` at most one. Returns 1 for
/// a failed write.
#[track_caller]
fn check_write(r: &Reply, copies: usize, ctx: &str) -> usize {
    match r {
        Reply::Ok(_) => {
            assert_eq!(copies, 1, "{ctx}: a successful write is applied once");
            0
        }
        Reply::Err {
            write_state, raw, ..
        } => {
            match write_state.as_deref() {
                Some("not_applied") => assert_eq!(copies, 0, "{ctx}: {raw}"),
                Some("may_have_applied") => assert!(copies <= 1, "{ctx}: {raw}"),
                other => panic!("{ctx}: a failed write must say its state, got {other:?}: {raw}"),
            }
            1
        }
    }
}

/// 20% of requests get a fault: 500, 502 (JSON and HTML), 503, 529, 429 with `Retry-After`,
/// dropped connections before and after the effect, a 500 after the effect, and added latency.
pub fn twenty_percent(seed: u64) -> FaultConfig {
    // Rules are tried in order and the first that fires wins: each rule's probability is its
    // share given that no earlier rule fired, so the shares add up to exactly 20%.
    let mut taken = 0.0;
    let mut rule = |share: f64, fault: Fault| {
        let p = share / (1.0 - taken);
        taken += share;
        FaultRule::all_routes(p, fault)
    };
    FaultConfig {
        rules: vec![
            rule(0.03, Fault::status(500)),
            rule(0.02, Fault::status(502)),
            rule(0.02, Fault::BadGatewayHtml),
            rule(0.03, Fault::status(503)),
            rule(0.02, Fault::status(529)),
            rule(
                0.03,
                Fault::Status {
                    status: 429,
                    retry_after: Some(1),
                },
            ),
            rule(0.01, Fault::DropConnection),
            rule(0.01, Fault::DropConnection).after_effect(),
            rule(0.01, Fault::status(500)).after_effect(),
            rule(0.02, Fault::Delay(Duration::from_millis(20))),
        ],
        latency: Duration::ZERO,
        rng_seed: Some(seed),
    }
}
