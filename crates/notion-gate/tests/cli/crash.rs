//! Crash safety: `notion-gate serve` on SQLite and on PostgreSQL is killed with SIGKILL in the
//! middle of concurrent writes (agents, keys, connections, held writes, approvals, audited
//! Notion reads), then restarted on the same state. After the restart:
//!
//! * SQLite's `PRAGMA integrity_check` answers `ok` (checked right after the kill, before the
//!   restart recovers anything);
//! * every write the server acknowledged (2xx or 202) before the kill is there: agents, their
//!   keys still authenticate, connections, approvals;
//! * approvals never approved are still pending and never ran; no approved call ran twice at
//!   the emulator (each held write creates a page with a unique title);
//! * every acknowledged Notion call has its audit record: each held write (by its approval
//!   id), each approval's execution, and at least as many reads as were acknowledged — the
//!   gateway answers only after the record is durable (committed, or on SQLite a line of the
//!   spool file that the restart imports).
//!
//! A second pair of tests aborts `serve` at a fault-injection point inside a write
//! (`NOTION_GATE_TEST_ABORT_AT`): after the write's intent is durable and before it is sent,
//! and after Notion carried it out but before its audit record and answer. The restart
//! settles both from Notion: the write that never left is recorded `unknown`
//! (`recovered_not_found`), the one Notion carried out `ok` (`recovered_found`); neither is
//! missing from the audit trail, and none is recorded as done that did not happen.
//!
//! PostgreSQL runs on a fresh schema of `TEST_DATABASE_URL`; without it that half is skipped
//! with a notice.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notion_emulator::{Emulator, Seed};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{Server, ok, run};

const TOKEN: &str = "ntn_crash_test_token_0123456789";
/// Acknowledged writes before the kill.
const KILL_AFTER: usize = 240;
/// Concurrent writers.
const WORKERS: usize = 8;
/// Approvals created before the load; about half are approved during it.
const HELD_BEFORE: usize = 24;

/// Where the state lives: SQLite in the data folder, or a fresh PostgreSQL schema.
struct Backend {
    name: &'static str,
    /// `--database-url` (PostgreSQL only).
    url: Option<String>,
    /// The PostgreSQL server and the schema to drop afterwards.
    pg: Option<(String, String)>,
}

impl Backend {
    fn sqlite() -> Self {
        Self {
            name: "sqlite",
            url: None,
            pg: None,
        }
    }

