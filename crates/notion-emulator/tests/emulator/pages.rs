//! Pages: retrieve (filter_properties, truncation), create, update, move, property items.

use serde_json::{Value, json};

use crate::common::{Api, V2022, V2026, para, title_of};

#[tokio::test]
async fn retrieve_page_shape_url_and_timestamps() {
    let api = Api::demo().await;
    let id = api.ids().root_page.clone();
    let r = api.get(&format!("/v1/pages/{id}")).await;
    assert_eq!(r.status, 200);
    let p = &r.body;
    assert_eq!(p["object"], "page");
    assert_eq!(p["id"], json!(id));
    assert_eq!(
        p["url"],
        json!(format!(
            "https://www.notion.so/Demo-Root-{}",
            id.replace('-', "")
        ))
    );
    assert!(p["created_time"].as_str().unwrap().ends_with(":00.000Z"));
    assert_eq!(p["archived"], false);
    assert_eq!(p["in_trash"], false);
    assert_eq!(p["icon"]["type"], "emoji");
}

#[tokio::test]
async fn filter_properties_by_id_and_name() {
    let api = Api::demo().await;
    let row = api.ids().rows[1].clone();
    let r = api
        .get(&format!("/v1/pages/{row}?filter_properties=title&filter_properties=%255D~iZ&filter_properties=Done"))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let props = r.body["properties"].as_object().unwrap();
    let mut names: Vec<&String> = props.keys().collect();
    names.sort();
    assert_eq!(names, vec!["Done", "Name", "Score"]);
}

