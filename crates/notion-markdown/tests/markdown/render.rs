//! Snapshot of a page holding every block type (Markdown and plain text), and focused
//! rendering checks.

use std::collections::HashMap;

use notion_client::ids::BlockId;
use notion_client::models::Block;
use notion_markdown::{ChildSource, RenderOptions, render_markdown, render_plain_text};
use serde_json::{Value, json};

/// A page: the top-level blocks and the children of every block.
pub struct Page {
    pub top: Vec<Block>,
    pub children: HashMap<BlockId, Vec<Block>>,
}

fn rt(text: &str) -> Value {
    json!({"type": "text", "text": {"content": text, "link": null},
           "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
           "plain_text": text, "href": null})
}

fn styled(text: &str, ann: Value) -> Value {
    let mut v = rt(text);
    for (k, x) in ann.as_object().cloned().unwrap_or_default() {
        v["annotations"][k] = x;
    }
    v
}

struct Ids(u64);

impl Ids {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("a0000000-0000-4000-8000-{:012x}", self.0)
    }
}

fn block(
    ids: &mut Ids,
    ty: &str,
    content: Value,
    kids: Vec<Value>,
    children: &mut HashMap<BlockId, Vec<Block>>,
) -> Value {
    let id = ids.next();
    let v = json!({"object": "block", "id": id, "type": ty, ty: content, "has_children": !kids.is_empty(),
                   "in_trash": false, "created_time": "2026-01-01T00:00:00.000Z"});
    if !kids.is_empty() {
        let parsed = kids
            .iter()
            .map(|k| serde_json::from_value(k.clone()).expect("child block"))
            .collect();
        children.insert(BlockId::parse(&id).expect("id"), parsed);
    }
    v
}

