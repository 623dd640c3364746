//! Pages on the running server: the read's formats, depth and block caps; long Markdown
//! split to Notion's limits, with partial failures that say what was written; rows created
//! from simple values with the schema; and (in `read`) the page and its children requested
//! together.

mod read;

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::{audit, spawn_gateway};

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
