//! `POST /api/v1/notion/search` on the running server: following every page when asked.

use reqwest::Method;
use serde_json::json;

use crate::test_support::spawn_gateway;

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