#[tokio::test]
async fn relation_truncated_at_25_with_has_more_and_full_via_property_item() {
    let api = Api::demo().await;
    let row = api.ids().many_relations_row.clone();
    let r = api.get(&format!("/v1/pages/{row}")).await;
    let rel = &r.body["properties"]["Projects"];
    assert_eq!(rel["relation"].as_array().unwrap().len(), 25);
    assert_eq!(rel["has_more"], true);
    assert_eq!(
        r.body["properties"]["Notes"]["rich_text"]
            .as_array()
            .unwrap()
            .len(),
        25
    );

    // Full list through the property item endpoint, paginated with next_url.
    let mut url = format!("/v1/pages/{row}/properties/%253CnJT?page_size=10");
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = api.get(&url).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["object"], "list");
        assert_eq!(r.body["type"], "property_item");
        assert_eq!(r.body["property_item"]["type"], "relation");
        for it in r.body["results"].as_array().unwrap() {
            assert_eq!(it["object"], "property_item");
            all.push(it["relation"]["id"].clone());
        }
        pages += 1;
        if r.body["has_more"] == false {
            assert_eq!(r.body["property_item"]["next_url"], Value::Null);
            break;
        }
        let next = r.body["property_item"]["next_url"]
            .as_str()
            .unwrap()
            .to_string();
        let cursor = r.body["next_cursor"].as_str().unwrap();
        assert!(cursor.len() < 16, "short cursor: {cursor}");
        assert!(next.contains(&format!("start_cursor={cursor}")));
        url = next.trim_start_matches(&api.emu.base_url()).to_string();
    }
    assert_eq!(all.len(), 30);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn property_item_simple_and_list_forms() {
    let api = Api::demo().await;
    let row = api.ids().rows[0].clone();
    let r = api
        .get(&format!("/v1/pages/{row}/properties/Lbi%255D"))
        .await;
    assert_eq!(r.body["object"], "property_item");
    assert_eq!(r.body["type"], "checkbox");
    let r = api.get(&format!("/v1/pages/{row}/properties/title")).await;
    assert_eq!(r.body["object"], "list");
    assert_eq!(
        r.body["results"][0]["title"]["plain_text"],
        "Write the spec"
    );
    let r = api
        .get(&format!("/v1/pages/{row}/properties/_x%253E%253D"))
        .await;
    assert_eq!(r.body["property_item"]["type"], "people");
    assert_eq!(r.body["results"][0]["people"]["object"], "user");
    let r = api.get(&format!("/v1/pages/{row}/properties/nope")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn create_page_under_page_with_children_icon_cover_and_position() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let r = api
        .post(
            "/v1/pages",
            json!({
                "parent": { "page_id": root.replace('-', "") },
                "properties": { "title": { "title": [{ "text": { "content": "Fresh page" } }] } },
                "icon": { "emoji": "🎉" },
                "cover": { "external": { "url": "https://example.com/c.png" } },
                "children": [para("one"), para("two")],
                "position": { "type": "page_start" }
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(title_of(&r.body), "Fresh page");
    assert_eq!(
        r.body["parent"],
        json!({ "type": "page_id", "page_id": root })
    );
    assert_eq!(r.body["icon"], json!({ "type": "emoji", "emoji": "🎉" }));
    assert_eq!(
        r.body["cover"]["external"]["url"],
        "https://example.com/c.png"
    );
    assert!(
        r.body["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.notion.so/Fresh-page-")
    );
    let kids = api.get(&format!("/v1/blocks/{id}/children")).await;
    assert_eq!(kids.body["results"].as_array().unwrap().len(), 2);
    // page_start: first child of the root is now the child_page block.
    let root_kids = api.get(&format!("/v1/blocks/{root}/children")).await;
    assert_eq!(root_kids.body["results"][0]["id"], json!(id));
    assert_eq!(root_kids.body["results"][0]["type"], "child_page");
    assert_eq!(
        root_kids.body["results"][0]["child_page"]["title"],
        "Fresh page"
    );
}

#[tokio::test]
async fn create_row_under_data_source_and_database() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api
        .post(
            "/v1/pages",
            json!({
                "parent": { "type": "data_source_id", "data_source_id": ids.data_source },
                "properties": {
                    "Name": { "title": [{ "text": { "content": "New task" } }] },
                    "Estimate": { "number": 4 },
                    "Priority": { "select": { "name": "Urgent" } },
                    "Tags": { "multi_select": [{ "name": "backend" }] },
                    "Status": { "status": { "name": "Done" } },
                    "Due": { "date": { "start": "2026-05-01" } },
                    "Assignees": { "people": [{ "id": ids.user }] },
                    "Projects": { "relation": [{ "id": ids.rows_2[0] }] },
                    "Done": { "checkbox": true },
                    "Link": { "url": "https://example.com" }
                }
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let p = &r.body;
    assert_eq!(
        p["parent"],
        json!({ "type": "data_source_id", "data_source_id": ids.data_source, "database_id": ids.database })
    );
    assert_eq!(p["properties"]["Priority"]["select"]["name"], "Urgent");
    assert_eq!(
        p["properties"]["Assignees"]["people"][0]["name"],
        "Ada Lovelace"
    );
    assert_eq!(p["properties"]["ID"]["unique_id"]["number"], 13);
    assert_eq!(p["properties"]["Projects"]["has_more"], false);
    // The new select option was added to the schema.
    let ds = api
        .get(&format!("/v1/data_sources/{}", ids.data_source))
        .await;
    let opts = ds.body["properties"]["Priority"]["select"]["options"]
        .as_array()
        .unwrap();
    assert!(opts.iter().any(|o| o["name"] == "Urgent"));
    // Unknown property.
    let r = api
        .post("/v1/pages", json!({ "parent": { "data_source_id": ids.data_source }, "properties": { "Nope": { "number": 1 } } }))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Nope is not a property that exists.");
    // database_id parent: fine for a single-source database, refused for two sources.
    let r = api
        .post("/v1/pages", json!({ "parent": { "database_id": ids.simple_database }, "properties": { "Title": { "title": [{ "text": { "content": "Book" } }] } } }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["parent"]["data_source_id"],
        json!(ids.simple_data_source)
    );
    let r = api
        .post(
            "/v1/pages",
            json!({ "parent": { "database_id": ids.database } }),
        )
        .await;
    assert_eq!(r.status, 400);
    // Missing parent.
    let r = api.post("/v1/pages", json!({})).await;
    assert_eq!(
        r.message(),
        "body failed validation: body.parent should be defined, instead was `undefined`."
    );
    // Legacy response parent on 2022-06-28.
    let r = api
        .call_v(
            reqwest::Method::GET,
            &format!("/v1/pages/{}", ids.rows[0]),
            None,
            V2022,
        )
        .await;
    assert_eq!(
        r.body["parent"],
        json!({ "type": "database_id", "database_id": ids.database })
    );
}

#[tokio::test]
async fn update_page_properties_trash_lock_and_versions() {
    let api = Api::demo().await;
    let row = api.ids().rows[2].clone();
    let r = api
        .patch(&format!("/v1/pages/{row}"), json!({ "properties": { "Estimate": { "number": 42 }, "Due": { "date": null } }, "is_locked": true, "icon": { "emoji": "✅" } }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["Estimate"]["number"], 42);
    assert_eq!(r.body["properties"]["Due"]["date"], Value::Null);
    assert_eq!(r.body["is_locked"], true);
    // Computed properties cannot be written.
    let r = api
        .patch(
            &format!("/v1/pages/{row}"),
            json!({ "properties": { "Score": { "formula": {} } } }),
        )
        .await;
    assert_eq!(r.status, 400);
    // archived on 2025-09-03 trashes; on 2026-03-11 it is rejected.
    let r = api
        .patch(&format!("/v1/pages/{row}"), json!({ "archived": true }))
        .await;
    assert_eq!(r.body["in_trash"], true);
    assert_eq!(r.body["archived"], true);
    let r = api
        .call_v(
            reqwest::Method::PATCH,
            &format!("/v1/pages/{row}"),
            Some(json!({ "archived": false })),
            V2026,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    let r = api
        .call_v(
            reqwest::Method::PATCH,
            &format!("/v1/pages/{row}"),
            Some(json!({ "in_trash": false })),
            V2026,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["in_trash"], false);
    assert!(r.body.get("archived").is_none());
    // Title change updates the url.
    let page = api.ids().child_page.clone();
    let r = api.patch(&format!("/v1/pages/{page}"), json!({ "properties": { "title": { "title": [{ "text": { "content": "Renamed page" } }] } } })).await;
    assert!(r.body["url"].as_str().unwrap().contains("Renamed-page-"));
}

#[tokio::test]
async fn move_page_between_pages_and_into_a_data_source() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api
        .post(
            &format!("/v1/pages/{}/move", ids.grandchild_page),
            json!({ "parent": { "page_id": ids.root_page } }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["parent"]["page_id"], json!(ids.root_page));
    let kids = api
        .get(&format!("/v1/blocks/{}/children", ids.child_page))
        .await;
    assert!(
        !kids.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == json!(ids.grandchild_page))
    );
    let r = api.post(&format!("/v1/pages/{}/move", ids.grandchild_page), json!({ "parent": { "type": "data_source_id", "data_source_id": ids.simple_data_source } })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["parent"]["type"], "data_source_id");
    assert_eq!(
        r.body["properties"]["Title"]["title"][0]["plain_text"],
        "Deep Notes"
    );
}

#[tokio::test]
async fn programmatic_store_access() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let id = api.emu.create_page(&root, "Made by a test").unwrap();
    let ids = api
        .emu
        .append_children(&id, (0..150).map(|i| para(&format!("p{i}"))).collect())
        .unwrap();
    assert_eq!(ids.len(), 150);
    assert_eq!(api.emu.child_ids(&id).len(), 150);
    let obj = api.emu.get_object(&id).unwrap();
    assert_eq!(obj["object"], "page");
    let r = api.get(&format!("/v1/pages/{id}")).await;
    assert_eq!(title_of(&r.body), "Made by a test");
    assert!(
        api.emu
            .append_children(&id, vec![json!({ "type": "child_page", "child_page": {} })])
            .is_err()
    );
}
