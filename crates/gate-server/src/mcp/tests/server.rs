//! The MCP server with rmcp's own client: over streamable HTTP at `/mcp` against the running
//! gateway (tools by maturity with annotations, reads, writes allowed / held / denied as tool
//! errors, wrong keys refused), and over stdio in process (`serve_io` on an in-memory pipe,
//! the path `notion-gate mcp` takes). Every call leaves exactly one audit record on the `mcp`
//! surface.

use crate::mcp::{McpServeError, serve_io};
use crate::{AppState, ServerSettings};

use reqwest::Method;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::test_support::{Client, Gateway, audit, http_client, spawn_gateway};

/// Calls a tool and checks that it left exactly one audit record, on the `mcp` surface.
async fn call(gw: &Gateway, client: &Client, tool: &str, args: Value) -> CallToolResult {
    let before = audit(gw).await.len();
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    let result = client.call_tool(params).await.unwrap();
    let records = audit(gw).await;
    assert_eq!(records.len(), before + 1, "{tool}: one audit record");
    assert_eq!(records[0].call.surface.as_str(), "mcp", "{tool}");
    result
}

fn text(r: &CallToolResult) -> &str {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.as_str())
        .unwrap_or_default()
}

/// The structured reason of a tool error (also its text).
fn reason(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(true), "a tool error: {r:?}");
    let v: Value = serde_json::from_str(text(r)).unwrap();
    assert_eq!(r.structured_content.as_ref(), Some(&v));
    v
}

fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "{}", text(r));
    r.structured_content.clone().unwrap()
}

fn names(tools: &[Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_ref()).collect()
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools.iter().find(|t| t.name == name).unwrap()
}

#[tokio::test]
async fn http_tools_follow_the_maturity_with_schemas_and_annotations() {
    let gw = spawn_gateway().await;
    let intern = http_client(&gw, gw.agent("intern")).await.unwrap();
    let info = intern.peer_info().unwrap();
    let server = info.server_info.as_ref().unwrap();
    assert_eq!(server.name, "notion-gate");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(
        info.instructions
            .as_deref()
            .unwrap()
            .contains("approval_required")
    );

    let tools = intern.list_all_tools().await.unwrap();
    let i = names(&tools);
    assert_eq!(i.len(), 14, "{i:?}");
    assert!(i.contains(&"list_views") && i.contains(&"query_view"));
    assert!(i.contains(&"search") && i.contains(&"get_page_markdown"));
    assert!(i.contains(&"get_approval") && i.contains(&"withdraw_approval"));
    assert!(!i.contains(&"create_page") && !i.contains(&"trash_page"));
    for t in &tools {
        let a = t.annotations.as_ref().unwrap();
        // Withdrawing a held call changes the gateway's state (never Notion's).
        let read_only = t.name != "withdraw_approval";
        assert_eq!(a.read_only_hint, Some(read_only), "{}", t.name);
        assert_eq!(a.destructive_hint, Some(false), "{}", t.name);
    }

    // The same schemas as the tool endpoint (page reads add `cursor`).
    let (_, endpoint) = gw
        .call(Method::GET, "/tools/notion", Some(gw.agent("intern")), None)
        .await;
    for action in endpoint["actions"].as_array().unwrap() {
        let name = action["name"].as_str().unwrap();
        let mut schema = Value::Object(tool(&tools, name).input_schema.as_ref().clone());
        if name == "get_page" || name == "get_page_markdown" {
            assert!(schema["properties"]["cursor"].is_object(), "{name}");
            schema["properties"]
                .as_object_mut()
                .unwrap()
                .remove("cursor");
        }
        assert_eq!(schema, action["params_schema"], "{name}");
    }

    let supervised = http_client(&gw, gw.agent("supervised")).await.unwrap();
    let tools = supervised.list_all_tools().await.unwrap();
    let create = tool(&tools, "create_page");
    assert!(create.description.as_deref().unwrap().contains("approval"));
    assert!(!names(&tools).contains(&"trash_page"));

    let autonomous = http_client(&gw, gw.agent("autonomous")).await.unwrap();
    let tools = autonomous.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 23, "{:?}", names(&tools));
    let create = tool(&tools, "create_page").annotations.clone().unwrap();
    assert_eq!(create.read_only_hint, Some(false));
    assert_eq!(create.destructive_hint, Some(false));
    assert_eq!(create.idempotent_hint, Some(false));
    for name in [
        "trash_page",
        "update_page",
        "update_comment",
        "delete_comment",
    ] {
        let a = tool(&tools, name).annotations.clone().unwrap();
        assert_eq!(a.destructive_hint, Some(true), "{name}");
        assert_eq!(a.idempotent_hint, Some(true), "{name}");
    }
    assert!(
        !tool(&tools, "create_page")
            .description
            .as_deref()
            .unwrap()
            .contains("approval")
    );
}

