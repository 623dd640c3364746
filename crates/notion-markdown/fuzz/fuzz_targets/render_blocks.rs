//! Fuzz target: arbitrary JSON as a list of blocks → Markdown and plain text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notion_markdown::{RenderOptions, render_json};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Array(blocks)) = serde_json::from_slice::<Value>(data) else { return };
    let opts = RenderOptions::default().colors(true).max_depth(4);
    let _ = render_json(&blocks, &|_| blocks.clone(), &opts);
    let parsed: Vec<_> = blocks.iter().map(notion_markdown::block_from_json).collect();
    let _ = notion_markdown::render_plain_text(&parsed, &notion_markdown::NoChildren, &opts);
});
