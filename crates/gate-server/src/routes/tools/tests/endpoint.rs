//! The `notion` tool endpoint: the action list by maturity, every action, approvals,
//! unknown actions and bad params.

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::{Gateway, spawn_gateway};

async fn tool(gw: &Gateway, key: &str, action: &str, params: Value) -> (u16, Value) {
    gw.call(
        Method::POST,
        "/tools/notion",
        Some(key),
        Some(json!({"action": action, "params": params})),
    )
    .await
}

fn names(list: &Value) -> Vec<String> {
    list["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_action_list_follows_the_maturity() {
    let gw = spawn_gateway().await;
    let (s, intern) = gw
        .call(Method::GET, "/tools/notion", Some(gw.agent("intern")), None)
        .await;
    assert_eq!(s, 200, "{intern}");
    let i = names(&intern);
    assert!(i.contains(&"search".to_owned()) && i.contains(&"get_page_markdown".to_owned()));
    assert!(!i.contains(&"create_page".to_owned()) && !i.contains(&"trash_page".to_owned()));
    assert_eq!(i.len(), 14, "{i:?}");
    assert!(i.contains(&"list_views".to_owned()) && i.contains(&"query_view".to_owned()));
    assert!(!i.contains(&"update_comment".to_owned()) && !i.contains(&"delete_comment".to_owned()));
    for follow in ["get_approval", "list_approvals", "withdraw_approval"] {
        assert!(i.contains(&follow.to_owned()), "{follow}");
    }
    let search = &intern["actions"][0];
    assert_eq!(
        search["params_schema"]["properties"]["query"]["type"],
        json!(["string", "null"]),
        "{search}"
    );
    for a in intern["actions"].as_array().unwrap() {
        assert!(
            !a["params_schema"].to_string().contains("$ref"),
            "self-contained: {a}"
        );
    }

    let (_, sup) = gw
        .call(
            Method::GET,
            "/tools/notion",
            Some(gw.agent("supervised")),
            None,
        )
        .await;
    let create = sup["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "create_page")
        .unwrap();
    assert_eq!(create["approval_required"], true);
    assert!(!names(&sup).contains(&"trash_page".to_owned()));
    assert!(!names(&sup).contains(&"delete_comment".to_owned()));
    let edit = sup["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "update_comment")
        .unwrap();
    assert_eq!(edit["approval_required"], true);

    let (_, auto) = gw
        .call(
            Method::GET,
            "/tools/notion",
            Some(gw.agent("autonomous")),
            None,
        )
        .await;
    assert_eq!(names(&auto).len(), 23);
    for a in auto["actions"].as_array().unwrap() {
        assert!(
            !a["params_schema"].to_string().contains("$ref"),
            "self-contained: {a}"
        );
    }
    assert!(
        auto["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["approval_required"] == false)
    );
    let (_, student) = gw
        .call(
            Method::GET,
            "/tools/notion",
            Some(gw.agent("student")),
            None,
        )
        .await;
    assert!(names(&student).is_empty());
}

#[tokio::test]
async fn every_action_works_for_an_autonomous_agent() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();
    let ok = |r: &(u16, Value), action: &str| {
        assert_eq!(r.0, 200, "{action}: {}", r.1);
        assert_eq!(r.1["ok"], true);
        assert_eq!(r.1["action"], action);
        r.1["result"].clone()
    };
    let r = ok(
        &tool(&gw, &key, "search", json!({"query": "Demo"})).await,
        "search",
    );
    assert!(!r["results"].as_array().unwrap().is_empty());
    let r = ok(
        &tool(&gw, &key, "list_databases", json!({})).await,
        "list_databases",
    );
    assert!(!r["results"].as_array().unwrap().is_empty());
    let r = ok(
        &tool(&gw, &key, "query_database", json!({"database_id": ids.data_source, "limit": 3, "filter": "{\"property\": \"Done\", \"checkbox\": {\"equals\": false}}"})).await,
        "query_database",
    );
    assert_eq!(r["results"].as_array().unwrap().len(), 3);
    assert!(
        r["results"][0].get("raw_properties").is_none(),
        "compact rows"
    );
    let r = ok(
        &tool(
            &gw,
            &key,
            "get_schema",
            json!({"database_id": ids.simple_database}),
        )
        .await,
        "get_schema",
    );
    assert_eq!(r["data_sources"].as_array().unwrap().len(), 1);
    let r = ok(
        &tool(&gw, &key, "get_page", json!({"page_id": ids.blocks_page})).await,
        "get_page",
    );
    assert!(r["content"].as_str().unwrap().contains("# "));
    let r = ok(
        &tool(
            &gw,
            &key,
            "get_page_markdown",
            json!({"page_id": ids.root_page}),
        )
        .await,
        "get_page_markdown",
    );
    assert_eq!(r["format"], "markdown");
    let r = ok(
        &tool(
            &gw,
            &key,
            "get_blocks",
            json!({"page_id": ids.blocks_page, "depth": 1}),
        )
        .await,
        "get_blocks",
    );
    assert!(r["content"].is_array());
    let r = ok(
        &tool(
            &gw,
            &key,
            "list_comments",
            json!({"page_id": ids.root_page}),
        )
        .await,
        "list_comments",
    );
    assert!(!r["results"].as_array().unwrap().is_empty());
    let r = ok(
        &tool(
            &gw,
            &key,
            "create_page",
            json!({"database_id": ids.simple_database, "title": "Tool row"}),
        )
        .await,
        "create_page",
    );
    let row = r["id"].as_str().unwrap().to_owned();
    let r = ok(
        &tool(
            &gw,
            &key,
            "create_page",
            json!({"parent": {"page_id": ids.root_page}, "title": "Tool page", "content": "Hello"}),
        )
        .await,
        "create_page",
    );
    let page = r["id"].as_str().unwrap().to_owned();
    ok(
        &tool(
            &gw,
            &key,
            "update_page",
            json!({"page_id": page, "properties": {"title": "Renamed"}}),
        )
        .await,
        "update_page",
    );
    // An icon set, then removed with `null`.
    for (icon, want) in [
        (json!({"type": "emoji", "emoji": "📌"}), json!("📌")),
        (json!(null), json!(null)),
    ] {
        ok(
            &tool(
                &gw,
                &key,
                "update_page",
                json!({"page_id": page, "icon": icon}),
            )
            .await,
            "update_page",
        );
        let stored = gw.emu.get_object(&page).unwrap();
        assert_eq!(
            stored["icon"].get("emoji").cloned().unwrap_or(Value::Null),
            want,
            "{stored}"
        );
    }
    let r = ok(
        &tool(
            &gw,
            &key,
            "append_blocks",
            json!({"page_id": page, "blocks": "[{\"type\":\"divider\",\"divider\":{}}]"}),
        )
        .await,
        "append_blocks",
    );
    assert_eq!(r["block_ids"].as_array().unwrap().len(), 1);
    let r = ok(
        &tool(
            &gw,
            &key,
            "append_markdown",
            json!({"page_id": page, "markdown": "## More\n\ntext"}),
        )
        .await,
        "append_markdown",
    );
    assert_eq!(r["written"], 2);
    ok(
        &tool(
            &gw,
            &key,
            "add_comment",
            json!({"page_id": page, "text": "Looks good"}),
        )
        .await,
        "add_comment",
    );
    let r = ok(
        &tool(&gw, &key, "trash_page", json!({"page_id": row})).await,
        "trash_page",
    );
    assert_eq!(r["in_trash"], true);
    gw.gate.flush_audit().await.unwrap();
    let records = gw
        .gate
        .store()
        .query_audit(&gate_store::AuditQuery::new().limit(1))
        .await
        .unwrap();
    assert_eq!(records.events[0].record.call.surface.as_str(), "tool");
}

#[tokio::test]
async fn approvals_unknown_actions_and_bad_params() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let (s, held) = tool(
        &gw,
        gw.agent("supervised"),
        "create_page",
        json!({"parent": {"page_id": ids.root_page}, "title": "Please"}),
    )
    .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(held["error"]["code"], "approval_required");
    let (s, denied) = tool(
        &gw,
        gw.agent("intern"),
        "append_markdown",
        json!({"page_id": ids.root_page, "markdown": "x"}),
    )
    .await;
    assert_eq!(s, 403, "{denied}");
    assert_eq!(denied["error"]["details"]["needed"], "supervised");

    let before = gw.emu.counters().total;
    let (s, err) = tool(&gw, &gw.alice_key, "explode", json!({})).await;
    assert_eq!(s, 400);
    let actions = err["error"]["details"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 23);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("query_database")
    );
    let (s, err) = tool(&gw, &gw.alice_key, "get_page", json!({"page_id": 5})).await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["details"]["field"], "params.page_id");
    let (s, err) = tool(&gw, &gw.alice_key, "get_page", json!({"page_id": "nope"})).await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["code"], "invalid_id");
    let (s, err) = tool(&gw, &gw.alice_key, "search", json!({"q": "x"})).await;
    assert_eq!(s, 400, "{err}");
    let (s, err) = tool(
        &gw,
        &gw.alice_key,
        "query_database",
        json!({"database_id": ids.data_source, "filter": "{bad"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["details"]["field"], "params.filter");
    let (s, _) = gw
        .call(
            Method::POST,
            "/tools/notion",
            Some(&gw.alice_key),
            Some(json!({"action": "search", "extra": 1})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(gw.emu.counters().total, before);
}

#[tokio::test]
async fn comment_and_view_actions() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();
    let ok = |r: &(u16, Value), action: &str| {
        assert_eq!(r.0, 200, "{action}: {}", r.1);
        assert_eq!(r.1["action"], action);
        r.1["result"].clone()
    };

    // Views of a database, and of its data source: the same two, with names and types.
    let by_db = ok(
        &tool(
            &gw,
            &key,
            "list_views",
            json!({"database_id": ids.simple_database}),
        )
        .await,
        "list_views",
    );
    let views = by_db["results"].as_array().unwrap();
    assert_eq!(views.len(), 2, "{by_db}");
    let to_read = views.iter().find(|v| v["name"] == "To read").unwrap();
    assert_eq!(to_read["type"], "list");
    assert_eq!(to_read["filtered"], true);
    assert_eq!(to_read["sorted"], true);
    assert_eq!(to_read["data_source_id"], ids.simple_data_source);
    let by_ds = ok(
        &tool(
            &gw,
            &key,
            "list_views",
            json!({"data_source_id": ids.simple_data_source}),
        )
        .await,
        "list_views",
    );
    assert_eq!(by_ds["results"].as_array().unwrap().len(), 2);

    // A view's rows follow its filter and sorts, flattened as in query_database.
    let all = ok(
        &tool(
            &gw,
            &key,
            "query_database",
            json!({"database_id": ids.simple_database}),
        )
        .await,
        "query_database",
    );
    let rows = ok(
        &tool(&gw, &key, "query_view", json!({"view_id": to_read["id"]})).await,
        "query_view",
    );
    let results = rows["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{rows}");
    assert!(results.len() < all["results"].as_array().unwrap().len());
    assert!(
        results.iter().all(|r| r["properties"]["Read"] == false),
        "{rows}"
    );
    assert!(results[0].get("raw_properties").is_none(), "compact rows");
    let titles: Vec<&str> = results
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort_unstable();
    assert_eq!(titles, sorted);
    let first = ok(
        &tool(
            &gw,
            &key,
            "query_view",
            json!({"view_id": to_read["id"], "limit": 1}),
        )
        .await,
        "query_view",
    );
    assert_eq!(first["results"].as_array().unwrap().len(), 1);
    if results.len() > 1 {
        assert_eq!(first["has_more"], true);
        let next = ok(
            &tool(
                &gw,
                &key,
                "query_view",
                json!({"view_id": to_read["id"], "limit": 1, "cursor": first["next_cursor"]}),
            )
            .await,
            "query_view",
        );
        assert_eq!(next["results"][0]["id"], results[1]["id"]);
    }

    // A reply in the seeded discussion, edited, then deleted.
    let reply = ok(
        &tool(
            &gw,
            &key,
            "add_comment",
            json!({"discussion_id": ids.discussion, "text": "A reply"}),
        )
        .await,
        "add_comment",
    );
    assert_eq!(reply["discussion_id"], ids.discussion, "{reply}");
    let comment = reply["id"].as_str().unwrap().to_owned();
    let edited = ok(
        &tool(
            &gw,
            &key,
            "update_comment",
            json!({"comment_id": comment, "text": "An edited reply"}),
        )
        .await,
        "update_comment",
    );
    assert_eq!(edited["text"], "An edited reply");
    let listed = ok(
        &tool(
            &gw,
            &key,
            "list_comments",
            json!({"page_id": ids.root_page}),
        )
        .await,
        "list_comments",
    );
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["text"] == "An edited reply"),
        "{listed}"
    );
    let deleted = ok(
        &tool(&gw, &key, "delete_comment", json!({"comment_id": comment})).await,
        "delete_comment",
    );
    assert_eq!(deleted["deleted"], true);
    let listed = ok(
        &tool(
            &gw,
            &key,
            "list_comments",
            json!({"page_id": ids.root_page}),
        )
        .await,
        "list_comments",
    );
    assert!(
        !listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == comment.as_str()),
        "{listed}"
    );
}

