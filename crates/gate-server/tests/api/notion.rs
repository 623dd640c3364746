//! The governed Notion operations under `/api/v1/notion` against the emulator's demo
//! workspace: the maturity × endpoint table with one audit record per call, pagination,
//! flattening, page formats and caps, writes split to Notion's limits, partial failures, and
//! bad input that never reaches Notion.

use gate_store::{AuditQuery, AuditRecord};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Gateway, GatewayOpts, spawn_gateway, spawn_gateway_with};

/// Every audit record so far, newest first.
async fn audit(gw: &Gateway) -> Vec<AuditRecord> {
    gw.gate.flush_audit().await.unwrap();
    gw.gate
        .store()
        .query_audit(&AuditQuery::new().limit(1000))
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.record)
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ep {
    Search,
    ListDbs,
    Schema,
    Query,
    GetPage,
    Create,
    Update,
    Append,
    Trash,
}

/// Expected status per caller (alice, student, intern, supervised, autonomous).
fn expected(ep: Ep) -> [u16; 5] {
    match ep {
        Ep::Search | Ep::ListDbs | Ep::Schema | Ep::Query | Ep::GetPage => {
            [200, 403, 200, 200, 200]
        }
        Ep::Create | Ep::Update | Ep::Append => [200, 403, 403, 202, 200],
        Ep::Trash => [200, 403, 403, 403, 200],
    }
}

async fn hit(gw: &Gateway, key: &str, ep: Ep, page: &str) -> (u16, Value) {
    let ids = gw.emu.demo_ids();
    match ep {
        Ep::Search => {
            gw.call(
                Method::POST,
                "/notion/search",
                Some(key),
                Some(json!({"query": "Demo"})),
            )
            .await
        }
        Ep::ListDbs => {
            gw.call(Method::GET, "/notion/databases", Some(key), None)
                .await
        }
        Ep::Schema => {
            let path = format!("/notion/databases/{}", ids.database);
            gw.call(Method::GET, &path, Some(key), None).await
        }
        Ep::Query => {
            let path = format!("/notion/databases/{}/query", ids.data_source);
            gw.call(Method::POST, &path, Some(key), Some(json!({"limit": 2})))
                .await
        }
        Ep::GetPage => {
            let path = format!("/notion/pages/{}", ids.root_page);
            gw.call(Method::GET, &path, Some(key), None).await
        }
        Ep::Create => {
            let body = json!({"parent": {"page_id": page}, "title": "Made here", "content": "# Hello\n\nSome *text*."});
            gw.call(Method::POST, "/notion/pages", Some(key), Some(body))
                .await
        }
        Ep::Update => {
            let path = format!("/notion/pages/{page}");
            let body = json!({"properties": {"title": "Renamed"}});
            gw.call(Method::PATCH, &path, Some(key), Some(body)).await
        }
        Ep::Append => {
            let path = format!("/notion/pages/{page}/blocks");
            let body = json!({"markdown": "- one\n- two"});
            gw.call(Method::POST, &path, Some(key), Some(body)).await
        }
        Ep::Trash => {
            let path = format!("/notion/pages/{page}");
            gw.call(
                Method::PATCH,
                &path,
                Some(key),
                Some(json!({"in_trash": true})),
            )
            .await
        }
    }
}