#[tokio::test]
async fn http_reads_are_compact_with_markdown_pages() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let intern = http_client(&gw, gw.agent("intern")).await.unwrap();

    let found = ok(&call(&gw, &intern, "search", json!({"query": ""})).await);
    assert!(!found["results"].as_array().unwrap().is_empty(), "{found}");
    assert!(found.get("next_cursor").is_some(), "{found}");

    let r = call(
        &gw,
        &intern,
        "get_page_markdown",
        json!({"page_id": ids.blocks_page}),
    )
    .await;
    let page = ok(&r);
    let md = text(&r);
    assert!(md.starts_with("# "), "{md}");
    assert!(
        md.contains(page["content"].as_str().unwrap().trim()),
        "{md}"
    );
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(page["id"], ids.blocks_page);
    assert!(
        !md.contains("\"rich_text\""),
        "Markdown, not Notion JSON: {md}"
    );

    let rows = ok(&call(
        &gw,
        &intern,
        "query_database",
        json!({"database_id": ids.simple_database, "limit": 1}),
    )
    .await);
    assert_eq!(rows["results"].as_array().unwrap().len(), 1, "{rows}");
    assert!(rows["next_cursor"].is_string(), "{rows}");

    // A bad argument is a tool error naming the field (the model can correct it); like on
    // the other surfaces it is refused before the gate, so nothing reaches Notion.
    let before = gw.emu.counters().total;
    let params = CallToolRequestParams::new("get_page_markdown")
        .with_arguments(json!({"page_id": "nope"}).as_object().cloned().unwrap());
    let bad = reason(&intern.call_tool(params).await.unwrap());
    assert_eq!(bad["error"], "invalid_id", "{bad}");
    assert_eq!(bad["field"], "page_id", "{bad}");
    assert_eq!(gw.emu.counters().total, before);
}

#[tokio::test]
async fn http_writes_run_wait_or_are_refused_by_maturity() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let args = |title: &str| json!({"parent": {"page_id": ids.root_page}, "title": title, "content": "Written over **MCP**."});

    let autonomous = http_client(&gw, gw.agent("autonomous")).await.unwrap();
    let created = ok(&call(&gw, &autonomous, "create_page", args("From MCP")).await);
    let id = created["id"].as_str().unwrap();
    let at_notion = gw.emu.get_object(id).unwrap();
    assert_eq!(at_notion["object"], "page");
    assert_eq!(audit(&gw).await[0].decision.as_str(), "allow");

    let supervised = http_client(&gw, gw.agent("supervised")).await.unwrap();
    let before = gw.emu.counters().route("POST /v1/pages");
    let held = reason(&call(&gw, &supervised, "create_page", args("Please")).await);
    assert_eq!(held["error"], "approval_required", "{held}");
    assert!(
        held["approval_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{held}"
    );
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before,
        "nothing sent"
    );
    assert_eq!(audit(&gw).await[0].decision.as_str(), "needs_approval");

    // Not listed for an intern, called anyway: the policy refuses it.
    let intern = http_client(&gw, gw.agent("intern")).await.unwrap();
    let denied = reason(&call(&gw, &intern, "create_page", args("Sneaky")).await);
    assert_eq!(denied["error"], "forbidden_by_policy", "{denied}");
    assert!(denied["needed"].is_string(), "{denied}");
    assert!(!denied["message"].as_str().unwrap().is_empty());
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before,
        "nothing sent"
    );
    assert_eq!(audit(&gw).await[0].decision.as_str(), "deny");

    // An unknown tool is a protocol error (and reaches nothing).
    let unknown = intern
        .call_tool(CallToolRequestParams::new("drop_workspace"))
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
}