#[tokio::test]
async fn comment_and_view_actions_check_input_and_maturity() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();
    let before = gw.emu.counters().total;
    for (action, params, field) in [
        ("add_comment", json!({"text": "x"}), "page_id"),
        (
            "add_comment",
            json!({"page_id": ids.root_page, "discussion_id": ids.discussion, "text": "x"}),
            "discussion_id",
        ),
        (
            "add_comment",
            json!({"discussion_id": "nope", "text": "x"}),
            "discussion_id",
        ),
        (
            "update_comment",
            json!({"comment_id": "nope", "text": "x"}),
            "comment_id",
        ),
        (
            "update_comment",
            json!({"comment_id": ids.root_page}),
            "params",
        ),
        (
            "delete_comment",
            json!({"comment_id": 5}),
            "params.comment_id",
        ),
        ("list_views", json!({}), "database_id"),
        (
            "list_views",
            json!({"database_id": ids.simple_database, "data_source_id": ids.simple_data_source}),
            "data_source_id",
        ),
        (
            "list_views",
            json!({"database_id": ids.simple_database, "limit": 0}),
            "limit",
        ),
        ("query_view", json!({"view_id": "nope"}), "view_id"),
        (
            "query_view",
            json!({"view_id": ids.views[0], "limit": 101}),
            "limit",
        ),
    ] {
        let (s, err) = tool(&gw, &key, action, params.clone()).await;
        assert_eq!(s, 400, "{action} {params}: {err}");
        assert_eq!(
            err["error"]["details"]["field"], field,
            "{action} {params}: {err}"
        );
    }
    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");

    // Maturity: an intern reads views but cannot comment; a supervised agent's edit is held;
    // deleting needs an autonomous agent.
    let (s, _) = tool(
        &gw,
        gw.agent("intern"),
        "query_view",
        json!({"view_id": ids.views[0]}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, denied) = tool(
        &gw,
        gw.agent("intern"),
        "add_comment",
        json!({"discussion_id": ids.discussion, "text": "x"}),
    )
    .await;
    assert_eq!(s, 403, "{denied}");
    let sent = gw.emu.counters().total;
    let (s, held) = tool(
        &gw,
        gw.agent("supervised"),
        "update_comment",
        json!({"comment_id": ids.discussion, "text": "Please"}),
    )
    .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(held["error"]["code"], "approval_required");
    let (s, denied) = tool(
        &gw,
        gw.agent("supervised"),
        "delete_comment",
        json!({"comment_id": ids.discussion}),
    )
    .await;
    assert_eq!(s, 403, "{denied}");
    assert_eq!(denied["error"]["details"]["needed"], "autonomous");
    assert_eq!(gw.emu.counters().total, sent, "nothing written");
}

