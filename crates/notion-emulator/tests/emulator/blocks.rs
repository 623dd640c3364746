//! Blocks: children pagination, append positions per version, size limits, update, delete,
//! version-specific type names.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, V2022, V2025, V2026, para, texts};

#[tokio::test]
async fn children_of_the_big_page_paginate_with_uuid_cursors() {
    let api = Api::demo().await;
    let big = api.ids().big_page.clone();
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => format!("/v1/blocks/{big}/children"),
            Some(c) => format!("/v1/blocks/{big}/children?start_cursor={c}"),
        };
        let r = api.get(&path).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["object"], "list");
        assert_eq!(r.body["type"], "block");
        assert_eq!(r.body["block"], json!({}));
        all.extend(texts(&r.body));
        pages += 1;
        if r.body["has_more"] == false {
            assert_eq!(r.body["next_cursor"], Value::Null);
            break;
        }
        let c = r.body["next_cursor"].as_str().unwrap().to_string();
        assert_eq!(c.len(), 36, "uuid-looking cursor");
        cursor = Some(c);
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 250);
    assert_eq!(all[0], "Paragraph 1");
    assert_eq!(all[249], "Paragraph 250");
    // page_size is clamped to 100; a bad cursor is a validation error.
    let r = api
        .get(&format!("/v1/blocks/{big}/children?page_size=500"))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 100);
    let r = api
        .get(&format!("/v1/blocks/{big}/children?page_size=7"))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 7);
    let r = api
        .get(&format!("/v1/blocks/{big}/children?start_cursor=bogus"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
}

#[tokio::test]
async fn nested_blocks_have_children() {
    let api = Api::demo().await;
    let b = api.ids().blocks.clone();
    let toggle = api.get(&format!("/v1/blocks/{}", b["toggle"])).await;
    assert_eq!(toggle.body["has_children"], true);
    let inner = api
        .get(&format!("/v1/blocks/{}/children", b["toggle"]))
        .await;
    assert_eq!(inner.body["results"][0]["type"], "toggle");
    let rows = api
        .get(&format!("/v1/blocks/{}/children", b["table"]))
        .await;
    assert_eq!(rows.body["results"].as_array().unwrap().len(), 3);
    assert_eq!(rows.body["results"][0]["type"], "table_row");
    let cols = api
        .get(&format!("/v1/blocks/{}/children", b["column_list"]))
        .await;
    assert_eq!(cols.body["results"].as_array().unwrap().len(), 2);
    // A page id works as a block id and renders as child_page.
    let page = api
        .get(&format!("/v1/blocks/{}", api.ids().child_page))
        .await;
    assert_eq!(page.body["type"], "child_page");
    assert_eq!(page.body["child_page"]["title"], "Projects Overview");
}

async fn fresh_parent(api: &Api) -> String {
    let id = api
        .emu
        .create_page(&api.ids().root_page, "Append target")
        .unwrap();
    api.emu
        .append_children(&id, vec![para("a"), para("b"), para("c")])
        .unwrap();
    id
}

#[tokio::test]
async fn append_with_each_position() {
    let api = Api::demo().await;
    let p = fresh_parent(&api).await;
    let kids = api.emu.child_ids(&p);
    let path = format!("/v1/blocks/{p}/children");
    // end (default): only the new blocks come back.
    let r = api
        .patch(
            &path,
            json!({ "children": [para("end")], "position": { "type": "end" } }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(texts(&r.body), vec!["end"]);
    assert_eq!(r.body["has_more"], false);
    // start: the new block and the siblings after it, as recorded.
    let r = api
        .patch(
            &path,
            json!({ "children": [para("start")], "position": { "type": "start" } }),
        )
        .await;
    assert_eq!(texts(&r.body), vec!["start", "a", "b", "c", "end"]);
    // after_block.
    let r = api
        .patch(&path, json!({ "children": [para("mid1"), para("mid2")], "position": { "type": "after_block", "after_block": { "id": kids[0] } } }))
        .await;
    assert_eq!(texts(&r.body), vec!["mid1", "mid2", "b", "c", "end"]);
    // legacy `after` on 2025-09-03 and 2022-06-28.
    let r = api
        .call_v(
            Method::PATCH,
            &path,
            Some(json!({ "children": [para("after-b")], "after": kids[1] })),
            V2025,
        )
        .await;
    assert_eq!(texts(&r.body), vec!["after-b", "c", "end"]);
    let r = api
        .call_v(
            Method::PATCH,
            &path,
            Some(json!({ "children": [para("legacy")], "after": kids[2] })),
            V2022,
        )
        .await;
    assert_eq!(r.status, 200);
    let all = api.get(&path).await;
    assert_eq!(
        texts(&all.body),
        vec![
            "start", "a", "mid1", "mid2", "b", "after-b", "c", "legacy", "end"
        ]
    );
    // `after` is gone on 2026-03-11; `after` + `position` is an error on 2025-09-03.
    let r = api
        .call_v(
            Method::PATCH,
            &path,
            Some(json!({ "children": [para("x")], "after": kids[0] })),
            V2026,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_error");
    assert!(r.message().contains("body.after"), "{}", r.message());
    let r = api
        .call_v(
            Method::PATCH,
            &path,
            Some(
                json!({ "children": [para("x")], "after": kids[0], "position": { "type": "end" } }),
            ),
            V2025,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .call_v(
            Method::PATCH,
            &path,
            Some(json!({ "children": [para("x")], "position": { "type": "start" } })),
            V2026,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["results"][0].get("archived").is_none());
    // after_block naming a block that is not a child, or no block at all.
    let other = api.ids().blocks["paragraph"].clone();
    let r = api
        .patch(&path, json!({ "children": [para("x")], "position": { "type": "after_block", "after_block": { "id": other } } }))
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .patch(&path, json!({ "children": [para("x")], "position": { "type": "after_block", "after_block": { "id": "2600ce2a-6520-801c-86cb-fd0b73eb91de" } } }))
        .await;
    assert_eq!(r.status, 404);
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

#[tokio::test]
async fn size_limits_name_the_path() {
    let api = Api::demo().await;
    let p = fresh_parent(&api).await;
    let path = format!("/v1/blocks/{p}/children");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "children": [para(&long(2001))] }),
            "body failed validation: body.children[0].paragraph.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`.",
        ),
        (
            json!({ "children": [{ "paragraph": { "rich_text": [{ "text": { "content": "l", "link": { "url": format!("https://e.com/{}", long(1990)) } } }] } }] }),
            "body failed validation: body.children[0].paragraph.rich_text[0].text.link.url.length should be ≤ `2000`, instead was `2004`.",
        ),
        (
            json!({ "children": [{ "equation": { "expression": long(1001) } }] }),
            "body failed validation: body.children[0].equation.expression.length should be ≤ `1000`, instead was `1001`.",
        ),
        (
            json!({ "children": [{ "paragraph": { "rich_text": [{ "equation": { "expression": long(1001) } }] } }] }),
            "body failed validation: body.children[0].paragraph.rich_text[0].equation.expression.length should be ≤ `1000`, instead was `1001`.",
        ),
        (
            json!({ "children": (0..101).map(|i| para(&i.to_string())).collect::<Vec<_>>() }),
            "body failed validation: body.children.length should be ≤ `100`, instead was `101`.",
        ),
        (
            json!({ "children": [{ "paragraph": { "rich_text": (0..101).map(|_| json!({ "text": { "content": "r" } })).collect::<Vec<_>>() } }] }),
            "body failed validation: body.children[0].paragraph.rich_text.length should be ≤ `100`, instead was `101`.",
        ),
    ];
    for (body, msg) in cases {
        let r = api.patch(&path, body).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.code(), "validation_error");
        assert_eq!(r.message(), msg);
    }
    // Block update: the path starts at the type key (RS/endpoints/blocks/tests/update_400.json).
    let child = api.emu.child_ids(&p)[0].clone();
    let r = api
        .patch(
            &format!("/v1/blocks/{child}"),
            json!({ "paragraph": { "rich_text": [{ "text": { "content": long(2001) } }] } }),
        )
        .await;
    assert_eq!(
        r.message(),
        "body failed validation: body.paragraph.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`."
    );
    // Nothing was appended by the refused requests.
    assert_eq!(api.emu.child_ids(&p).len(), 3);
}

#[tokio::test]
async fn nesting_depth_block_count_and_payload_size() {
    let api = Api::demo().await;
    let p = fresh_parent(&api).await;
    let path = format!("/v1/blocks/{p}/children");
    let two =
        json!({ "children": [{ "toggle": { "rich_text": [], "children": [para("level 2")] } }] });
    assert_eq!(api.patch(&path, two).await.status, 200);
    let three = json!({ "children": [{ "toggle": { "rich_text": [], "children": [{ "toggle": { "rich_text": [], "children": [para("level 3")] } }] } }] });
    let r = api.patch(&path, three).await;
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("body failed validation: body.children[0].toggle.children[0].toggle.children should be not present"), "{}", r.message());
    // 11 × (1 + 99) = 1100 block elements > 1000.
    let big: Vec<Value> = (0..11)
        .map(|_| json!({ "toggle": { "rich_text": [], "children": (0..99).map(|_| para("x")).collect::<Vec<_>>() } }))
        .collect();
    let r = api.patch(&path, json!({ "children": big })).await;
    assert_eq!(r.status, 400);
    assert!(
        r.message().contains("`1000` block elements"),
        "{}",
        r.message()
    );
    // > 500 KB.
    let huge: Vec<Value> = (0..100)
        .map(|_| json!({ "paragraph": { "rich_text": (0..3).map(|_| json!({ "text": { "content": long(1900) } })).collect::<Vec<_>>() } }))
        .collect();
    let r = api.patch(&path, json!({ "children": huge })).await;
    assert_eq!(r.status, 400);
    assert!(
        r.message().contains("body.length should be ≤ `500000`"),
        "{}",
        r.message()
    );
}