    async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!(
                "\nNOTICE: TEST_DATABASE_URL is not set: the PostgreSQL crash test is SKIPPED.\n"
            );
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let schema = format!("crash_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Self {
            name: "postgres",
            url: Some(format!("{base}{sep}options[search_path]={schema}")),
            pg: Some((base, schema)),
        })
    }

    /// `--database-url URL` when not the default SQLite file.
    fn args(&self) -> Vec<String> {
        match &self.url {
            Some(u) => vec!["--database-url".into(), u.clone()],
            None => Vec::new(),
        }
    }

    async fn drop_schema(&self) {
        if let Some((base, schema)) = &self.pg
            && let Ok(mut conn) = sqlx::PgConnection::connect(base).await
        {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_load_loses_no_acknowledged_write_on_sqlite() {
    crash_and_check(Backend::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_load_loses_no_acknowledged_write_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    crash_and_check(backend).await;
    // Reached only when the checks passed; a failed run leaves its schema for a look.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn abort_inside_a_write_is_settled_at_restart_on_sqlite() {
    abort_and_settle(Backend::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn abort_inside_a_write_is_settled_at_restart_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    abort_and_settle(backend).await;
}

/// For each abort point: a proxied page create aborts the server mid-write; the restart
/// settles it from Notion, and the audit (export and `audit tail`) shows the outcome.
async fn abort_and_settle(backend: Backend) {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .start()
        .await
        .expect("the emulator starts");
    let root = emu.demo_ids().root_page.clone();
    let emu_url = emu.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap().to_owned();
    let db_args = backend.args();
    let with_db = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        v.extend(["--data-dir".to_owned(), d.clone()]);
        v.extend(db_args.iter().cloned());
        v
    };
    let cli = |args: Vec<String>| {
        let cwd = tmp.path().to_owned();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&run(&cwd, &refs, &[]).await)
        }
    };
    cli(with_db(&["user", "add", "root", "--admin"])).await;
    cli(with_db(&[
        "connect",
        "--token",
        TOKEN,
        "--notion-url",
        &emu_url,
    ]))
    .await;
    let writer = cli(with_db(&[
        "agent",
        "add",
        "writer",
        "--maturity",
        "autonomous",
    ]))
    .await
    .trim()
    .to_owned();
    let mut serve_args = vec!["--notion-url".to_owned(), emu_url.clone()];
    serve_args.extend(db_args.iter().cloned());
    let serve_refs: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let pages_titled = |title: &str| {
        emu.child_ids(&root)
            .iter()
            .filter(|c| {
                emu.get_object(c)
                    .unwrap_or_default()
                    .to_string()
                    .contains(title)
            })
            .count()
    };

    for (point, applied) in [("after_intent", false), ("after_send", true)] {
        let title = format!("crash-intent-{point}");
        let request_id = format!("crash-{point}-{}", std::process::id());
        let mut server = Server::start_with_env(
            "serve",
            tmp.path(),
            &data,
            &serve_refs,
            &[("NOTION_GATE_TEST_ABORT_AT", point)],
        )
        .await;
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/pages", server.base))
            .bearer_auth(&writer)
            .header("Notion-Version", "2026-03-11")
            .header("x-request-id", &request_id)
            .json(&json!({
                "parent": {"page_id": root},
                "properties": {"title": {"title": [{"text": {"content": title}}]}}
            }))
            .send()
            .await;
        assert!(resp.is_err(), "{point}: the server answered: {resp:?}");
        let status = server
            .wait_exit(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("{point}: the server did not abort:\n{}", server.log()));
        assert!(!status.success(), "{point}: {status}");
        assert!(server.log().contains("aborting the process"), "{point}");
        assert_eq!(pages_titled(&title), usize::from(applied), "{point}");

        // Restart without the fault: the stopped process's intent is settled at start.
        let server = Server::start("serve", tmp.path(), &data, &serve_refs).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let event = loop {
            let export = cli(with_db(&["audit", "export"])).await;
            let found: Vec<Value> = export
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
                .filter(|v| v["request_id"] == request_id.as_str())
                .collect();
            assert!(found.len() <= 1, "{point}: one record per write: {found:?}");
            if let Some(v) = found.into_iter().next() {
                break v;
            }
            assert!(
                Instant::now() < deadline,
                "{point}: no record after the restart:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let (outcome, reason) = if applied {
            ("ok", "recovered_found")
        } else {
            ("unknown", "recovered_not_found")
        };
        assert_eq!(event["outcome"], outcome, "{point}: {event}");
        assert_eq!(event["reason"], reason, "{point}: {event}");
        assert_eq!(event["action_class"], "create", "{event}");
        assert_eq!(event["args_summary"]["recovered"], true, "{event}");
        assert!(event["intent_id"].is_string(), "{event}");
        assert!(!event.to_string().contains(&title), "no content: {event}");
        let tail = cli(with_db(&["audit", "tail", "-n", "20"])).await;
        let line = tail
            .lines()
            .find(|l| l.contains("settled after its process stopped") && l.contains(reason))
            .unwrap_or_else(|| panic!("{point}: audit tail:\n{tail}"));
        assert_eq!(line.contains("RESULT UNKNOWN"), !applied, "{line}");
        let _ = server.terminate().await;
    }
    backend.drop_schema().await;
}

/// What the server acknowledged before the kill.
#[derive(Default)]
struct Acked {
    /// Agent id → its key.
    agents: Vec<(String, String)>,
    /// Extra keys issued to agents: (agent id, key).
    keys: Vec<(String, String)>,
    connections: Vec<String>,
    /// Held writes: approval id → the unique title of the page it creates.
    held: HashMap<String, String>,
    /// Approvals whose approval was acknowledged (executed).
    approved: HashSet<String>,
    /// Approvals whose approval was sent (acknowledged or not).
    approve_sent: HashSet<String>,
    /// Acknowledged page reads by the reader agent.
    reads: usize,
}

struct Ctx {
    base: String,
    admin: String,
    supervised: String,
    reader: String,
    root: String,
    http: reqwest::Client,
    acked: Mutex<Acked>,
    count: AtomicUsize,
    stop: AtomicBool,
    /// Approvals created before the load, taken one by one to be approved.
    to_approve: Mutex<Vec<String>>,
}

impl Ctx {
    async fn send(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> Option<(u16, String, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let rid = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.ok()?;
        Some((
            status,
            rid,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        ))
    }

    fn ack(&self, f: impl FnOnce(&mut Acked)) {
        f(&mut self.acked.lock().unwrap());
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// A held write: a supervised agent creates a page with a unique title.
    async fn hold(&self, title: &str) -> Option<()> {
        let body = json!({"parent": {"page_id": self.root}, "title": title});
        let (status, _, v) = self
            .send(
                Method::POST,
                "/api/v1/notion/pages",
                &self.supervised,
                Some(body),
            )
            .await?;
        assert!(status == 202 || status >= 500, "held write: {status} {v}");
        if status != 202 {
            return None;
        }
        let id = v["error"]["details"]["approval_id"]
            .as_str()
            .unwrap_or_else(|| panic!("an approval id in {v}"))
            .to_owned();
        let title = title.to_owned();
        self.ack(|a| {
            a.held.insert(id, title);
        });
        Some(())
    }

    /// One write of kind `i % 6`; None once the server is gone.
    async fn write(&self, worker: usize, i: usize) -> Option<()> {
        let tag = format!("w{worker}-{i}");
        match i % 6 {
            0 => {
                let body = json!({"name": format!("agent-{tag}"), "maturity": "intern"});
                let (status, _, v) = self
                    .send(Method::POST, "/api/v1/agents", &self.admin, Some(body))
                    .await?;
                assert!(status == 201 || status >= 500, "agent: {status} {v}");
                if status != 201 {
                    return None;
                }
                let id = v["agent"]["id"].as_str().unwrap().to_owned();
                let key = v["key"]["key"].as_str().unwrap().to_owned();
                self.ack(|a| a.agents.push((id, key)));
            }
            1 => {
                let agent = self.acked.lock().unwrap().agents.last().cloned();
                let Some((id, _)) = agent else {
                    return Some(());
                };
                let (status, _, v) = self
                    .send(
                        Method::POST,
                        &format!("/api/v1/agents/{id}/keys"),
                        &self.admin,
                        Some(json!({})),
                    )
                    .await?;
                assert!(status == 201 || status >= 500, "key: {status} {v}");
                if status != 201 {
                    return None;
                }
                let key = v["key"].as_str().unwrap().to_owned();
                self.ack(|a| a.keys.push((id, key)));
            }
            2 => {
                let body = json!({"token": TOKEN, "name": tag});
                let (status, _, v) = self
                    .send(Method::POST, "/api/v1/connections", &self.admin, Some(body))
                    .await?;
                assert!(status == 201 || status >= 500, "connection: {status} {v}");
                if status != 201 {
                    return None;
                }
                let id = v["connection_id"].as_str().unwrap().to_owned();
                self.ack(|a| a.connections.push(id));
            }
            3 => self.hold(&format!("crash-held-{tag}")).await?,
            4 => {
                let next = self.to_approve.lock().unwrap().pop();
                let Some(id) = next else {
                    return Some(());
                };
                self.acked.lock().unwrap().approve_sent.insert(id.clone());
                let (status, _, v) = self
                    .send(
                        Method::POST,
                        &format!("/api/v1/approvals/{id}/approve"),
                        &self.admin,
                        None,
                    )
                    .await?;
                assert!(status == 200 || status >= 500, "approve: {status} {v}");
                if status != 200 {
                    return None;
                }
                assert_eq!(v["status"], "executed", "{v}");
                self.ack(|a| {
                    a.approved.insert(id);
                });
            }
            _ => {
                let (status, _, v) = self
                    .send(
                        Method::GET,
                        &format!("/api/v1/notion/pages/{}", self.root),
                        &self.reader,
                        None,
                    )
                    .await?;
                assert!(status == 200 || status >= 500, "read: {status} {v}");
                if status != 200 {
                    return None;
                }
                self.ack(|a| a.reads += 1);
            }
        }
        Some(())
    }
}

async fn crash_and_check(backend: Backend) {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .start()
        .await
        .expect("the emulator starts");
    let root = emu.demo_ids().root_page.clone();
    let emu_url = emu.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let db_args = backend.args();
    let with_db = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        v.extend(["--data-dir".to_owned(), d.to_owned()]);
        v.extend(db_args.iter().cloned());
        v
    };
    let cli = |args: Vec<String>| {
        let cwd = tmp.path().to_owned();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&run(&cwd, &refs, &[]).await).trim().to_owned()
        }
    };
    let admin = cli(with_db(&["user", "add", "root", "--admin"])).await;
    cli(with_db(&[
        "connect",
        "--token",
        TOKEN,
        "--notion-url",
        &emu_url,
    ]))
    .await;
    let supervised = cli(with_db(&[
        "agent",
        "add",
        "writer",
        "--maturity",
        "supervised",
    ]))
    .await;
    let reader = cli(with_db(&[
        "agent",
        "add",
        "reader",
        "--maturity",
        "autonomous",
    ]))
    .await;

    let mut serve_args = vec![
        "--notion-url".to_owned(),
        emu_url.clone(),
        "--rate".into(),
        "100000".into(),
        "--burst".into(),
        "100000".into(),
    ];
    serve_args.extend(db_args.iter().cloned());
    let serve_refs: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let server = Server::start("serve", tmp.path(), &data, &serve_refs).await;

    let ctx = Arc::new(Ctx {
        base: server.base.clone(),
        admin,
        supervised,
        reader,
        root: root.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        acked: Mutex::new(Acked::default()),
        count: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        to_approve: Mutex::new(Vec::new()),
    });
    for i in 0..HELD_BEFORE {
        ctx.hold(&format!("crash-held-before-{i}"))
            .await
            .expect("a held write before the load");
    }
    {
        // Half of them are approved during the load; the others must stay pending.
        let held: Vec<String> = ctx.acked.lock().unwrap().held.keys().cloned().collect();
        *ctx.to_approve.lock().unwrap() = held[..HELD_BEFORE / 2].to_vec();
    }
    let before = ctx.count.load(Ordering::SeqCst);

    // The load: WORKERS loops of writes until the server is gone (bounded by a count).
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let ctx = Arc::clone(&ctx);
        workers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                if ctx.stop.load(Ordering::SeqCst) || ctx.write(w, i).await.is_none() {
                    break;
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while ctx.count.load(Ordering::SeqCst) < before + KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the load stalled at {} acknowledged writes:\n{}",
            ctx.count.load(Ordering::SeqCst),
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL (Child::kill) while the workers are still writing.
    drop(server);
    ctx.stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a worker panicked");
    }
    let acked = std::mem::take(&mut *ctx.acked.lock().unwrap());
    eprintln!(
        "{}: killed after {} acknowledged writes: {} agents, {} keys, {} connections, {} held, {} approved, {} reads",
        backend.name,
        ctx.count.load(Ordering::SeqCst),
        acked.agents.len(),
        acked.keys.len(),
        acked.connections.len(),
        acked.held.len(),
        acked.approved.len(),
        acked.reads
    );
    assert!(!acked.approved.is_empty(), "some approvals were approved");

    if backend.url.is_none() {
        integrity_check(&data.join("notion-gate.db")).await;
    }

    // Restart on the same state.
    let server = Server::start("serve", tmp.path(), &data, &serve_refs).await;
    let ctx = Ctx {
        base: server.base.clone(),
        ..Arc::into_inner(ctx).expect("the workers are done")
    };
    for (id, key) in acked.agents.iter().chain(&acked.keys) {
        let (status, _, v) = ctx
            .send(
                Method::GET,
                &format!("/api/v1/agents/{id}"),
                &ctx.admin,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "agent {id}: {v}");
        let (status, _, v) = ctx
            .send(Method::GET, "/api/v1/me", key, None)
            .await
            .unwrap();
        assert_eq!(status, 200, "a key of agent {id} authenticates: {v}");
    }
    for id in &acked.connections {
        let (status, _, v) = ctx
            .send(
                Method::GET,
                &format!("/api/v1/connections/{id}"),
                &ctx.admin,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "connection {id}: {v}");
    }
    // Pages at the emulator by title: each held write ran at most once.
    let mut titles: HashMap<String, usize> = HashMap::new();
    for child in emu.child_ids(&root) {
        let obj = emu.get_object(&child).unwrap_or_default();
        if let Some(t) = held_title(&obj) {
            *titles.entry(t.to_owned()).or_default() += 1;
        }
    }
    let mut pending = 0;
    for (id, title) in &acked.held {
        let (status, _, v) = ctx
            .send(
                Method::GET,
                &format!("/api/v1/approvals/{id}"),
                &ctx.admin,
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "approval {id}: {v}");
        let ran = titles.get(title).copied().unwrap_or(0);
        assert!(ran <= 1, "approval {id} ran {ran} times");
        if acked.approved.contains(id) {
            assert_eq!(v["status"], "executed", "{v}");
            assert_eq!(ran, 1, "approved {id} ran once");
        } else if !acked.approve_sent.contains(id) {
            assert_eq!(v["status"], "pending", "never approved: {v}");
            assert_eq!(ran, 0, "pending {id} never ran");
            pending += 1;
        }
    }
    assert!(pending >= HELD_BEFORE / 2, "{pending} pending approvals");
    // Approving an executed approval again runs nothing.
    let again = acked.approved.iter().next().unwrap();
    let (status, _, v) = ctx
        .send(
            Method::POST,
            &format!("/api/v1/approvals/{again}/approve"),
            &ctx.admin,
            None,
        )
        .await
        .unwrap();
    assert!(
        status == 409 || status == 200,
        "approve twice: {status} {v}"
    );
    let held_pages = |emu: &Emulator| -> usize {
        emu.child_ids(&root)
            .iter()
            .filter(|c| held_title(&emu.get_object(c).unwrap_or_default()).is_some())
            .count()
    };
    let ran_before: usize = titles.values().sum();
    assert_eq!(held_pages(&emu), ran_before, "a second approve ran nothing");
    assert!(ran_before >= acked.approved.len());

    // The audit: every acknowledged Notion call and approval has its record.
    let export = {
        let args = with_db(&["audit", "export"]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&run(tmp.path(), &refs, &[]).await)
    };
    let reader_id = {
        let args = with_db(&["agent", "list", "--json"]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let agents: Value = serde_json::from_str(&ok(&run(tmp.path(), &refs, &[]).await)).unwrap();
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "reader")
            .and_then(|a| a["id"].as_str())
            .expect("the reader agent")
            .to_owned()
    };
    let (mut reads, mut held, mut executed) = (0, HashSet::new(), HashSet::new());
    for line in export.lines() {
        let v: Value = serde_json::from_str(line).expect("a JSON line");
        let approval = v["args_summary"]["approval_id"].as_str().map(str::to_owned);
        if v["agent_id"].as_str() == Some(reader_id.as_str()) {
            reads += 1;
        } else if v["caller_kind"] == "system" {
            executed.extend(approval);
        } else {
            held.extend(approval);
        }
    }
    // Reads carry no unique id: at least the acknowledged ones, at most those plus the ones
    // in flight at the kill (one per worker).
    assert!(
        reads >= acked.reads && reads <= acked.reads + WORKERS,
        "{reads} read records for {} acknowledged reads",
        acked.reads
    );
    let ids: HashSet<String> = acked.held.keys().cloned().collect();
    let missing: Vec<&String> = ids.difference(&held).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged held writes have no audit record: {:?}",
        missing.len(),
        ids.len(),
        &missing[..missing.len().min(5)]
    );
    let missing: Vec<&String> = acked.approved.difference(&executed).collect();
    assert!(
        missing.is_empty(),
        "approved calls without an execution record: {missing:?}"
    );
    drop(server);
    backend.drop_schema().await;
}

/// `PRAGMA integrity_check` on the SQLite file, read-only, as the crash left it.
async fn integrity_check(db: &Path) {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the SQLite file read-only");
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("integrity_check");
    assert_eq!(rows, vec![("ok".to_owned(),)], "integrity_check");
    let _ = conn.close().await;
}

/// The `crash-held-…` title of a stored page (wherever its title text is), if it has one.
fn held_title(obj: &Value) -> Option<String> {
    match obj {
        Value::String(s) if s.starts_with("crash-held-") => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(held_title),
        Value::Object(m) => m.values().find_map(held_title),
        _ => None,
    }
}