#[tokio::test]
async fn every_endpoint_by_maturity_with_one_audit_record_each() {
    let gw = spawn_gateway().await;
    let root = gw.emu.demo_ids().root_page.clone();
    let callers = [
        ("alice", gw.alice_key.clone()),
        ("student", gw.agent("student").to_owned()),
        ("intern", gw.agent("intern").to_owned()),
        ("supervised", gw.agent("supervised").to_owned()),
        ("autonomous", gw.agent("autonomous").to_owned()),
    ];
    let eps = [
        Ep::Search,
        Ep::ListDbs,
        Ep::Schema,
        Ep::Query,
        Ep::GetPage,
        Ep::Create,
        Ep::Update,
        Ep::Append,
        Ep::Trash,
    ];
    for (i, (who, key)) in callers.iter().enumerate() {
        for ep in eps {
            let page = gw.emu.create_page(&root, &format!("{who} {ep:?}")).unwrap();
            let before = audit(&gw).await.len();
            let (status, body) = hit(&gw, key, ep, &page).await;
            assert_eq!(status, expected(ep)[i], "{who} {ep:?}: {body}");
            let records = audit(&gw).await;
            assert_eq!(records.len(), before + 1, "{who} {ep:?}: one audit record");
            let r = &records[0];
            assert_eq!(r.call.surface.as_str(), "rest");
            let decision = r.decision.as_str();
            match status {
                200 => {
                    assert_eq!(
                        (decision, r.outcome.as_str()),
                        ("allow", "ok"),
                        "{who} {ep:?}"
                    );
                }
                202 => {
                    assert_eq!(body["error"]["code"], "approval_required");
                    assert!(body["error"]["details"]["approval_id"].is_string());
                    assert_eq!(
                        (decision, r.outcome.as_str()),
                        ("needs_approval", "pending")
                    );
                }
                _ => {
                    assert_eq!(body["error"]["code"], "forbidden_by_policy", "{body}");
                    assert_eq!((decision, r.outcome.as_str()), ("deny", "denied"));
                }
            }
            if who == &"autonomous" && ep == Ep::Trash {
                assert_eq!(body["in_trash"], true, "{body}");
                assert_eq!(r.call.action_class.as_deref(), Some("delete"));
            }
        }
    }
}

#[tokio::test]
async fn search_follows_every_page_when_asked() {
    let gw = spawn_gateway().await;
    let key = gw.alice_key.clone();
    let (s, one) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"limit": 100})),
        )
        .await;
    assert_eq!(s, 200, "{one}");
    let total = one["results"].as_array().unwrap().len();
    assert!(total > 10, "{total}");
    let before = gw.emu.counters().route("POST /v1/search");
    let (s, all) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"limit": 5, "all_pages": true})),
        )
        .await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(all["results"].as_array().unwrap().len(), total);
    assert_eq!(all["has_more"], false);
    assert_eq!(all["truncated"], false);
    let requests = gw.emu.counters().route("POST /v1/search") - before;
    assert_eq!(requests as usize, total.div_ceil(5));
    // Titles come from the property whose type is title; databases are data sources.
    let (_, dbs) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"filter": "database", "query": "Tasks"})),
        )
        .await;
    let first = &dbs["results"][0];
    assert_eq!(first["object"], "data_source", "{dbs}");
    assert_eq!(first["title"], "Tasks");
    let (_, pages) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"filter": "page", "query": "Write the spec"})),
        )
        .await;
    assert_eq!(pages["results"][0]["title"], "Write the spec", "{pages}");
    // One page at a time with a cursor.
    let (_, p1) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"limit": 3})),
        )
        .await;
    assert_eq!(p1["has_more"], true);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = gw
        .call(
            Method::POST,
            "/notion/search",
            Some(&key),
            Some(json!({"limit": 3, "cursor": cursor})),
        )
        .await;
    assert_ne!(p1["results"][0]["id"], p2["results"][0]["id"]);
    let (s, list) = gw
        .call(Method::GET, "/notion/databases?limit=1", Some(&key), None)
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    assert_eq!(list["has_more"], true);
}

