//! The local mirror on the running server: in local-only mode the REST page read and search,
//! the tool endpoint's and MCP's `get_page` answer from the mirror with the same Markdown as
//! online, say `"source": "mirror"`, and not one request reaches Notion; writes are still
//! refused. `search_local` ranks with snippets and spends no Notion request, a root-limited
//! agent only sees its subtree, and `/api/v1/mirror` reports the mirror.

use reqwest::Method;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::test_support::{Gateway, GatewayOpts, spawn_gateway_with, sync_now, synced};

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
    let client = crate::test_support::http_client(&gw, &agent).await.unwrap();
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
    let probe = crate::test_support::spawn_gateway().await;
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

/// `METHOD /v1{path}` through the proxy with an agent key: status, headers, JSON body.
async fn proxy(
    gw: &Gateway,
    key: &str,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}/v1{path}", gw.base))
        .bearer_auth(key)
        .header("Notion-Version", version);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Every child of `block` through the proxy, `size` at a time: the children and the pages.
async fn all_children(
    gw: &Gateway,
    key: &str,
    version: &str,
    block: &str,
    size: usize,
) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/blocks/{block}/children?page_size={size}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&start_cursor={c}"));
        }
        let (status, _, body) = proxy(gw, key, Method::GET, &path, version, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "list", "{body}");
        assert_eq!(body["type"], "block", "{body}");
        pages += 1;
        out.extend(body["results"].as_array().unwrap().iter().cloned());
        match (body["has_more"].as_bool(), body["next_cursor"].as_str()) {
            (Some(true), Some(c)) => cursor = Some(c.to_owned()),
            _ => {
                assert_eq!(body["next_cursor"], Value::Null, "{body}");
                break;
            }
        }
    }
    (out, pages)
}

