//! Rendering throughput: builds a 5,000-block page as Notion would return it (full response
//! JSON: common fields, annotations, `plain_text`, `href`), parses it into blocks (timed
//! separately), renders it to Markdown many times and prints the throughput in MB/s of block
//! JSON rendered.
//!
//! `cargo run --release -p notion-markdown --example render_throughput [iterations]`

use std::collections::HashMap;
use std::time::Instant;

use notion_client::ids::BlockId;
use notion_client::models::Block;
use notion_markdown::{RenderOptions, render_markdown, render_markdown_into};
use serde_json::{Value, json};

fn rt(text: &str, bold: bool, italic: bool, code: bool, link: Option<&str>) -> Value {
    json!({
        "type": "text",
        "text": {"content": text, "link": link.map(|u| json!({"url": u}))},
        "annotations": {"bold": bold, "italic": italic, "strikethrough": false, "underline": false, "code": code, "color": "default"},
        "plain_text": text,
        "href": link,
    })
}

fn block(i: usize, parent: &str, ty: &str, content: Value, has_children: bool) -> Value {
    json!({
        "object": "block",
        "id": format!("c0000000-0000-4000-8000-{i:012}"),
        "parent": {"type": "page_id", "page_id": parent},
        "created_time": "2026-02-24T10:00:00.000Z",
        "last_edited_time": "2026-02-24T10:00:00.000Z",
        "created_by": {"object": "user", "id": "40673a87-d8ed-41e0-aa55-7f0e8ace24cd"},
        "last_edited_by": {"object": "user", "id": "40673a87-d8ed-41e0-aa55-7f0e8ace24cd"},
        "has_children": has_children,
        "archived": false,
        "in_trash": false,
        "type": ty,
        ty: content,
    })
}

/// The page: top-level blocks plus, for every tenth block, two nested list items.
fn page_json() -> (Vec<Value>, Vec<(String, Vec<Value>)>) {
    let page = "59833787-2cf9-4fdf-8782-e53db20768a5";
    let mut top = Vec::new();
    let mut nested = Vec::new();
    let mut n = 0;
    while n < 5000 {
        let i = n;
        let text = vec![
            rt("The quick brown fox ", false, false, false, None),
            rt("jumps", true, false, false, None),
            rt(" over the ", false, false, false, None),
            rt(
                "lazy dog",
                false,
                true,
                false,
                Some("https://example.com/dog"),
            ),
            rt(" and calls ", false, false, false, None),
            rt("fox.jump()", false, false, true, None),
            rt(" twice; 5 * 3 = 15 [sic].", false, false, false, None),
        ];
        let (ty, content) = match i % 10 {
            0 => (
                "heading_2",
                json!({"rich_text": [rt("Section heading", false, false, false, None)], "is_toggleable": false, "color": "default"}),
            ),
            1..=3 => ("paragraph", json!({"rich_text": text, "color": "default"})),
            4 | 5 => (
                "bulleted_list_item",
                json!({"rich_text": text, "color": "default"}),
            ),
            6 => (
                "numbered_list_item",
                json!({"rich_text": text, "color": "default"}),
            ),
            7 => (
                "to_do",
                json!({"rich_text": text, "checked": i % 20 == 7, "color": "default"}),
            ),
            8 => (
                "code",
                json!({"rich_text": [rt("fn main() {\n    println!(\"hi\");\n}", false, false, false, None)], "caption": [], "language": "rust"}),
            ),
            _ => ("quote", json!({"rich_text": text, "color": "default"})),
        };
        let has_children = i % 10 == 4;
        let b = block(n, page, ty, content, has_children);
        n += 1;
        if has_children {
            let parent_id = b["id"].as_str().unwrap_or_default().to_string();
            let kids: Vec<Value> = (0..2)
                .map(|_| {
                    n += 1;
                    block(n, &parent_id, "bulleted_list_item", json!({"rich_text": [rt("nested item text", false, false, false, None)], "color": "default"}), false)
                })
                .collect();
            nested.push((parent_id, kids));
        }
        top.push(b);
    }
    (top, nested)
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let (top, nested) = page_json();
    // The JSON as it arrives from Notion: one list per parent.
    let top_json =
        serde_json::to_string(&json!({"object": "list", "results": top})).unwrap_or_default();
    let nested_json: Vec<(String, String)> = nested
        .iter()
        .map(|(id, kids)| {
            (
                id.clone(),
                serde_json::to_string(&json!({"object": "list", "results": kids}))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let json_bytes = top_json.len() + nested_json.iter().map(|(_, j)| j.len()).sum::<usize>();
    let blocks_total = top.len() + nested.iter().map(|(_, k)| k.len()).sum::<usize>();

    #[derive(serde::Deserialize)]
    struct List {
        results: Vec<Block>,
    }
    let t = Instant::now();
    let parsed: List = match serde_json::from_str(&top_json) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("parse failed: {e}");
            return;
        }
    };
    let mut children: HashMap<BlockId, Vec<Block>> = HashMap::new();
    for (id, j) in &nested_json {
        if let (Ok(id), Ok(list)) = (BlockId::parse(id), serde_json::from_str::<List>(j)) {
            children.insert(id, list.results);
        }
    }
    let parse = t.elapsed();

    let opts = RenderOptions::default();
    let warm = render_markdown(&parsed.results, &children, &opts);
    // One output buffer, reused: rendering writes straight into it.
    let mut buf = String::with_capacity(warm.markdown.len() * 2);
    let t = Instant::now();
    let mut out_bytes = 0;
    for _ in 0..iterations {
        buf.clear();
        let _ = render_markdown_into(&mut buf, &parsed.results, &children, &opts);
        out_bytes += buf.len();
    }
    let render = t.elapsed();
    let mb = json_bytes as f64 / 1e6;
    let per = render.as_secs_f64() / iterations as f64;
    println!(
        "page: {blocks_total} blocks, {mb:.2} MB of block JSON, {} KB of Markdown",
        warm.markdown.len() / 1000
    );
    println!(
        "parse (serde → models): {:.2} ms ({:.0} MB/s)",
        parse.as_secs_f64() * 1e3,
        mb / parse.as_secs_f64()
    );
    println!(
        "render: {:.3} ms per page over {iterations} runs = {:.0} MB/s of block JSON ({:.2} GB/s); {} MB of Markdown written",
        per * 1e3,
        mb / per,
        mb / per / 1e3,
        out_bytes / 1_000_000
    );
}