#[tokio::test]
async fn query_pages_with_a_cursor_and_flattens_every_property_type() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.alice_key.clone();
    let path = format!("/notion/databases/{}/query", ids.data_source);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"limit": 5});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let (s, page) = gw.call(Method::POST, &path, Some(&key), Some(body)).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        for r in page["results"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
        if page["has_more"] != true {
            break;
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), ids.rows.len());
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len());

    // The first row has a value for every property type.
    let (_, page) = gw
        .call(
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"filter": {"property": "Name", "title": {"equals": "Write the spec"}}})),
        )
        .await;
    let row = &page["results"][0];
    let p = &row["properties"];
    assert_eq!(row["title"], "Write the spec");
    assert_eq!(p["Name"], "Write the spec");
    assert_eq!(p["Estimate"], 1.5);
    assert_eq!(p["Done"], false);
    assert!(p["Status"].as_str().is_some(), "{p}");
    assert_eq!(p["Tags"].as_array().map(Vec::len), Some(2));
    assert_eq!(p["Due"]["start"], "2026-03-01");
    assert_eq!(p["Contact"], "task1@example.com");
    assert_eq!(p["ID"], "TSK-1");
    assert_eq!(p["Phone"], Value::Null);
    assert_eq!(p["Assignees"], json!(["Grace Hopper"]));
    assert_eq!(p["Creator"], "Ada Lovelace");
    assert_eq!(p["Score"], 15.0);
    assert_eq!(p["Project count"], 30);
    assert_eq!(p["Verification"]["state"], "verified");
    assert_eq!(p["Location"]["name"], "Eiffel Tower");
    assert!(
        p["Notes"].as_str().unwrap().starts_with("run 1 run 2"),
        "{p}"
    );
    assert!(
        p["Projects"].is_array() || p["Projects"]["ids"].is_array(),
        "{p}"
    );
    assert_eq!(row["raw_properties"]["Estimate"]["type"], "number");

    // A database with two data sources: query names them; the schema answers both.
    let path = format!("/notion/databases/{}/query", ids.database);
    let (s, err) = gw
        .call(Method::POST, &path, Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 400, "{err}");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&ids.data_source) && msg.contains(&ids.data_source_2),
        "{msg}"
    );
    let (s, schema) = gw
        .call(
            Method::GET,
            &format!("/notion/databases/{}", ids.database),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 200, "{schema}");
    let sources = schema["data_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    let tasks = sources.iter().find(|d| d["title"] == "Tasks").unwrap();
    assert_eq!(tasks["properties"]["Priority"]["type"], "select");
    assert!(
        tasks["properties"]["Priority"]["options"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    assert!(
        tasks["properties"]["Projects"]
            .to_string()
            .contains(&ids.data_source_2)
    );
    // A single-source database resolves to its data source.
    let path = format!("/notion/databases/{}/query", ids.simple_database);
    let (s, q) = gw
        .call(Method::POST, &path, Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["data_source_id"], ids.simple_data_source);
}

#[tokio::test]
async fn page_formats_depth_and_block_caps() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.alice_key.clone();
    let base = format!("/notion/pages/{}", ids.blocks_page);
    let (s, md) = gw.call(Method::GET, &base, Some(&key), None).await;
    assert_eq!(s, 200, "{md}");
    assert_eq!(md["format"], "markdown");
    let text = md["content"].as_str().unwrap();
    assert!(text.contains("# "), "{text}");
    assert!(text.contains("```"), "{text}");
    assert_eq!(md["truncated"], false);
    assert!(md["title"].is_string() && md["parent"].is_object());

    let (s, plain) = gw
        .call(
            Method::GET,
            &format!("{base}?format=text"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let plain = plain["content"].as_str().unwrap();
    assert!(!plain.is_empty() && !plain.contains("```"));

    let (s, blocks) = gw
        .call(
            Method::GET,
            &format!("{base}?format=blocks"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let top = blocks["content"].as_array().unwrap();
    assert!(
        top.iter().any(|b| b["children"].is_array()),
        "nested children"
    );

    let (_, shallow) = gw
        .call(Method::GET, &format!("{base}?depth=1"), Some(&key), None)
        .await;
    assert_eq!(shallow["truncated"], true);
    assert!(!shallow["unexpanded"].as_array().unwrap().is_empty());
    let (_, capped) = gw
        .call(
            Method::GET,
            &format!("{base}?max_blocks=3"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(capped["truncated"], true);
    assert_eq!(capped["block_count"], 3);

    let (s, big) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{}?format=text", ids.big_page),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(big["block_count"], ids.big_page_children);
}

#[tokio::test]
async fn long_markdown_is_split_and_partial_failures_say_what_was_written() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let auto = gw.agent("autonomous").to_owned();
    let md: String = (1..=150).map(|i| format!("Paragraph {i}\n\n")).collect();
    let before = gw.emu.counters();
    let (s, page) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(&auto),
            Some(json!({"parent": {"page_id": ids.root_page}, "title": "Long", "content": md})),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["blocks_written"], 150);
    let id = page["id"].as_str().unwrap();
    assert_eq!(gw.emu.child_ids(id).len(), 150);
    let after = gw.emu.counters();
    assert_eq!(
        after.route("POST /v1/pages") - before.route("POST /v1/pages"),
        1
    );

    // Append 150 more, at the start: order kept.
    let (s, app) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{id}/blocks"),
            Some(&auto),
            Some(json!({"markdown": md, "position": "start"})),
        )
        .await;
    assert_eq!(s, 200, "{app}");
    assert_eq!(app["written"], 150);
    assert_eq!(app["requests"], 2);
    let children = gw.emu.child_ids(id);
    assert_eq!(children.len(), 300);
    let ids_back: Vec<String> = app["block_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&children[..150], &ids_back[..]);

    // A supervised agent cannot have a multi-request write held for approval.
    let (s, err) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{id}/blocks"),
            Some(gw.agent("supervised")),
            Some(json!({"markdown": md})),
        )
        .await;
    assert_eq!(s, 403, "{err}");
    assert_eq!(
        err["error"]["details"]["reason"],
        "approval_requires_single_request"
    );

    // Blocks whose second request Notion refuses: the first 100 stay and are reported.
    let mut blocks: Vec<Value> = (0..100)
        .map(|i| json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": format!("b{i}")}}]}}))
        .collect();
    blocks.push(json!({"type": "no_such_block", "no_such_block": {}}));
    let (s, err) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{}/blocks", ids.child_page),
            Some(&auto),
            Some(json!({"blocks": blocks})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    let d = &err["error"]["details"];
    assert_eq!(d["written"], 100, "{err}");
    assert_eq!(d["write_state"], "partial");
    assert_eq!(d["block_ids"].as_array().unwrap().len(), 100);
    let records = audit(&gw).await;
    assert_eq!(records[0].reason.as_deref(), Some("partial_write"));
}

#[tokio::test]
async fn rows_are_created_from_simple_values_with_the_schema() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.alice_key.clone();
    let body = json!({
        "parent": {"database_id": ids.simple_database},
        "title": "From the gateway",
    });
    let (s, row) = gw
        .call(Method::POST, "/notion/pages", Some(&key), Some(body))
        .await;
    assert_eq!(s, 200, "{row}");
    assert_eq!(row["title"], "From the gateway");
    let body = json!({
        "parent": {"data_source_id": ids.data_source},
        "properties": {"Name": "New task", "Estimate": 3, "Done": true,
                       "Due": "2026-05-01", "Notes": "plain words"},
        "markdown": "Body text",
    });
    let (s, row) = gw
        .call(Method::POST, "/notion/pages", Some(&key), Some(body))
        .await;
    assert_eq!(s, 200, "{row}");
    // `content` is another name of `markdown` on create; both at once is a 400 naming it.
    let both = json!({"parent": {"page_id": ids.root_page}, "markdown": "a", "content": "b"});
    let (s2, err) = gw
        .call(Method::POST, "/notion/pages", Some(&key), Some(both))
        .await;
    assert_eq!(s2, 400, "{err}");
    assert!(
        err.to_string().contains("duplicate field `markdown`"),
        "{err}"
    );
    let p = &row["properties"];
    assert_eq!(p["Name"], "New task");
    assert_eq!(p["Estimate"], 3);
    assert_eq!(p["Done"], true);
    assert_eq!(p["Due"]["start"], "2026-05-01");
    assert_eq!(row["blocks_written"], 1);
    let id = row["id"].as_str().unwrap().to_owned();
    let (s, upd) = gw
        .call(
            Method::PATCH,
            &format!("/notion/pages/{id}"),
            Some(&key),
            Some(json!({"properties": {"Estimate": 8}})),
        )
        .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["properties"]["Estimate"], 8);
    // An unknown property is named, and nothing is written.
    let (s, err) = gw
        .call(
            Method::PATCH,
            &format!("/notion/pages/{id}"),
            Some(&key),
            Some(json!({"properties": {"Nope": 1}})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "properties.Nope");
}

#[tokio::test]
async fn bad_input_is_4xx_naming_the_field_and_never_reaches_notion() {
    let gw = spawn_gateway().await;
    let key = gw.alice_key.clone();
    let root = gw.emu.demo_ids().root_page.clone();
    let before = gw.emu.counters().total;
    let cases: Vec<(Method, String, Value, u16, &str)> = vec![
        (
            Method::POST,
            "/notion/search".into(),
            json!({"limit": "ten"}),
            400,
            "limit",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"limit": 0}),
            400,
            "limit",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"colour": 1}),
            400,
            "",
        ),
        (
            Method::POST,
            "/notion/search".into(),
            json!({"filter": "user"}),
            400,
            "filter",
        ),
        (
            Method::GET,
            "/notion/pages/not-an-id".into(),
            Value::Null,
            400,
            "page_id",
        ),
        (
            Method::GET,
            format!("/notion/pages/{root}?depth=0"),
            Value::Null,
            400,
            "depth",
        ),
        (
            Method::GET,
            format!("/notion/pages/{root}?format=pdf"),
            Value::Null,
            400,
            "",
        ),
        (
            Method::POST,
            "/notion/databases/xyz/query".into(),
            json!({}),
            400,
            "database_id",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {"page_id": "123"}}),
            400,
            "parent.page_id",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {}}),
            400,
            "parent",
        ),
        (
            Method::POST,
            "/notion/pages".into(),
            json!({"parent": {"page_id": root}, "blocks": [{"type": "paragraph", "paragraph": {"rich_text": 5}}]}),
            400,
            "blocks[0]",
        ),
        (
            Method::PATCH,
            format!("/notion/pages/{root}"),
            json!({"in_trash": "yes"}),
            400,
            "in_trash",
        ),
        (
            Method::POST,
            format!("/notion/pages/{root}/blocks"),
            json!({"markdown": "x", "position": {"after_block": "zz"}}),
            400,
            "position.after_block",
        ),
        (
            Method::POST,
            format!("/notion/pages/{root}/blocks"),
            json!({}),
            400,
            "markdown",
        ),
    ];
    for (method, path, body, status, field) in cases {
        let body = (!body.is_null()).then_some(body);
        let (s, err) = gw.call(method.clone(), &path, Some(&key), body).await;
        assert_eq!(s, status, "{method} {path}: {err}");
        assert!(err["error"]["message"].is_string(), "{err}");
        if !field.is_empty() {
            assert_eq!(
                err["error"]["details"]["field"], field,
                "{method} {path}: {err}"
            );
        }
    }
    // A block's message names the key inside it that is wrong.
    let (s, err) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(&key),
            Some(json!({"parent": {"page_id": root}, "blocks": [
                {"type": "paragraph", "paragraph": {"rich_text": []}},
                {"type": "to_do", "to_do": {"rich_text": [], "checked": "yes"}}
            ]})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "blocks[1]", "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("to_do.checked: invalid type"), "{message}");
    // Malformed JSON and an oversized body.
    let r = gw
        .http
        .post(format!("{}/api/v1/notion/search", gw.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = gw
        .http
        .post(format!("{}/api/v1/notion/pages/{root}/blocks", gw.base))
        .bearer_auth(&key)
        .json(&json!({"markdown": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // No key at all.
    let (s, _) = gw
        .call(Method::POST, "/notion/search", None, Some(json!({})))
        .await;
    assert_eq!(s, 401);
    assert_eq!(gw.emu.counters().total, before, "nothing reached Notion");
}

#[tokio::test]
async fn notion_errors_keep_their_meaning() {
    let gw = spawn_gateway().await;
    let key = gw.alice_key.clone();
    let missing = "0123456789abcdef0123456789abcdef";
    let (s, err) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{missing}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 404, "{err}");
    assert_eq!(err["error"]["code"], "notion_not_found");
    assert_eq!(
        err["error"]["details"]["notion_code"], "object_not_found",
        "{err}"
    );
    assert!(
        err["error"]["details"]["notion_request_id"].is_string(),
        "{err}"
    );
    let records = audit(&gw).await;
    assert_eq!(records[0].outcome.as_str(), "error");
    assert_eq!(records[0].upstream_status, Some(404));
    gw.gate.set_local_only(true);
    let (s, err) = gw
        .call(Method::POST, "/notion/search", Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 403);
    assert_eq!(err["error"]["code"], "local_only");
}

#[tokio::test]
async fn a_held_write_is_the_exact_request_and_runs_once_approved() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let before = gw.emu.counters().route("POST /v1/pages");
    // Simple values need the schema: it is read first, then the converted create is held.
    let body = json!({
        "parent": {"data_source_id": ids.data_source},
        "properties": {"Name": "Held task", "Estimate": 3},
        "content": "Waiting for a human",
    });
    let (s, held) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(gw.agent("supervised")),
            Some(body),
        )
        .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(
        gw.emu.counters().route("POST /v1/pages"),
        before,
        "nothing written yet"
    );
    let records = audit(&gw).await;
    assert_eq!(records[0].decision.as_str(), "needs_approval");
    let approval: gate_store::ApprovalId = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let done = gw.gate.approve(&alice, approval, None).await.unwrap();
    assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
    let created: Value = serde_json::from_str(done.result_json.as_deref().unwrap()).unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["properties"]["Estimate"]["number"], 3);
    assert_eq!(gw.emu.child_ids(id).len(), 1);
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before + 1);
}

