//! Fuzz target: arbitrary bytes as Markdown → blocks → write plan (limits checked) → Markdown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notion_markdown::{RenderOptions, drafts_to_nodes, parse_markdown, plan_markdown, render_nodes};

fuzz_target!(|data: &[u8]| {
    let Ok(md) = std::str::from_utf8(data) else { return };
    let plan = plan_markdown(md);
    for step in &plan.steps {
        assert!(step.children.len() <= 100);
        assert!(step.block_count() <= 1000);
        assert!(step.depth() <= 2);
    }
    let once = render_nodes(&drafts_to_nodes(&parse_markdown(md)), &RenderOptions::default()).markdown;
    let _ = render_nodes(&drafts_to_nodes(&parse_markdown(&once)), &RenderOptions::default());
});
