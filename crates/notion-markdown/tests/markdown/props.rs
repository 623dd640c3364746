//! Property flattening: snapshots over recorded pages and data sources, plus every type that
//! the recordings lack (verification, place, button, formula and rollup variants, truncated
//! relations, unknown types) and the defects of the original system.

use notion_client::models::{DataSource, Page, PropertyValue};
use notion_markdown::{
    FlatProperty, flatten_page, flatten_page_text, flatten_property, flatten_schema,
};
use serde_json::{Value, json};

use crate::common::fixture;

fn prop(v: Value) -> FlatProperty {
    let p: PropertyValue = serde_json::from_value(v).expect("property value");
    flatten_property(&p)
}

#[test]
fn recorded_row_with_every_common_type_snapshot() {
    let page: Page =
        serde_json::from_value(fixture("notion_ruby_mapping/retrieve_page_db_second.json"))
            .expect("page");
    let mut out = serde_json::Map::new();
    out.insert("values".into(), Value::Object(flatten_page(&page)));
    out.insert(
        "text".into(),
        serde_json::to_value(flatten_page_text(&page)).expect("json"),
    );
    insta::assert_json_snapshot!("flatten_recorded_row", out);
}

#[test]
fn recorded_query_rows_flatten() {
    let list = fixture("notion_ruby_mapping/query_data_source_select_multi_values.json");
    for row in list["results"].as_array().expect("results") {
        let page: Page = serde_json::from_value(row.clone()).expect("row");
        let flat = flatten_page(&page);
        assert_eq!(flat.len(), page.properties.as_ref().map_or(0, |p| p.len()));
    }
}

#[test]
fn every_other_type_snapshot() {
    let user =
        json!({"object": "user", "id": "40673a87-d8ed-41e0-aa55-7f0e8ace24cd", "name": "Ada"});
    let cases = json!({
        "rich_text_all_segments": {"id": "a", "type": "rich_text", "rich_text": [
            {"type": "text", "text": {"content": "one ", "link": null}, "plain_text": "one ", "href": null},
            {"type": "text", "text": {"content": "two", "link": null}, "plain_text": "two", "href": null}]},
        "phone_number": {"id": "b", "type": "phone_number", "phone_number": "+41 1234"},
        "date_range_tz": {"id": "c", "type": "date", "date": {"start": "2026-03-01T10:00:00.000+01:00", "end": "2026-03-02", "time_zone": "Europe/Zurich"}},
        "date_null": {"id": "c2", "type": "date", "date": null},
        "status": {"id": "d", "type": "status", "status": {"id": "s", "name": "In progress", "color": "blue"}},
        "people": {"id": "e", "type": "people", "people": [user, {"object": "user", "id": "50673a87-d8ed-41e0-aa55-7f0e8ace24cd"}]},
        "files": {"id": "f", "type": "files", "files": [{"name": "a.pdf", "type": "external", "external": {"url": "https://x/a.pdf"}}]},
        "formula_string": {"id": "g1", "type": "formula", "formula": {"type": "string", "string": "hi"}},
        "formula_number": {"id": "g2", "type": "formula", "formula": {"type": "number", "number": 2.5}},
        "formula_boolean": {"id": "g3", "type": "formula", "formula": {"type": "boolean", "boolean": false}},
        "formula_date": {"id": "g4", "type": "formula", "formula": {"type": "date", "date": {"start": "2026-01-01", "end": null, "time_zone": null}}},
        "relation_truncated": {"id": "h", "type": "relation", "relation": [{"id": "60673a87-d8ed-41e0-aa55-7f0e8ace24cd"}], "has_more": true},
        "relation_complete": {"id": "h2", "type": "relation", "relation": [], "has_more": false},
        "rollup_number": {"id": "i1", "type": "rollup", "rollup": {"type": "number", "number": 7, "function": "sum"}},
        "rollup_date": {"id": "i2", "type": "rollup", "rollup": {"type": "date", "date": {"start": "2026-02-01", "end": null, "time_zone": null}, "function": "latest_date"}},
        "rollup_array": {"id": "i3", "type": "rollup", "rollup": {"type": "array", "function": "show_original", "array": [
            {"type": "title", "title": [{"type": "text", "text": {"content": "Row A", "link": null}, "plain_text": "Row A", "href": null}]},
            {"type": "number", "number": 3},
            {"type": "rollup", "rollup": {"type": "array", "function": "show_original", "array": [{"type": "checkbox", "checkbox": true}]}}]}},
        "rollup_unsupported": {"id": "i4", "type": "rollup", "rollup": {"type": "unsupported", "unsupported": {}, "function": "count_per_group"}},
        "rollup_incomplete": {"id": "i5", "type": "rollup", "rollup": {"type": "incomplete", "incomplete": {}, "function": "sum"}},
        "created_by": {"id": "j", "type": "created_by", "created_by": user},
        "unique_id": {"id": "k", "type": "unique_id", "unique_id": {"prefix": "TASK", "number": 12}},
        "unique_id_no_prefix": {"id": "k2", "type": "unique_id", "unique_id": {"prefix": null, "number": 12}},
        "verification": {"id": "l", "type": "verification", "verification": {"state": "verified", "verified_by": user, "date": {"start": "2026-01-01", "end": "2026-04-01", "time_zone": null}}},
        "verification_unverified": {"id": "l2", "type": "verification", "verification": {"state": "unverified", "verified_by": null, "date": null}},
        "button": {"id": "m", "type": "button", "button": {}},
        "place": {"id": "n", "type": "place", "place": {"lat": 47.37, "lon": 8.54, "name": "Zurich HB", "address": "Bahnhofplatz"}},
        "place_null": {"id": "n2", "type": "place", "place": null},
        "checkbox": {"id": "o", "type": "checkbox", "checkbox": true},
        "unknown": {"id": "p", "type": "teleport", "teleport": {"to": "mars"}},
        "id_only": {"id": "q"}
    });
    let out: serde_json::Map<String, Value> = cases
        .as_object()
        .expect("cases")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(prop(v.clone())).expect("json"),
            )
        })
        .collect();
    insta::assert_json_snapshot!("flatten_every_other_type", out);
}

#[test]
fn schema_keeps_options_and_relation_targets_and_tolerates_empty_descriptions() {
    let ds: DataSource = serde_json::from_value(fixture(
        "notion_ruby_mapping/retrieve_data_source_data_source.json",
    ))
    .expect("ds");
    let schema = flatten_schema(&ds);
    insta::assert_json_snapshot!("flatten_schema_recorded", schema);
    let mut v = fixture("notion_ruby_mapping/retrieve_data_source_data_source.json");
    if let Some(props) = v["properties"].as_object_mut() {
        for p in props.values_mut() {
            p["description"] = json!("");
        }
    }
    let ds: DataSource = serde_json::from_value(v).expect("ds");
    for (_, p) in flatten_schema(&ds) {
        assert_eq!(p["description"], Value::Null);
    }
}