#[tokio::test]
async fn a_request_past_the_time_limit_is_a_504_in_the_envelope_and_counted() {
    let gw = spawn_gateway_with(GatewayOpts {
        options: Some(
            gate_server::ServerOptions::default()
                .request_timeout(std::time::Duration::from_millis(300)),
        ),
        ..GatewayOpts::default()
    })
    .await;
    let root = gw.emu.demo_ids().root_page.clone();
    gw.emu.push_fault(
        notion_emulator::ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .delay(std::time::Duration::from_secs(3)),
    );
    let resp = gw
        .http
        .get(format!("{}/api/v1/notion/pages/{root}", gw.base))
        .bearer_auth(gw.agent("autonomous"))
        .header("x-request-id", "slow-read-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504);
    assert_eq!(resp.headers()["x-request-id"], "slow-read-1");
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "timeout", "{err}");
    assert_eq!(err["error"]["request_id"], "slow-read-1", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().len() > 5, "{err}");

    let metrics = gw.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total") && l.contains("status=\"504\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn notion_rate_limits_and_revoked_tokens_reach_the_caller_with_their_meaning() {
    let gw = spawn_gateway_with(GatewayOpts {
        retry: Some(notion_client::RetryPolicy::none()),
        ..GatewayOpts::default()
    })
    .await;
    let root = gw.emu.demo_ids().root_page.clone();
    let url = format!("{}/api/v1/notion/pages/{root}", gw.base);
    let key = gw.agent("autonomous").to_owned();

    // Notion's 429, with no retry budget left: a 429 with Notion's `Retry-After`.
    gw.emu.push_fault(
        notion_emulator::ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(7),
    );
    let resp = gw.http.get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=7).contains(&wait), "{wait}");
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "rate_limited", "{err}");
    assert_eq!(
        err["error"]["details"]["write_state"], "not_applied",
        "{err}"
    );

    // The token revoked at Notion: 409 `reconnect_required`, and the next call is refused
    // without sending the dead token again.
    gw.emu.revoke_token(&gw.notion_token);
    let (s, err) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{root}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["code"], "reconnect_required", "{err}");
    let sent = gw.emu.counters().total;
    let (s, err) = gw
        .call(Method::POST, "/notion/search", Some(&key), Some(json!({})))
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["code"], "reconnect_required", "{err}");
    assert_eq!(
        gw.emu.counters().total,
        sent,
        "the revoked token is not sent again"
    );
}