#[tokio::test]
async fn upload_file_attaches_blocks_properties_icons_and_covers() {
    use base64::Engine as _;
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let ok = |r: &(u16, Value)| {
        assert_eq!(r.0, 200, "{}", r.1);
        assert_eq!(r.1["action"], "upload_file");
        r.1["result"].clone()
    };

    // Base64 content as a file block (the default), then a URL as an image block.
    let r = ok(&tool(
        &gw,
        &key,
        "upload_file",
        json!({"page_id": ids.root_page, "content": b64(b"quarterly numbers\n"), "filename": "report.txt", "content_type": "text/plain"}),
    )
    .await);
    assert_eq!(r["attached_as"], "file");
    let block = gw.emu.get_object(r["block_id"].as_str().unwrap()).unwrap();
    assert_eq!(block["type"], "file", "{block}");
    assert_eq!(
        gw.emu.child_ids(&ids.root_page).last().unwrap(),
        r["block_id"].as_str().unwrap()
    );
    let r = ok(&tool(
        &gw,
        &key,
        "upload_file",
        json!({"page_id": ids.root_page, "url": "https://example.com/chart.png", "attach_as": "image"}),
    )
    .await);
    assert_eq!(r["filename"], "chart.png");
    let block = gw.emu.get_object(r["block_id"].as_str().unwrap()).unwrap();
    assert_eq!(block["type"], "image", "{block}");

    // A files property, the icon and the cover.
    let row = ids.rows[0].clone();
    let r = ok(&tool(
        &gw,
        &key,
        "upload_file",
        json!({"page_id": row, "content": b64(b"%PDF-1.4"), "filename": "spec.pdf", "attach_as": "property", "property": "Attachments"}),
    )
    .await);
    assert!(r["block_id"].is_null());
    let stored = gw.emu.get_object(&row).unwrap();
    let files = stored["properties"]["Attachments"]["files"]
        .as_array()
        .unwrap();
    assert_eq!(files.len(), 1, "{stored}");
    assert_eq!(files[0]["name"], "spec.pdf");
    for attach in ["icon", "cover"] {
        ok(&tool(
            &gw,
            &key,
            "upload_file",
            json!({"page_id": ids.child_page, "url": format!("https://example.com/{attach}.png"), "attach_as": attach}),
        )
        .await);
        let stored = gw.emu.get_object(&ids.child_page).unwrap();
        assert_eq!(stored[attach]["type"], "file", "{attach}: {stored}");
    }
}