#[tokio::test]
async fn update_and_delete_blocks() {
    let api = Api::demo().await;
    let p = fresh_parent(&api).await;
    let id = api.emu.child_ids(&p)[0].clone();
    let r = api
        .patch(&format!("/v1/blocks/{id}"), json!({ "paragraph": { "rich_text": [{ "text": { "content": "changed" } }], "color": "red" } }))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["paragraph"]["rich_text"][0]["plain_text"], "changed");
    assert_eq!(r.body["paragraph"]["color"], "red");
    // Type mismatch.
    let r = api
        .patch(
            &format!("/v1/blocks/{id}"),
            json!({ "to_do": { "checked": true } }),
        )
        .await;
    assert_eq!(r.status, 400);
    // Delete → trashed, hidden from children.
    let r = api
        .call(Method::DELETE, &format!("/v1/blocks/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["in_trash"], true);
    assert_eq!(r.body["archived"], true);
    assert_eq!(api.emu.child_ids(&p).len(), 2);
    let r = api.get(&format!("/v1/blocks/{id}")).await;
    assert_eq!(r.body["in_trash"], true);
    // Editing a trashed block is refused; restoring works.
    let r = api
        .patch(
            &format!("/v1/blocks/{id}"),
            json!({ "paragraph": { "color": "blue" } }),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .patch(&format!("/v1/blocks/{id}"), json!({ "in_trash": false }))
        .await;
    assert_eq!(r.body["in_trash"], false);
    assert_eq!(api.emu.child_ids(&p).len(), 3);
    // 2026-03-11: delete answers without `archived`.
    let r = api
        .call_v(Method::DELETE, &format!("/v1/blocks/{id}"), None, V2026)
        .await;
    assert_eq!(r.body["in_trash"], true);
    assert!(r.body.get("archived").is_none());
}

#[tokio::test]
async fn meeting_notes_type_name_per_version() {
    let api = Api::demo().await;
    let id = api.ids().blocks["meeting_notes"].clone();
    let r = api.get_v(&format!("/v1/blocks/{id}"), V2026).await;
    assert_eq!(r.body["type"], "meeting_notes");
    assert!(r.body.get("meeting_notes").is_some());
    assert!(r.body.get("archived").is_none());
    let r = api.get_v(&format!("/v1/blocks/{id}"), V2025).await;
    assert_eq!(r.body["type"], "transcription");
    assert!(r.body.get("transcription").is_some());
    assert_eq!(r.body["archived"], false);
    assert_eq!(r.body["in_trash"], false);
}
