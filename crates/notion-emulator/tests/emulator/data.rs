//! Databases and data sources: containers, legacy shapes, create/update, schema changes,
//! templates, queries with filters, sorts and pagination.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, V2022, V2026, title_of};

fn titles(list: &Value) -> Vec<String> {
    list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(title_of)
        .collect()
}

async fn query(api: &Api, body: Value) -> crate::common::Resp {
    let ds = api.ids().data_source.clone();
    api.post(&format!("/v1/data_sources/{ds}/query"), body)
        .await
}

#[tokio::test]
async fn database_container_and_legacy_shape() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api.get(&format!("/v1/databases/{}", ids.database)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "database");
    let sources = r.body["data_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert!(
        sources
            .iter()
            .any(|s| s["id"] == json!(ids.data_source) && s["name"] == "Tasks")
    );
    assert!(r.body.get("properties").is_none());
    // Legacy: schema-bearing database for a single source; multi-source refused.
    let r = api
        .get_v(&format!("/v1/databases/{}", ids.simple_database), V2022)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["properties"]["Title"]["type"], "title");
    assert!(r.body.get("data_sources").is_none());
    let r = api
        .get_v(&format!("/v1/databases/{}", ids.database), V2022)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    // Data source objects.
    let r = api
        .get(&format!("/v1/data_sources/{}", ids.data_source))
        .await;
    assert_eq!(r.body["object"], "data_source");
    assert_eq!(
        r.body["parent"],
        json!({ "type": "database_id", "database_id": ids.database })
    );
    assert_eq!(r.body["database_parent"]["type"], "page_id");
    let types: std::collections::BTreeSet<String> = r.body["properties"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["type"].as_str().unwrap().to_string())
        .collect();
    for t in [
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "files",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "relation",
        "formula",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "verification",
        "button",
        "place",
    ] {
        assert!(types.contains(t), "missing property type {t}");
    }
}