#[tokio::test]
async fn upload_file_checks_input_and_maturity() {
    use base64::Engine as _;
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let page = ids.root_page.clone();
    let before = gw.emu.counters().total;
    let over = b64(&vec![7u8; 1024 * 1024 + 1]);
    for (params, field) in [
        (
            json!({"page_id": page, "content": over, "filename": "big.bin"}),
            "content",
        ),
        (
            json!({"page_id": page, "content": "%%%", "filename": "x.txt"}),
            "content",
        ),
        (json!({"page_id": page, "filename": "x.txt"}), "url"),
        (
            json!({"page_id": page, "url": "https://e.com/a.png", "content": b64(b"x")}),
            "content",
        ),
        (json!({"page_id": page, "url": "http://e.com/a.png"}), "url"),
        (json!({"page_id": page, "content": b64(b"x")}), "filename"),
        (
            json!({"page_id": page, "url": "https://e.com/a.png", "attach_as": "property"}),
            "property",
        ),
        (
            json!({"page_id": page, "url": "https://e.com/a.png", "property": "Files"}),
            "property",
        ),
        (
            json!({"page_id": page, "url": "https://e.com/a.png", "attach_as": "gif"}),
            "params.attach_as",
        ),
        (
            json!({"page_id": "nope", "url": "https://e.com/a.png"}),
            "page_id",
        ),
    ] {
        let (s, err) = tool(&gw, &key, "upload_file", params).await;
        assert_eq!(s, 400, "{field}: {err}");
        assert_eq!(err["error"]["details"]["field"], field, "{err}");
    }
    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");

    // An intern cannot upload; a supervised agent's URL upload is held as one attach request;
    // its base64 content cannot be held.
    let url = json!({"page_id": page, "url": "https://example.com/a.pdf", "attach_as": "pdf"});
    let (s, denied) = tool(&gw, gw.agent("intern"), "upload_file", url.clone()).await;
    assert_eq!(s, 403, "{denied}");
    assert_eq!(denied["error"]["details"]["needed"], "supervised");
    let (s, held) = tool(&gw, gw.agent("supervised"), "upload_file", url).await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(held["error"]["code"], "approval_required");
    let (s, refused) = tool(
        &gw,
        gw.agent("supervised"),
        "upload_file",
        json!({"page_id": page, "content": b64(b"x"), "filename": "x.txt"}),
    )
    .await;
    assert_eq!(s, 403, "{refused}");
    assert_eq!(refused["error"]["details"]["field"], "content", "{refused}");
    assert_eq!(gw.emu.counters().total, before, "nothing sent");

    // Once approved, the held attach runs: the URL as an external PDF block.
    let approval: gate_store::ApprovalId = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let done = gw.gate.approve(&alice, approval, None).await.unwrap();
    assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
    let last = gw.emu.child_ids(&page).last().cloned().unwrap();
    assert_eq!(gw.emu.get_object(&last).unwrap()["type"], "pdf");
}