/// A page with every block type, every annotation and every mention type.
pub fn every_block_page() -> Page {
    let mut ids = Ids(0);
    let mut ch = HashMap::new();
    let c = &mut ch;
    let i = &mut ids;
    let mention = |m: Value, plain: &str| {
        json!({"type": "mention", "mention": m, "plain_text": plain, "href": null,
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"}})
    };
    let rich = json!([
        rt("Plain "), styled("bold", json!({"bold": true})), rt(", "), styled("italic", json!({"italic": true})), rt(", "),
        styled("struck", json!({"strikethrough": true})), rt(", "), styled("under", json!({"underline": true})), rt(", "),
        styled("code", json!({"code": true})), rt(", "), styled("red", json!({"color": "red"})), rt(", "),
        styled("yellow bg", json!({"color": "yellow_background"})), rt(", "),
        {"type": "text", "text": {"content": "a link", "link": {"url": "https://example.com"}}, "plain_text": "a link", "href": "https://example.com"},
        rt(", "),
        {"type": "equation", "equation": {"expression": "x^2"}, "plain_text": "x^2", "href": null},
        rt(", "),
        mention(json!({"type": "user", "user": {"object": "user", "id": "b0000000-0000-4000-8000-000000000001", "name": "Ada"}}), "@Ada"),
        rt(", "),
        mention(json!({"type": "page", "page": {"id": "b0000000-0000-4000-8000-000000000002"}}), "Roadmap"),
        rt(", "),
        mention(json!({"type": "database", "database": {"id": "b0000000-0000-4000-8000-000000000003"}}), "Tasks"),
        rt(", "),
        mention(json!({"type": "date", "date": {"start": "2026-03-01", "end": "2026-03-05", "time_zone": null}}), "2026-03-01 → 2026-03-05"),
        rt(", "),
        mention(json!({"type": "link_preview", "link_preview": {"url": "https://github.com/x/y"}}), "https://github.com/x/y"),
        rt(", "),
        mention(json!({"type": "link_mention", "link_mention": {"href": "https://example.org", "title": "Example"}}), "Example"),
        rt(", "),
        mention(json!({"type": "template_mention", "template_mention": {"type": "template_mention_date", "template_mention_date": "today"}}), "@Today"),
        rt(", "),
        mention(json!({"type": "custom_emoji", "custom_emoji": {"id": "e1", "name": "party", "url": "https://x/e.png"}}), ":party:"),
        rt(" and 5 * 3 _ [x] <tag> | ~ $ # end.")
    ]);
    let text = |s: &str| json!({"rich_text": [rt(s)], "color": "default"});
    let para = |i: &mut Ids, c: &mut HashMap<BlockId, Vec<Block>>, s: &str| {
        block(i, "paragraph", text(s), vec![], c)
    };
    let row = |i: &mut Ids, c: &mut HashMap<BlockId, Vec<Block>>, a: &str, b: &str| {
        block(
            i,
            "table_row",
            json!({"cells": [[rt(a)], [rt(b)]]}),
            vec![],
            c,
        )
    };
    let mut top = Vec::new();
    top.push(block(
        i,
        "heading_1",
        json!({"rich_text": [rt("Heading 1")], "is_toggleable": false, "color": "default"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "heading_2",
        json!({"rich_text": [rt("Heading 2")], "is_toggleable": false, "color": "default"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "heading_3",
        json!({"rich_text": [rt("Heading 3")], "is_toggleable": false, "color": "default"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "heading_4",
        json!({"rich_text": [rt("Heading 4")], "is_toggleable": false, "color": "default"}),
        vec![],
        c,
    ));
    let kid = para(i, c, "Inside the toggle heading.");
    top.push(block(
        i,
        "heading_2",
        json!({"rich_text": [rt("Toggle heading")], "is_toggleable": true, "color": "default"}),
        vec![kid],
        c,
    ));
    top.push(block(
        i,
        "paragraph",
        json!({"rich_text": rich, "color": "default"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "paragraph",
        json!({"rich_text": [], "color": "default"}),
        vec![],
        c,
    ));
    let nested = block(i, "bulleted_list_item", text("nested bullet"), vec![], c);
    top.push(block(
        i,
        "bulleted_list_item",
        text("bullet"),
        vec![nested],
        c,
    ));
    top.push(block(
        i,
        "bulleted_list_item",
        text("second bullet"),
        vec![],
        c,
    ));
    let n2 = block(i, "numbered_list_item", text("nested number"), vec![], c);
    top.push(block(
        i,
        "numbered_list_item",
        json!({"rich_text": [rt("starts at three")], "list_start_index": 3, "color": "default"}),
        vec![n2],
        c,
    ));
    top.push(block(i, "numbered_list_item", text("four"), vec![], c));
    top.push(block(
        i,
        "to_do",
        json!({"rich_text": [rt("open")], "checked": false, "color": "default"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "to_do",
        json!({"rich_text": [rt("done")], "checked": true, "color": "default"}),
        vec![],
        c,
    ));
    let tk = para(i, c, "Toggle body.");
    top.push(block(i, "toggle", text("A toggle"), vec![tk], c));
    let qk = para(i, c, "Quote child.");
    top.push(block(
        i,
        "quote",
        text("A quote\nover two lines"),
        vec![qk],
        c,
    ));
    top.push(block(i, "callout", json!({"rich_text": [rt("Emoji callout")], "icon": {"type": "emoji", "emoji": "💡"}, "color": "gray_background"}), vec![], c));
    top.push(block(
        i,
        "callout",
        json!({"rich_text": [rt("No icon, red")], "icon": null, "color": "red_background"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "code",
        json!({"rich_text": [rt("fn main() {}\n")], "caption": [], "language": "rust"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "code",
        json!({"rich_text": [rt("int x;")], "caption": [], "language": "c++"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "code",
        json!({"rich_text": [rt("plain")], "caption": [], "language": "plain text"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "equation",
        json!({"expression": "E = mc^2"}),
        vec![],
        c,
    ));
    top.push(block(i, "divider", json!({}), vec![], c));
    let rows = vec![
        row(i, c, "Name", "Value"),
        row(i, c, "a", "1"),
        row(i, c, "b|c", "2"),
    ];
    top.push(block(
        i,
        "table",
        json!({"table_width": 2, "has_column_header": true, "has_row_header": false}),
        rows,
        c,
    ));
    let rows = vec![row(i, c, "x", "y")];
    top.push(block(
        i,
        "table",
        json!({"table_width": 2, "has_column_header": false, "has_row_header": false}),
        rows,
        c,
    ));
    let col1 = para(i, c, "Left column.");
    let col2 = para(i, c, "Right column.");
    let cols = vec![
        block(i, "column", json!({"width_ratio": 0.5}), vec![col1], c),
        block(i, "column", json!({"width_ratio": 0.5}), vec![col2], c),
    ];
    top.push(block(i, "column_list", json!({}), cols, c));
    top.push(block(i, "image", json!({"type": "external", "external": {"url": "https://example.com/i.png"}, "caption": [rt("An image")]}), vec![], c));
    top.push(block(i, "file", json!({"type": "file", "file": {"url": "https://files/x.pdf", "expiry_time": "2026-01-01T01:00:00.000Z"}, "caption": [], "name": "report.pdf"}), vec![], c));
    top.push(block(i, "pdf", json!({"type": "external", "external": {"url": "https://example.com/d.pdf"}, "caption": [rt("The PDF")]}), vec![], c));
    top.push(block(i, "video", json!({"type": "external", "external": {"url": "https://example.com/v.mp4"}, "caption": []}), vec![], c));
    top.push(block(i, "audio", json!({"type": "external", "external": {"url": "https://example.com/a.mp3"}, "caption": []}), vec![], c));
    top.push(block(
        i,
        "bookmark",
        json!({"url": "https://example.com/b", "caption": []}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "embed",
        json!({"url": "https://example.com/e", "caption": [rt("Embedded")]}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "link_preview",
        json!({"url": "https://github.com/o/r/pull/1"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "child_page",
        json!({"title": "Sub page"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "child_database",
        json!({"title": "Inline DB"}),
        vec![],
        c,
    ));
    top.push(block(
        i,
        "link_to_page",
        json!({"type": "page_id", "page_id": "b0000000-0000-4000-8000-000000000002"}),
        vec![],
        c,
    ));
    let sk = para(i, c, "Synced content.");
    let original = block(i, "synced_block", json!({"synced_from": null}), vec![sk], c);
    let original_id = original["id"].as_str().unwrap_or_default().to_string();
    top.push(original);
    // A copy has children (Notion lists the original's content under it); the source here
    // only holds the original's, which the renderer falls back to.
    let mut copy = block(
        i,
        "synced_block",
        json!({"synced_from": {"type": "block_id", "block_id": original_id}}),
        vec![],
        c,
    );
    copy["has_children"] = json!(true);
    top.push(copy);
    let tmk = para(i, c, "Template body.");
    top.push(block(
        i,
        "template",
        json!({"rich_text": [rt("Add a task")]}),
        vec![tmk],
        c,
    ));
    top.push(block(i, "breadcrumb", json!({}), vec![], c));
    top.push(block(
        i,
        "table_of_contents",
        json!({"color": "default"}),
        vec![],
        c,
    ));
    let tab_body = para(i, c, "First tab body.");
    let tab1 = block(
        i,
        "paragraph",
        json!({"rich_text": [rt("Tab one")], "icon": null}),
        vec![tab_body],
        c,
    );
    let tab2 = block(
        i,
        "paragraph",
        json!({"rich_text": [rt("Tab two")], "icon": null}),
        vec![],
        c,
    );
    top.push(block(i, "tab", json!({}), vec![tab1, tab2], c));
    let summary = para(i, c, "Summary of the meeting.");
    let transcript = para(i, c, "Transcript text.");
    let transcript_id = transcript["id"].clone();
    top.push(block(i, "meeting_notes", json!({"title": [rt("Weekly sync")], "status": "notes_ready",
        "children": {"summary_block_id": summary["id"], "notes_block_id": null, "transcript_block_id": transcript_id},
        "calendar_event": {"start_time": "2026-02-24T10:00:00.000Z", "end_time": "2026-02-24T10:30:00.000Z"}}),
        vec![summary, transcript], c));
    top.push(block(
        i,
        "unsupported",
        json!({"block_type": "form"}),
        vec![],
        c,
    ));
    top.push(block(i, "hologram", json!({"beam": 1}), vec![], c));
    let top = top
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("block"))
        .collect();
    Page { top, children: ch }
}

#[test]
fn every_block_type_markdown_snapshot() {
    let page = every_block_page();
    let r = render_markdown(&page.top, &page.children, &RenderOptions::default());
    assert_eq!(
        r.unknown_block_ids.len(),
        2,
        "only unsupported and the unknown type are placeholders"
    );
    insta::assert_snapshot!("every_block_markdown", r.markdown);
}

#[test]
fn every_block_type_markdown_with_colours_snapshot() {
    let page = every_block_page();
    let r = render_markdown(
        &page.top[5..6],
        &page.children,
        &RenderOptions::default().colors(true),
    );
    insta::assert_snapshot!("rich_text_with_colours", r.markdown);
}

#[test]
fn every_block_type_plain_text_snapshot() {
    let page = every_block_page();
    insta::assert_snapshot!(
        "every_block_plain_text",
        render_plain_text(&page.top, &page.children, &RenderOptions::default())
    );
}

#[test]
fn truncation_and_depth_caps() {
    let page = every_block_page();
    let r = render_markdown(
        &page.top,
        &page.children,
        &RenderOptions::default().max_blocks(5),
    );
    assert!(r.truncated);
    assert_eq!(r.blocks, 5);
    // A source with a cycle does not overflow the stack.
    struct Cycle(Vec<Block>);
    impl ChildSource for Cycle {
        fn children(&self, _id: &BlockId) -> Option<&[Block]> {
            Some(&self.0)
        }
    }
    let cycle = Cycle(page.top[7..8].to_vec());
    let r = render_markdown(&cycle.0, &cycle, &RenderOptions::default());
    assert!(r.truncated);
}

#[test]
fn empty_paragraphs_can_be_kept() {
    let page = every_block_page();
    let r = render_markdown(
        &page.top[6..7],
        &page.children,
        &RenderOptions::default().empty_paragraphs(true),
    );
    assert_eq!(r.markdown, "<empty-block/>\n");
    let r = render_markdown(&page.top[6..7], &page.children, &RenderOptions::default());
    assert_eq!(r.markdown, "");
}