#[tokio::test]
async fn create_and_update_database_and_data_sources() {
    let api = Api::demo().await;
    let root = api.ids().root_page.clone();
    let r = api
        .post(
            "/v1/databases",
            json!({
                "parent": { "type": "page_id", "page_id": root },
                "title": [{ "text": { "content": "Inventory" } }],
                "icon": { "type": "emoji", "emoji": "📦" },
                "initial_data_source": { "properties": { "Item": { "title": {} }, "Count": { "number": { "format": "number" } }, "Kind": { "select": { "options": [{ "name": "A", "color": "red" }] } } } }
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let db = r.body["id"].as_str().unwrap().to_string();
    let ds = r.body["data_sources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.body["data_sources"][0]["name"], "Inventory");
    // Add / rename / delete properties.
    let r = api
        .patch(&format!("/v1/data_sources/{ds}"), json!({ "properties": { "Owner": { "people": {} }, "Count": { "name": "Quantity" }, "Kind": null } }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let props = r.body["properties"].as_object().unwrap();
    assert!(props.contains_key("Owner") && props.contains_key("Quantity"));
    assert!(!props.contains_key("Count") && !props.contains_key("Kind"));
    let r = api
        .patch(
            &format!("/v1/data_sources/{ds}"),
            json!({ "properties": { "Missing": null } }),
        )
        .await;
    assert_eq!(r.status, 400);
    // A second data source.
    let r = api
        .post("/v1/data_sources", json!({ "parent": { "type": "database_id", "database_id": db }, "title": [{ "text": { "content": "Second" } }], "properties": { "Name": { "title": {} } } }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.get(&format!("/v1/databases/{db}")).await;
    assert_eq!(r.body["data_sources"].as_array().unwrap().len(), 2);
    // Update the container.
    let r = api
        .patch(
            &format!("/v1/databases/{db}"),
            json!({ "title": [{ "text": { "content": "Stock" } }], "is_locked": true }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"][0]["plain_text"], "Stock");
    // Legacy create with top-level properties.
    let r = api
        .call_v(Method::POST, "/v1/databases", Some(json!({ "parent": { "page_id": root }, "title": [{ "text": { "content": "Old style" } }], "properties": { "Name": { "title": {} } } })), V2022)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["properties"]["Name"]["type"], "title");
}

#[tokio::test]
async fn query_pagination_and_filter_properties() {
    let api = Api::demo().await;
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut body = json!({ "page_size": 5 });
        if let Some(c) = &cursor {
            body["start_cursor"] = json!(c);
        }
        let r = query(&api, body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["type"], "page_or_data_source");
        seen.extend(titles(&r.body));
        if r.body["has_more"] == false {
            break;
        }
        cursor = Some(r.body["next_cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), 12);
    // filter_properties in the query string limits each page's properties.
    let ds = api.ids().data_source.clone();
    let r = api
        .post(
            &format!(
                "/v1/data_sources/{ds}/query?filter_properties=title&filter_properties=swq%255C"
            ),
            json!({ "page_size": 1 }),
        )
        .await;
    let props = r.body["results"][0]["properties"].as_object().unwrap();
    assert_eq!(props.len(), 2, "{props:?}");
}

#[tokio::test]
async fn filters_over_property_types() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let count =
        |r: &crate::common::Resp| r.body["results"].as_array().map(|a| a.len()).unwrap_or(999);
    let cases: Vec<(Value, usize)> = vec![
        (
            json!({ "property": "Name", "title": { "contains": "the" } }),
            6,
        ),
        (
            json!({ "property": "Name", "title": { "starts_with": "write" } }),
            1,
        ),
        (
            json!({ "property": "Notes", "rich_text": { "is_empty": true } }),
            5,
        ),
        (
            json!({ "property": "Estimate", "number": { "greater_than": 10 } }),
            4,
        ),
        (
            json!({ "property": "Estimate", "number": { "is_empty": true } }),
            3,
        ),
        (
            json!({ "property": "Done", "checkbox": { "equals": true } }),
            4,
        ),
        (
            json!({ "property": "Priority", "select": { "equals": "High" } }),
            3,
        ),
        (
            json!({ "property": "Priority", "select": { "equals": ["High", "Low"] } }),
            6,
        ),
        (
            json!({ "property": "Priority", "select": { "is_empty": true } }),
            3,
        ),
        (
            json!({ "property": "Tags", "multi_select": { "contains": "docs" } }),
            4,
        ),
        (
            json!({ "property": "Status", "status": { "equals": "Done" } }),
            4,
        ),
        (
            json!({ "property": "Due", "date": { "before": "2026-03-05" } }),
            4,
        ),
        (
            json!({ "property": "Due", "date": { "on_or_after": "2026-03-10" } }),
            2,
        ),
        (
            json!({ "property": "Due", "date": { "is_empty": true } }),
            1,
        ),
        (
            json!({ "property": "Assignees", "people": { "contains": ids.user } }),
            8,
        ),
        (
            json!({ "property": "Projects", "relation": { "contains": ids.rows_2[3] } }),
            2,
        ),
        (
            json!({ "property": "Projects", "relation": { "is_empty": true } }),
            7,
        ),
        (
            json!({ "property": "Link", "url": { "is_not_empty": true } }),
            6,
        ),
        (
            json!({ "property": "Contact", "email": { "ends_with": "@example.com" } }),
            6,
        ),
        (
            json!({ "property": "Phone", "phone_number": { "is_not_empty": true } }),
            2,
        ),
        (
            json!({ "property": "ID", "unique_id": { "less_than_or_equal_to": 3 } }),
            3,
        ),
        (
            json!({ "property": "Score", "formula": { "number": { "greater_than": 100 } } }),
            4,
        ),
        (
            json!({ "property": "Verification", "verification": { "status": "verified" } }),
            1,
        ),
        (
            json!({ "timestamp": "created_time", "created_time": { "after": "2000-01-01" } }),
            12,
        ),
        (
            json!({ "timestamp": "last_edited_time", "last_edited_time": { "before": "2000-01-01" } }),
            0,
        ),
        // Compound, two levels.
        (
            json!({ "and": [ { "property": "Done", "checkbox": { "equals": false } }, { "or": [ { "property": "Priority", "select": { "equals": "High" } }, { "property": "Tags", "multi_select": { "contains": "frontend" } } ] } ] }),
            4,
        ),
        (
            json!({ "or": [ { "property": "Name", "title": { "equals": "Celebrate" } }, { "property": "ID", "unique_id": { "equals": 1 } } ] }),
            2,
        ),
    ];
    for (filter, expected) in cases {
        let r = query(&api, json!({ "filter": filter })).await;
        assert_eq!(r.status, 200, "{filter} → {:?}", r.body);
        assert_eq!(count(&r), expected, "{filter} → {:?}", titles(&r.body));
    }
    // Three levels of compound filters are rejected.
    let r = query(&api, json!({ "filter": { "and": [ { "or": [ { "and": [ { "property": "Done", "checkbox": { "equals": true } } ] } ] } ] } })).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    assert!(
        r.message().contains("body.filter.and[0].or[0].and"),
        "{}",
        r.message()
    );
    // Unknown property.
    let r = query(
        &api,
        json!({ "filter": { "property": "Nope", "checkbox": { "equals": true } } }),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Could not find property with name or id: Nope");
}

#[tokio::test]
async fn sorts_by_property_and_timestamp() {
    let api = Api::demo().await;
    let r = query(
        &api,
        json!({ "sorts": [{ "property": "Name", "direction": "ascending" }] }),
    )
    .await;
    let t = titles(&r.body);
    let mut sorted = t.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(t, sorted);
    let r = query(
        &api,
        json!({ "sorts": [{ "property": "Estimate", "direction": "descending" }] }),
    )
    .await;
    let est: Vec<Option<f64>> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["properties"]["Estimate"]["number"].as_f64())
        .collect();
    assert_eq!(est[0], Some(16.5));
    assert_eq!(est[11], None, "empty values last");
    let r = query(
        &api,
        json!({ "sorts": [{ "timestamp": "created_time", "direction": "descending" }] }),
    )
    .await;
    assert_eq!(title_of(&r.body["results"][0]), "Celebrate");
    let r = query(&api, json!({ "sorts": [{ "property": "Priority", "direction": "ascending" }, { "property": "Name", "direction": "descending" }] })).await;
    assert_eq!(r.status, 200);
    let r = query(
        &api,
        json!({ "sorts": [{ "property": "Nope", "direction": "ascending" }] }),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn legacy_database_query_and_templates() {
    let api = Api::demo().await;
    let ids = api.ids().clone();
    let r = api
        .call_v(
            Method::POST,
            &format!("/v1/databases/{}/query", ids.simple_database),
            Some(json!({ "filter": { "property": "Read", "checkbox": { "equals": true } } })),
            V2022,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["type"], "page_or_database");
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["results"][0]["parent"]["type"], "database_id");
    // The legacy route does not exist on newer versions.
    let r = api
        .post(
            &format!("/v1/databases/{}/query", ids.simple_database),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "invalid_request_url");
    // Templates: no list envelope, pagination.
    let r = api
        .get(&format!(
            "/v1/data_sources/{}/templates?page_size=1",
            ids.data_source
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["templates"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["has_more"], true);
    let c = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = api
        .get(&format!(
            "/v1/data_sources/{}/templates?page_size=1&start_cursor={c}",
            ids.data_source
        ))
        .await;
    assert_eq!(r.body["templates"][0]["name"], "Feature");
    assert_eq!(r.body["has_more"], false);
    assert!(r.body.get("object").is_none());
    // 2026-03-11 rows carry no `archived`.
    let r = api
        .call_v(
            Method::POST,
            &format!("/v1/data_sources/{}/query", ids.data_source),
            Some(json!({ "page_size": 1 })),
            V2026,
        )
        .await;
    assert!(r.body["results"][0].get("archived").is_none());
    assert_eq!(r.body["results"][0]["in_trash"], false);
}
