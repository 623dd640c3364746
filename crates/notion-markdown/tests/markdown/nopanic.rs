//! Property tests: no panic on arbitrary Markdown or arbitrary block JSON, and plans of
//! arbitrary Markdown always respect the limits.

use notion_client::models::Block;
use notion_markdown::{
    NoChildren, RenderOptions, parse_markdown, plan_markdown, render_markdown, render_plain_text,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::plan::assert_plan_within_limits;
use crate::roundtrip::through_blocks;

/// Markdown-ish strings: fragments of syntax glued together, plus arbitrary text.
fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("# ".to_string()),
        Just("- ".to_string()),
        Just("1. ".to_string()),
        Just("> ".to_string()),
        Just("> [!NOTE]\n".to_string()),
        Just("```rust\n".to_string()),
        Just("```".to_string()),
        Just("| a | b |\n| --- | --- |\n".to_string()),
        Just("**".to_string()),
        Just("*".to_string()),
        Just("~~".to_string()),
        Just("`".to_string()),
        Just("$".to_string()),
        Just("$$".to_string()),
        Just("[x](http://e.com)".to_string()),
        Just("![i](http://e.com/i.png)".to_string()),
        Just("<details>\n<summary>s</summary>\n".to_string()),
        Just("</details>".to_string()),
        Just("<u>".to_string()),
        Just("</u>".to_string()),
        Just("<span style=\"color:red\">".to_string()),
        Just("</span>".to_string()),
        Just("<!-- columns -->".to_string()),
        Just("- [ ] ".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("  ".to_string()),
        Just("<https://x.y>".to_string()),
        "[a-z ]{0,12}",
        "\\PC{0,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn rich_text() -> impl Strategy<Value = Value> {
    let ann = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            Just("default"),
            Just("red"),
            Just("blue_background"),
            Just("teal")
        ],
    );
    let text = "\\PC{0,20}";
    (prop_oneof![Just(0u8), Just(1), Just(2), Just(3)], text, ann).prop_map(|(kind, t, (b, i, s, u, c, color))| {
        let annotations = json!({"bold": b, "italic": i, "strikethrough": s, "underline": u, "code": c, "color": color});
        match kind {
            0 => json!({"type": "text", "text": {"content": t, "link": null}, "annotations": annotations, "plain_text": t, "href": null}),
            1 => json!({"type": "text", "text": {"content": t, "link": {"url": t}}, "annotations": annotations}),
            2 => json!({"type": "equation", "equation": {"expression": t}, "annotations": annotations}),
            _ => json!({"type": "mention", "mention": {"type": "date", "date": {"start": t}}, "plain_text": t, "annotations": annotations}),
        }
    })
}

fn block_json() -> impl Strategy<Value = Value> {
    let ty = prop_oneof![
        Just("paragraph"),
        Just("heading_1"),
        Just("heading_4"),
        Just("bulleted_list_item"),
        Just("numbered_list_item"),
        Just("to_do"),
        Just("toggle"),
        Just("quote"),
        Just("callout"),
        Just("code"),
        Just("equation"),
        Just("table"),
        Just("table_row"),
        Just("image"),
        Just("bookmark"),
        Just("child_page"),
        Just("synced_block"),
        Just("column_list"),
        Just("tab"),
        Just("meeting_notes"),
        Just("unsupported"),
        Just("weird_type"),
    ];
    (ty, prop::collection::vec(rich_text(), 0..5), any::<bool>(), any::<Option<u64>>(), "\\PC{0,10}").prop_map(
        |(ty, rt, flag, n, s)| {
            let content = json!({
                "rich_text": rt, "checked": flag, "is_toggleable": flag, "list_start_index": n, "language": s,
                "expression": s, "title": s, "url": s, "cells": [rt, []], "table_width": n.map(|n| n % 5),
                "has_column_header": flag, "type": "external", "external": {"url": s}, "caption": [],
                "icon": if flag { json!({"type": "emoji", "emoji": s}) } else { Value::Null },
                "synced_from": null, "block_type": s,
            });
            json!({"object": "block", "id": "00000000-0000-4000-8000-000000000001", "type": ty, ty: content, "has_children": flag})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_markdown_never_panics_and_plans_within_limits(md in markdown()) {
        let drafts = parse_markdown(&md);
        let _ = drafts;
        let plan = plan_markdown(&md);
        assert_plan_within_limits(&plan);
        // Rendering the parsed blocks and parsing again must not panic either, and the second
        // trip is stable for what the first produced.
        let once = through_blocks(&md);
        let _twice = through_blocks(&once);
    }

    #[test]
    fn arbitrary_block_json_never_panics(blocks in prop::collection::vec(block_json(), 0..8)) {
        let parsed: Vec<Block> = blocks.iter().map(notion_markdown::block_from_json).collect();
        let _ = render_markdown(&parsed, &NoChildren, &RenderOptions::default().colors(true));
        let _ = render_plain_text(&parsed, &NoChildren, &RenderOptions::default());
        let _ = notion_markdown::render_json(&blocks, &|_| blocks.clone(), &RenderOptions::default().max_depth(3));
    }

    #[test]
    fn arbitrary_bytes_as_markdown_never_panic(s in "\\PC{0,200}") {
        let _ = plan_markdown(&s);
        let _ = through_blocks(&s);
    }
}
