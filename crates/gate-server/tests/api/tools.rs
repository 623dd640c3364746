//! The `notion` tool endpoint: the action list by maturity, every action, approvals,
//! unknown actions and bad params.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Gateway, spawn_gateway};

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
    assert_eq!(i.len(), 11, "{i:?}");
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

    let (_, auto) = gw
        .call(
            Method::GET,
            "/tools/notion",
            Some(gw.agent("autonomous")),
            None,
        )
        .await;
    assert_eq!(names(&auto).len(), 17);
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
    assert_eq!(records.events[0].record.surface.as_str(), "tool");
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
    assert_eq!(actions.len(), 17);
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