#[tokio::test]
async fn schema_by_data_source_sorts_icons_blocks_and_positions() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let key = gw.agent("autonomous").to_owned();

    // The schema asked by a data source id: that source alone.
    let (s, schema) = gw
        .call(
            Method::GET,
            &format!("/notion/databases/{}", ids.data_source),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(s, 200, "{schema}");
    let sources = schema["data_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{schema}");
    assert_eq!(sources[0]["title"], "Tasks");
    assert_eq!(sources[0]["properties"]["Priority"]["type"], "select");

    // Sorts are passed through: Estimate descending, then ascending.
    let path = format!("/notion/databases/{}/query", ids.data_source);
    let mut orders = Vec::new();
    for direction in ["descending", "ascending"] {
        let body = json!({
            "filter": {"property": "Estimate", "number": {"is_not_empty": true}},
            "sorts": [{"property": "Estimate", "direction": direction}]
        });
        let (s, q) = gw.call(Method::POST, &path, Some(&key), Some(body)).await;
        assert_eq!(s, 200, "{q}");
        let estimates: Vec<f64> = q["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["properties"]["Estimate"].as_f64().unwrap())
            .collect();
        assert!(estimates.len() > 2, "{q}");
        orders.push(estimates);
    }
    let mut descending = orders[1].clone();
    descending.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(orders[0], descending);
    assert!(
        orders[1].windows(2).all(|w| w[0] <= w[1]),
        "{:?}",
        orders[1]
    );

    // A page created with blocks (nested children too), then given an icon and a cover,
    // then both removed with `null`.
    let blocks = json!([
        {"type": "heading_2", "heading_2": {"rich_text": [{"type": "text", "text": {"content": "Plan"}}]}},
        {"type": "bulleted_list_item", "bulleted_list_item": {
            "rich_text": [{"type": "text", "text": {"content": "outer"}}],
            "children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "inner"}}]}}]
        }},
        {"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "last"}}]}}
    ]);
    let (s, created) = gw
        .call(
            Method::POST,
            "/notion/pages",
            Some(&key),
            Some(json!({"parent": {"page_id": ids.root_page}, "title": "With blocks", "blocks": blocks})),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    assert_eq!(created["blocks_written"], 4, "{created}");
    let page = created["id"].as_str().unwrap().to_owned();
    let top = gw.emu.child_ids(&page);
    assert_eq!(top.len(), 3);
    assert_eq!(gw.emu.child_ids(&top[1]).len(), 1, "the nested child");

    let page_path = format!("/notion/pages/{page}");
    let icon = json!({"type": "emoji", "emoji": "🚀"});
    let cover = json!({"type": "external", "external": {"url": "https://example.com/c.png"}});
    let (s, out) = gw
        .call(
            Method::PATCH,
            &page_path,
            Some(&key),
            Some(json!({"icon": icon, "cover": cover})),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let stored = gw.emu.get_object(&page).unwrap();
    assert_eq!(stored["icon"]["emoji"], "🚀", "{stored}");
    assert_eq!(
        stored["cover"]["external"]["url"], "https://example.com/c.png",
        "{stored}"
    );
    let (s, out) = gw
        .call(
            Method::PATCH,
            &page_path,
            Some(&key),
            Some(json!({"icon": null, "cover": null})),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let stored = gw.emu.get_object(&page).unwrap();
    assert!(
        stored["icon"].is_null() && stored["cover"].is_null(),
        "{stored}"
    );

    // Appended after the heading: between it and the list.
    let (s, appended) = gw
        .call(
            Method::POST,
            &format!("{page_path}/blocks"),
            Some(&key),
            Some(json!({"markdown": "between", "position": {"after_block": top[0]}})),
        )
        .await;
    assert_eq!(s, 200, "{appended}");
    let new_id = appended["block_ids"][0].as_str().unwrap().to_owned();
    let now = gw.emu.child_ids(&page);
    assert_eq!(now.len(), 4);
    assert_eq!(now[0], top[0]);
    assert_eq!(now[1], new_id);
    assert_eq!(now[2..], top[1..]);
}

#[tokio::test]
async fn comments_and_views_over_rest_with_a_held_comment_edit() {
    let gw = spawn_gateway().await;
    let ids = gw.emu.demo_ids().clone();
    let auto = gw.agent("autonomous").to_owned();
    let (s, views) = gw
        .call(
            Method::GET,
            &format!("/notion/views?database_id={}", ids.simple_database),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{views}");
    assert_eq!(views["results"].as_array().unwrap().len(), 2);
    let (s, err) = gw
        .call(Method::GET, "/notion/views?view=1", Some(&auto), None)
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "view");
    let (s, rows) = gw
        .call(
            Method::POST,
            &format!("/notion/views/{}/query", ids.views[1]),
            Some(&auto),
            Some(json!({"limit": 2})),
        )
        .await;
    assert_eq!(s, 200, "{rows}");
    assert_eq!(rows["view_id"], ids.views[1]);
    assert!(rows["results"][0]["raw_properties"].is_object(), "{rows}");

    let (s, c) = gw
        .call(
            Method::POST,
            "/notion/comments",
            Some(&auto),
            Some(json!({"page_id": ids.root_page, "text": "First draft"})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let comment = c["id"].as_str().unwrap().to_owned();
    let (s, list) = gw
        .call(
            Method::GET,
            &format!("/notion/pages/{}/comments?limit=100", ids.root_page),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert!(
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == comment.as_str())
    );

    // A supervised agent's edit is held as the exact PATCH and runs once approved.
    let before = gw.emu.counters().total;
    let (s, held) = gw
        .call(
            Method::PATCH,
            &format!("/notion/comments/{comment}"),
            Some(gw.agent("supervised")),
            Some(json!({"text": "Approved wording"})),
        )
        .await;
    assert_eq!(s, 202, "{held}");
    assert_eq!(gw.emu.counters().total, before, "nothing sent");
    let approval: gate_store::ApprovalId = held["error"]["details"]["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let done = gw.gate.approve(&alice, approval, None).await.unwrap();
    assert_eq!(done.result_status, Some(200), "{:?}", done.result_json);
    let edited: Value = serde_json::from_str(done.result_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        edited["rich_text"][0]["plain_text"], "Approved wording",
        "{edited}"
    );

    let (s, gone) = gw
        .call(
            Method::DELETE,
            &format!("/notion/comments/{comment}"),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 200, "{gone}");
    assert_eq!(gone["deleted"], true);
    let (s, again) = gw
        .call(
            Method::DELETE,
            &format!("/notion/comments/{comment}"),
            Some(&auto),
            None,
        )
        .await;
    assert_eq!(s, 404, "{again}");

    // A file attached over REST; a bad `attach_as` names the field.
    let (s, file) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{}/files", ids.root_page),
            Some(&auto),
            Some(json!({"content": "aGVsbG8=", "filename": "hello.txt"})),
        )
        .await;
    assert_eq!(s, 200, "{file}");
    assert_eq!(file["attached_as"], "file");
    let (s, err) = gw
        .call(
            Method::POST,
            &format!("/notion/pages/{}/files", ids.root_page),
            Some(&auto),
            Some(json!({"url": "https://example.com/a.png", "attach_as": "sticker"})),
        )
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"]["field"], "attach_as", "{err}");
}
