//! `notion-gate mcp` as an MCP client starts it: the real binary over stdio, driven by rmcp's
//! client through a child process (as Claude Desktop does), against the emulator. An intern
//! lists only read tools, reads, and is refused a write as a tool error with a structured
//! reason; an autonomous agent lists the write tools and writes. Each call is audited on the
//! `mcp` surface in the shared data folder.

use std::process::Stdio;

use notion_emulator::{Emulator, Seed};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{BIN, admin_and_connection, ok, run};

const TOKEN: &str = "ntn_mcp_stdio_token";

type Client = RunningService<RoleClient, ()>;

/// `notion-gate mcp --data-dir D --notion-url URL` with the agent key in the environment,
/// nothing else inherited.
async fn stdio_client(data_dir: &str, notion_url: &str, key: &str) -> Client {
    let mut cmd = tokio::process::Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("NOTION_") || name.starts_with("ATOM_") || name == "RUST_LOG" {
            cmd.env_remove(&name);
        }
    }
    cmd.args(["mcp", "--data-dir", data_dir, "--notion-url", notion_url])
        .env("NOTION_GATE_AGENT_KEY", key);
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("notion-gate mcp starts");
    ().serve(transport).await.expect("MCP handshake over stdio")
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.expect("a tool answer")
}

fn text(r: &CallToolResult) -> &str {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.as_str())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stdio_server_lists_by_maturity_reads_writes_and_refuses() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .start()
        .await
        .unwrap();
    let url = emu.base_url();
    let root = emu.demo_ids().root_page.clone();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("state");
    let d = d.to_str().unwrap();
    ok(&admin_and_connection(tmp.path(), d, TOKEN, &url).await);
    let key = |maturity: &'static str| {
        let dir = tmp.path().to_owned();
        async move {
            let out = run(
                &dir,
                &[
                    "agent",
                    "add",
                    &format!("{maturity}-bot"),
                    "--maturity",
                    maturity,
                    "--data-dir",
                    d,
                ],
                &[],
            )
            .await;
            ok(&out).trim().to_owned()
        }
    };
    let intern_key = key("intern").await;
    let autonomous_key = key("autonomous").await;

    // The intern: read tools only; a read works; a write is a structured tool error.
    let intern = stdio_client(d, &url, &intern_key).await;
    let tools = intern.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"search") && names.contains(&"get_page_markdown"),
        "{names:?}"
    );
    assert!(!names.contains(&"create_page"), "{names:?}");
    let read = call(&intern, "get_page_markdown", json!({"page_id": root})).await;
    assert_eq!(read.is_error, Some(false), "{}", text(&read));
    assert!(
        text(&read).contains("Welcome to the demo workspace"),
        "{}",
        text(&read)
    );
    emu.reset_counters();
    let args = json!({"parent": {"page_id": root}, "title": "From stdio", "content": "Hello over **stdio**."});
    let denied = call(&intern, "create_page", args.clone()).await;
    assert_eq!(denied.is_error, Some(true), "{}", text(&denied));
    let reason: Value = serde_json::from_str(text(&denied)).unwrap();
    assert_eq!(reason["error"], "forbidden_by_policy", "{reason}");
    assert!(reason["needed"].is_string(), "{reason}");
    assert_eq!(emu.counters().route("POST /v1/pages"), 0, "nothing sent");
    intern.cancel().await.unwrap();

    // The autonomous agent: the write tools are listed, and the write reaches Notion once.
    let autonomous = stdio_client(d, &url, &autonomous_key).await;
    let tools = autonomous.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "create_page"));
    let created = call(&autonomous, "create_page", args).await;
    assert_eq!(created.is_error, Some(false), "{}", text(&created));
    assert_eq!(emu.counters().route("POST /v1/pages"), 1);
    autonomous.cancel().await.unwrap();

    // The audit, in the same data folder: three MCP calls, the refusal among them.
    let audit = ok(&run(tmp.path(), &["audit", "export", "--data-dir", d], &[]).await);
    let mcp: Vec<Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["surface"] == "mcp")
        .collect();
    assert_eq!(mcp.len(), 3, "{audit}");
    assert_eq!(
        mcp.iter().filter(|e| e["decision"] == "deny").count(),
        1,
        "{audit}"
    );
}