fn ids_of(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn local_only_proxy_reads_and_query_database_come_from_the_mirror() {
    let gw = synced(GatewayOpts::default()).await;
    let ids = gw.emu.demo_ids().clone();
    let agent = gw.agent("intern").to_owned();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let store = gw
        .gate
        .mirror_store(alice.connection_id.unwrap())
        .unwrap()
        .unwrap();
    let version = store
        .meta(gate_mirror::sync::META_NOTION_VERSION)
        .unwrap()
        .expect("the sync records its Notion-Version");
    let v = version.as_str();
    let page = ids.blocks_page.clone();
    let big = ids.big_page.clone();
    let search_body = json!({"query": "page", "filter": {"property": "object", "value": "page"}});

    // Online answers.
    let (status, _, online_page) =
        proxy(&gw, &agent, Method::GET, &format!("/pages/{page}"), v, None).await;
    assert_eq!(status, 200, "{online_page}");
    let (online_kids, _) = all_children(&gw, &agent, v, &big, 100).await;
    assert!(online_kids.len() > 100, "the big page pages its children");
    let (online_tree, _) = all_children(&gw, &agent, v, &page, 100).await;
    let (_, _, online_found) = proxy(
        &gw,
        &agent,
        Method::POST,
        "/search",
        v,
        Some(search_body.clone()),
    )
    .await;
    let query = json!({"sorts": [{"timestamp": "last_edited_time", "direction": "descending"}]});
    let query_path = format!("/notion/databases/{}/query", ids.simple_database);
    let (status, online_rows) = gw
        .call(Method::POST, &query_path, Some(&agent), Some(query.clone()))
        .await;
    assert_eq!(status, 200, "{online_rows}");

    gw.gate.set_local_only(true);
    let before = gw.emu.counters().total;

    // The page object, as Notion gave it, with the source in headers.
    let (status, headers, local_page) =
        proxy(&gw, &agent, Method::GET, &format!("/pages/{page}"), v, None).await;
    assert_eq!(status, 200, "{local_page}");
    assert_eq!(headers["notion-gate-source"], "mirror");
    assert!(headers.contains_key("notion-gate-mirrored-at"));
    let mut local_page = local_page;
    let mut online_page = online_page;
    let local_rid = local_page.as_object_mut().unwrap().remove("request_id");
    assert!(
        local_rid.is_some_and(|r| r.is_string()),
        "a request id, as Notion's"
    );
    online_page.as_object_mut().unwrap().remove("request_id");
    assert_eq!(local_page, online_page);

    // Block children with Notion's pagination, the same blocks in the same order.
    let (local_kids, pages) = all_children(&gw, &agent, v, &big, 40).await;
    assert_eq!(pages, online_kids.len().div_ceil(40));
    assert_eq!(local_kids, online_kids);
    let (local_tree, _) = all_children(&gw, &agent, v, &page, 100).await;
    assert_eq!(local_tree, online_tree);
    // A nested block's children (a toggle or list item of the blocks page).
    if let Some(parent) = online_tree
        .iter()
        .find(|b| b["has_children"] == true && b["type"] != "child_page")
    {
        let id = parent["id"].as_str().unwrap();
        let (nested, _) = all_children(&gw, &agent, v, id, 100).await;
        assert!(!nested.is_empty());
    }
    // A bad cursor is Notion's validation error.
    let (status, _, err) = proxy(
        &gw,
        &agent,
        Method::GET,
        &format!("/blocks/{big}/children?start_cursor=0123456789abcdef0123456789abcdef"),
        v,
        None,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["code"], "validation_error");

    // Search (titles): the same objects as online.
    let (status, headers, local_found) = proxy(
        &gw,
        &agent,
        Method::POST,
        "/search",
        v,
        Some(search_body.clone()),
    )
    .await;
    assert_eq!(status, 200, "{local_found}");
    assert_eq!(headers["notion-gate-source"], "mirror");
    assert_eq!(local_found["object"], "list");
    assert_eq!(
        ids_of(&local_found["results"]),
        ids_of(&online_found["results"])
    );
    // Paged by one: still every object once.
    let mut paged = Vec::new();
    let mut body =
        json!({"query": "page", "filter": {"property": "object", "value": "page"}, "page_size": 1});
    loop {
        let (status, _, got) =
            proxy(&gw, &agent, Method::POST, "/search", v, Some(body.clone())).await;
        assert_eq!(status, 200, "{got}");
        paged.extend(got["results"].as_array().unwrap().iter().cloned());
        if got["has_more"] != true {
            break;
        }
        body["start_cursor"] = got["next_cursor"].clone();
    }
    assert_eq!(
        ids_of(&Value::Array(paged)),
        ids_of(&online_found["results"])
    );

    // What the mirror cannot answer faithfully: the local-only refusal, with the reason.
    for (method, path, body, why) in [
        (
            Method::GET,
            "/blocks/0123456789abcdef0123456789abcdef/children".to_owned(),
            None,
            "not in the local mirror",
        ),
        (
            Method::POST,
            "/search".to_owned(),
            Some(json!({"sort": {"timestamp": "created_time", "direction": "ascending"}})),
            "last_edited_time",
        ),
        (
            Method::GET,
            format!("/pages/{page}?filter_properties=title"),
            None,
            "filter_properties",
        ),
        (Method::GET, format!("/blocks/{page}"), None, "local_only"),
    ] {
        let (status, _, err) = proxy(&gw, &agent, method, &path, v, body).await;
        assert_eq!(status, 403, "{path}: {err}");
        assert_eq!(
            err["additional_data"]["gateway_code"], "local_only",
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains(why), "{err}");
    }
    // Another Notion-Version than the mirror's.
    let other = if v == "2022-06-28" {
        "2025-09-03"
    } else {
        "2022-06-28"
    };
    let (status, _, err) = proxy(
        &gw,
        &agent,
        Method::GET,
        &format!("/pages/{page}"),
        other,
        None,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert!(err["message"].as_str().unwrap().contains(v), "{err}");
    // Writes are refused as before.
    let (status, _, err) = proxy(
        &gw,
        gw.agent("autonomous"),
        Method::PATCH,
        &format!("/pages/{page}"),
        v,
        Some(json!({"properties": {}})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(
        err["additional_data"]["gateway_code"], "local_only",
        "{err}"
    );
    // A student may not read from the mirror either.
    let (status, _, err) = proxy(
        &gw,
        gw.agent("student"),
        Method::GET,
        &format!("/pages/{page}"),
        v,
        None,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_ne!(
        err["additional_data"]["gateway_code"], "local_only",
        "{err}"
    );

    // query_database: REST, the tool endpoint and MCP, the same rows as online.
    let (status, local_rows) = gw
        .call(Method::POST, &query_path, Some(&agent), Some(query.clone()))
        .await;
    assert_eq!(status, 200, "{local_rows}");
    assert_eq!(local_rows["source"], "mirror", "{local_rows}");
    assert_eq!(
        ids_of(&local_rows["results"]),
        ids_of(&online_rows["results"])
    );
    assert_eq!(local_rows["data_source_id"], online_rows["data_source_id"]);
    let edits: Vec<&str> = local_rows["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["last_edited_time"].as_str().unwrap())
        .collect();
    assert!(edits.windows(2).all(|w| w[0] >= w[1]), "{edits:?}");
    for r in local_rows["results"].as_array().unwrap() {
        let twin = online_rows["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == r["id"])
            .unwrap();
        assert_eq!(r["properties"], twin["properties"]);
    }
    // Paged by the mirror's cursor.
    let (_, first) = gw
        .call(
            Method::POST,
            &query_path,
            Some(&agent),
            Some(json!({"limit": 1})),
        )
        .await;
    assert_eq!(first["results"].as_array().unwrap().len(), 1, "{first}");
    if local_rows["results"].as_array().unwrap().len() > 1 {
        assert_eq!(first["has_more"], true, "{first}");
        let (status, second) = gw
            .call(
                Method::POST,
                &query_path,
                Some(&agent),
                Some(json!({"limit": 1, "cursor": first["next_cursor"]})),
            )
            .await;
        assert_eq!(status, 200, "{second}");
        assert_ne!(second["results"][0]["id"], first["results"][0]["id"]);
    }
    // A filter is not evaluated by the mirror: refused, naming it.
    let (status, err) = gw
        .call(
            Method::POST,
            &query_path,
            Some(&agent),
            Some(json!({"filter": {"property": "Done", "checkbox": {"equals": true}}})),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "local_only");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("Done"),
        "{err}"
    );
    let (status, tool) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(&agent),
            Some(
                json!({"action": "query_database", "params": {"database_id": ids.simple_database}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{tool}");
    assert_eq!(tool["result"]["source"], "mirror", "{tool}");
    assert_eq!(
        ids_of(&tool["result"]["results"]),
        ids_of(&online_rows["results"])
    );
    let client = crate::test_support::http_client(&gw, &agent).await.unwrap();
    let args = json!({"database_id": ids.simple_database})
        .as_object()
        .cloned()
        .unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new("query_database").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    client.cancel().await.unwrap();

    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");
}

#[tokio::test]
async fn search_local_filters_roots_over_several_batches() {
    let probe = crate::test_support::spawn_gateway().await;
    let child = probe.emu.demo_ids().child_page.clone();
    drop(probe);
    let policy = gate_policy::Policy::from_toml_str(&format!(
        "[[agents]]\nname = \"intern-bot\"\nroots = [\"{child}\"]\n"
    ))
    .unwrap();
    let gw = spawn_gateway_with(GatewayOpts {
        mirror: true,
        policy: Some(policy),
        ..GatewayOpts::default()
    })
    .await;
    let ids = gw.emu.demo_ids().clone();
    let para = |t: &str| json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": t}}]}});
    // Outside the intern's roots: 50 pages with the word in their title (they rank first).
    for i in 0..50 {
        gw.emu
            .create_page(&ids.root_page, &format!("Wombatish outside {i}"))
            .unwrap();
    }
    // Inside: three pages with the word in their content only (they rank last).
    let mut inside = Vec::new();
    for i in 0..3 {
        let id = gw
            .emu
            .create_page(&ids.child_page, &format!("Inside {i}"))
            .unwrap();
        gw.emu
            .append_children(&id, vec![para("a wombatish remark")])
            .unwrap();
        inside.push(gate_mirror::dashed_id(&id).unwrap());
    }
    sync_now(&gw).await;

    let (status, all) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("supervised")),
            Some(json!({"query": "wombatish", "limit": 50})),
        )
        .await;
    assert_eq!(status, 200, "{all}");
    let first: Vec<&str> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert!(
        first.iter().all(|t| t.starts_with("Wombatish outside")),
        "{first:?}"
    );

    // limit 3: the first batch (12 hits) holds none of the intern's pages.
    let (status, scoped) = gw
        .call(
            Method::POST,
            "/mirror/search",
            Some(gw.agent("intern")),
            Some(json!({"query": "wombatish", "limit": 3})),
        )
        .await;
    assert_eq!(status, 200, "{scoped}");
    let mut got: Vec<String> = scoped["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    inside.sort();
    assert_eq!(got, inside, "{scoped}");
    assert!(
        scoped["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["snippet"].as_str().unwrap().contains("**wombatish**")),
        "{scoped}"
    );
}
