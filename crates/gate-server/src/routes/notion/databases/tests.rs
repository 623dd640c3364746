//! Databases on the running server: queries with a cursor that flatten every property
//! type, and schemas by data source (with sorts, icons, blocks and positions).

use reqwest::Method;
use serde_json::{Value, json};

use crate::test_support::spawn_gateway;

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