#[tokio::test]
async fn http_comment_and_view_tools() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let autonomous = http_client(&gw, gw.agent("autonomous")).await.unwrap();
    let views = ok(&call(
        &gw,
        &autonomous,
        "list_views",
        json!({"data_source_id": ids.simple_data_source}),
    )
    .await);
    assert_eq!(views["results"].as_array().unwrap().len(), 2, "{views}");
    let rows = ok(&call(
        &gw,
        &autonomous,
        "query_view",
        json!({"view_id": ids.views[1]}),
    )
    .await);
    assert!(!rows["results"].as_array().unwrap().is_empty(), "{rows}");
    let reply = ok(&call(
        &gw,
        &autonomous,
        "add_comment",
        json!({"discussion_id": ids.discussion, "text": "Over MCP"}),
    )
    .await);
    let id = reply["id"].as_str().unwrap().to_owned();
    let edited = ok(&call(
        &gw,
        &autonomous,
        "update_comment",
        json!({"comment_id": id, "text": "Edited over MCP"}),
    )
    .await);
    assert_eq!(edited["text"], "Edited over MCP");
    let deleted = ok(&call(
        &gw,
        &autonomous,
        "delete_comment",
        json!({"comment_id": id}),
    )
    .await);
    assert_eq!(deleted["deleted"], true);

    // Bad input names the field; an intern cannot comment.
    let params = CallToolRequestParams::new("list_views")
        .with_arguments(json!({}).as_object().cloned().unwrap());
    let bad = reason(&autonomous.call_tool(params).await.unwrap());
    assert_eq!(bad["field"], "database_id", "{bad}");
    let intern = http_client(&gw, gw.agent("intern")).await.unwrap();
    let denied = reason(
        &call(
            &gw,
            &intern,
            "update_comment",
            json!({"comment_id": ids.discussion, "text": "x"}),
        )
        .await,
    );
    assert_eq!(denied["error"], "forbidden_by_policy", "{denied}");
}

#[tokio::test]
async fn http_refuses_a_wrong_or_missing_key() {
    let gw = spawn_gateway().await;
    assert!(http_client(&gw, "nga_not-a-key").await.is_err());

    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    for key in [None, Some("nga_wrong"), Some(gw.alice_key.as_str())] {
        let mut req = gw
            .http
            .post(format!("{}/mcp", gw.base))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.unwrap();
        if key == Some(gw.alice_key.as_str()) {
            assert_eq!(resp.status(), 200, "a user's key is a valid key");
            continue;
        }
        assert_eq!(resp.status(), 401, "{key:?}");
        // Points OAuth clients at the protected-resource metadata (RFC 9728).
        assert_eq!(
            resp.headers()["www-authenticate"],
            format!(
                "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
                gw.base
            )
            .as_str()
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    }
}

#[tokio::test]
async fn stdio_serves_the_same_tools_in_process() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let state = AppState::new(
        gw.gate.clone(),
        ServerSettings::new(gw.base.clone(), gw.emu.base_url()),
    );

    // A wrong key fails at once, before any MCP message.
    let (_, server_io) = tokio::io::duplex(1024);
    let (r, w) = tokio::io::split(server_io);
    let refused = serve_io(
        state.clone(),
        SecretString::from("nga_wrong".to_owned()),
        r,
        w,
    )
    .await;
    assert!(
        matches!(refused, Err(McpServeError::Unauthenticated)),
        "{refused:?}"
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("NOTION_GATE_AGENT_KEY")
    );

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (r, w) = tokio::io::split(server_io);
    let key = SecretString::from(gw.agent("intern").to_owned());
    let server = tokio::spawn(serve_io(state, key, r, w));
    let client = ().serve(client_io).await.unwrap();

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 14, "{:?}", names(&tools));
    assert!(!names(&tools).contains(&"create_page"));

    let r = call(&gw, &client, "get_page", json!({"page_id": ids.root_page})).await;
    let page = ok(&r);
    assert_eq!(page["id"], ids.root_page);
    assert!(text(&r).starts_with("# "), "{}", text(&r));

    let denied = reason(
        &call(
            &gw,
            &client,
            "trash_page",
            json!({"page_id": ids.root_page}),
        )
        .await,
    );
    assert_eq!(denied["error"], "forbidden_by_policy", "{denied}");

    // The key is authenticated on every request, so a running session follows the agent:
    // promoted, it sees (and may use) the write tools; disabled, it is refused.
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let intern = gw.gate.authenticate(gw.agent("intern")).await.unwrap();
    let agent_id = intern.agent_id.unwrap();
    gw.gate
        .set_agent_maturity(&alice, agent_id, "autonomous")
        .await
        .unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 23);
    gw.gate.disable_agent(&alice, agent_id).await.unwrap();
    let refused = reason(&call(&gw, &client, "search", json!({})).await);
    assert_eq!(refused["error"], "forbidden_by_policy", "{refused}");

    client.cancel().await.unwrap();
    server.await.unwrap().unwrap();
}
