//! The local mirror on the running server: in local-only mode the REST page read and search,
//! the tool endpoint's and MCP's `get_page` answer from the mirror with the same Markdown as
//! online, say `"source": "mirror"`, and not one request reaches Notion; writes are still
//! refused. `search_local` ranks with snippets and spends no Notion request, a root-limited
//! agent only sees its subtree, and `/api/v1/mirror` reports the mirror.

use reqwest::Method;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::{Gateway, GatewayOpts, spawn_gateway_with};

/// Syncs alice's connection into the gateway's mirror.
pub(crate) async fn synced(opts: GatewayOpts) -> Gateway {
    let gw = spawn_gateway_with(GatewayOpts {
        mirror: true,
        ..opts
    })
    .await;
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let conn_id = alice.connection_id.unwrap();
    let store = gw
        .gate
        .mirrors()
        .unwrap()
        .open(&conn_id.to_string())
        .unwrap();
    let conn = gw.gate.mirror_connection(conn_id).await.unwrap();
    let report = gate_mirror::sync(&conn, &store, &gate_mirror::SyncOptions::new())
        .await
        .unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    gw
}

#[tokio::test]
async fn local_only_reads_come_from_the_mirror_with_the_same_markdown() {
    let gw = synced(GatewayOpts::default()).await;
    let page = gw.emu.demo_ids().blocks_page.clone();
    let agent = gw.agent("intern").to_owned();
    let path = format!("/notion/pages/{page}");
    let (status, online) = gw.call(Method::GET, &path, Some(&agent), None).await;
    assert_eq!(status, 200, "{online}");
    assert!(online.get("source").is_none(), "{online}");

    gw.gate.set_local_only(true);
    let before = gw.emu.counters().total;

    // REST page read: the same answer, plus where it came from.
    let (status, local) = gw.call(Method::GET, &path, Some(&agent), None).await;
    assert_eq!(status, 200, "{local}");
    assert_eq!(local["source"], "mirror", "{local}");
    assert!(local["mirrored_at"].is_string(), "{local}");
    assert_eq!(local["content"], online["content"]);
    assert_eq!(local["properties"], online["properties"]);
    assert_eq!(local["block_count"], online["block_count"]);
    let (_, text) = gw
        .call(
            Method::GET,
            &format!("{path}?format=text&depth=1"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(text["source"], "mirror", "{text}");

    // REST search (titles).
    let (status, found) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&agent),
            Some(json!({"query": "Tasks"})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["source"], "mirror");
    assert!(!found["results"].as_array().unwrap().is_empty(), "{found}");

    // The tool endpoint.
    let (status, tool) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(&agent),
            Some(json!({"action": "get_page", "params": {"page_id": page}})),
        )
        .await;
    assert_eq!(status, 200, "{tool}");
    assert_eq!(tool["result"]["source"], "mirror", "{tool}");

    // MCP.
    let client = crate::mcp::http_client(&gw, &agent).await.unwrap();
    let args = json!({"page_id": page}).as_object().cloned().unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new("get_page").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    client.cancel().await.unwrap();

    // Writes are still refused; a page that is not mirrored is a 404.
    let (status, err) = gw
        .call(
            Method::POST,
            &format!("{path}/blocks"),
            Some(gw.agent("autonomous")),
            Some(json!({"markdown": "x"})),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "local_only");
    let (status, _) = gw
        .call(
            Method::GET,
            "/notion/pages/0123456789abcdef0123456789abcdef",
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // A student may not read, from the mirror either.
    let (status, err) = gw
        .call(Method::GET, &path, Some(gw.agent("student")), None)
        .await;
    assert_eq!(status, 403, "{err}");
    assert_ne!(err["error"]["code"], "local_only", "{err}");

    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");

    // Audited with the source.
    gw.gate.flush_audit().await.unwrap();
    let events = gw
        .gate
        .store()
        .query_audit(&gate_store::AuditQuery::new().limit(100))
        .await
        .unwrap()
        .events;
    assert!(
        events.iter().any(|e| e
            .record
            .args_summary
            .as_ref()
            .is_some_and(|a| a["source"] == "mirror")),
        "no audit record says source=mirror"
    );
}

#[tokio::test]
async fn search_local_ranks_with_snippets_without_notion_and_respects_roots() {
    let probe = crate::support::spawn_gateway().await;
    let child = probe.emu.demo_ids().child_page.clone();
    drop(probe);
    let policy = gate_policy::Policy::from_toml_str(&format!(
        "[[agents]]\nname = \"intern-bot\"\nroots = [\"{child}\"]\n"
    ))
    .unwrap();
    let gw = synced(GatewayOpts {
        policy: Some(policy),
        ..GatewayOpts::default()
    })
    .await;
    let ids = gw.emu.demo_ids().clone();
    let before = gw.emu.counters().total;

    let (status, all) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("supervised")),
            Some(json!({"query": "page", "limit": 50})),
        )
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["source"], "mirror");
    let hits = all["results"].as_array().unwrap();
    assert!(hits.len() > 1, "{all}");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("**"), "{all}");
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // The intern is limited to the child page's subtree.
    let (status, scoped) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(gw.agent("intern")),
            Some(json!({"action": "search_local", "params": {"query": "level", "limit": 50}})),
        )
        .await;
    assert_eq!(status, 200, "{scoped}");
    let scoped = scoped["result"]["results"].as_array().unwrap().clone();
    assert_eq!(scoped.len(), 2, "{scoped:?}");
    // The same search unscoped finds the page outside the roots too ("Welcome…" is not a
    // level, but the supervised agent sees every mirrored page).
    let (_, wide) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("supervised")),
            Some(json!({"query": "demo"})),
        )
        .await;
    assert!(!wide["results"].as_array().unwrap().is_empty(), "{wide}");
    let (_, narrow) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("intern")),
            Some(json!({"query": "demo"})),
        )
        .await;
    assert_eq!(narrow["results"], json!([]), "{narrow}");
    let allowed = [
        gate_mirror::dashed_id(&ids.child_page).unwrap(),
        gate_mirror::dashed_id(&ids.grandchild_page).unwrap(),
    ];
    for h in &scoped {
        assert!(
            allowed.contains(&h["id"].as_str().unwrap().to_owned()),
            "{h}"
        );
    }
    // A student may not read.
    let (status, _) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("student")),
            Some(json!({"query": "page"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        gw.emu.counters().total,
        before,
        "search_local spends no request"
    );

    let (status, st) = gw
        .call(Method::GET, "/mirror", Some(&gw.alice_key), None)
        .await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["enabled"], true);
    assert_eq!(st["synced"], true);
    assert!(st["pages"].as_u64().unwrap() > 5, "{st}");
    assert_eq!(st["pending"], 0);
    let _: &Value = &st;
}