/// A 30 MB file reaches a page through `upload_file` by URL: Notion (here the emulator)
/// imports it in `external_url` mode, so none of its bytes pass through the gateway, and the
/// workspace's per-file limit decides, as Notion's `HEAD` check does at create: a paid
/// workspace (5 GiB) takes it, a free one (5 MiB) refuses it with a 400 `validation_error`.
#[tokio::test]
async fn upload_file_takes_a_30_mb_file_by_url_within_the_workspace_limit() {
    use notion_emulator::handlers::uploads::{
        FREE_WORKSPACE_UPLOAD_LIMIT, PAID_WORKSPACE_UPLOAD_LIMIT,
    };
    let gw = spawn_gateway().await;
    let page = gw.emu.demo_ids().root_page.clone();
    let key = gw.agent("autonomous").to_owned();
    let size: u64 = 30 * 1024 * 1024;
    let url = "https://files.example.com/reports/q3-walkthrough.mp4";
    gw.emu.serve_external_file(url, size, "video/mp4");

    gw.emu.set_file_upload_limit(PAID_WORKSPACE_UPLOAD_LIMIT);
    gw.emu.reset_counters();
    let (s, r) = tool(
        &gw,
        &key,
        "upload_file",
        json!({"page_id": page, "url": url, "attach_as": "video"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let upload = r["result"]["file_upload_id"].as_str().unwrap().to_owned();
    let stored = gw
        .emu
        .with_store(|st| st.file_uploads.get(&upload).map(|u| u.object.clone()))
        .expect("the upload exists in Notion");
    assert_eq!(stored["status"], "uploaded", "{stored}");
    assert_eq!(stored["content_length"], size, "{stored}");
    let block = r["result"]["block_id"].as_str().unwrap();
    assert_eq!(gw.emu.get_object(block).unwrap()["type"], "video");
    assert_eq!(gw.emu.child_ids(&page).last().unwrap(), block);
    // No part was sent: the file never passed through the gateway (zero bytes in memory).
    let log = gw.emu.request_log();
    assert!(
        log.iter().all(|e| !e.path.ends_with("/send")),
        "{:?}",
        log.iter().map(|e| &e.route).collect::<Vec<_>>()
    );

    // A free workspace refuses the same file before anything is attached.
    gw.emu.set_file_upload_limit(FREE_WORKSPACE_UPLOAD_LIMIT);
    let children = gw.emu.child_ids(&page).len();
    let (s, err) = tool(
        &gw,
        &key,
        "upload_file",
        json!({"page_id": page, "url": url, "attach_as": "video"}),
    )
    .await;
    assert_eq!(s, 400, "{err}");
    let details = &err["error"]["details"];
    assert_eq!(details["notion_status"], 400, "{err}");
    assert_eq!(details["notion_code"], "validation_error", "{err}");
    assert_eq!(details["write_state"], "not_applied", "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&FREE_WORKSPACE_UPLOAD_LIMIT.to_string()),
        "{err}"
    );
    assert_eq!(gw.emu.child_ids(&page).len(), children, "nothing attached");
}
