//! `gate-bench render`: Markdown rendering throughput of `notion-markdown` on a 5,000-block
//! page, in MB/s of block JSON, with the JSON parse timed separately.
//!
//! The page is built in the emulator and fetched with the tree fetcher, so the JSON is what
//! the API returns (every field of every block). Each measured step runs several times and
//! the median is reported.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use notion_client::ids::BlockId;
use notion_client::limiter::Unlimited;
use notion_client::models::Block;
use notion_client::tree::{PageTree, TreeOptions, fetch_tree};
use notion_client::{ClientConfig, Notion};
use notion_emulator::{Emulator, Seed};
use notion_markdown::{RenderOptions, render_markdown, render_plain_text};
use serde_json::{Value, json};

fn rich(content: &str) -> Value {
    json!([
        {"type": "text", "text": {"content": content}},
        {"type": "text", "text": {"content": " bold", "link": null}, "annotations": {"bold": true}},
        {"type": "text", "text": {"content": " and a link", "link": {"url": "https://example.com/"}},
         "annotations": {"italic": true}}
    ])
}

fn block(kind: &str, content: &str) -> Value {
    let mut inner = json!({"rich_text": rich(content)});
    match kind {
        "to_do" => inner["checked"] = json!(false),
        "code" => {
            inner = json!({"rich_text": [{"type": "text", "text": {"content": format!("fn f() {{ /* {content} */ }}")}}],
                           "language": "rust"})
        }
        _ => {}
    }
    json!({"type": kind, kind: inner})
}

/// Builds a page of `units × 10` blocks: per unit a heading, a paragraph, a bullet with a
/// nested bullet, a numbered item, a to-do, a quote, a code block and a toggle with a child.
pub(crate) async fn build(emu: &Emulator, units: usize) -> Result<String> {
    let page = emu.create_page(&emu.demo_ids().root_page, "Render benchmark")?;
    let kinds = [
        "heading_2",
        "paragraph",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "quote",
        "code",
        "toggle",
    ];
    let top: Vec<Value> = (0..units)
        .flat_map(|u| kinds.iter().map(move |k| block(k, &format!("{k} {u}"))))
        .collect();
    let ids = emu.append_children(&page, top)?;
    for (i, id) in ids.iter().enumerate() {
        match kinds[i % kinds.len()] {
            "bulleted_list_item" => {
                emu.append_children(id, vec![block("bulleted_list_item", "nested")])?;
            }
            "toggle" => {
                emu.append_children(id, vec![block("paragraph", "inside")])?;
            }
            _ => {}
        }
    }
    Ok(page)
}

/// The demo emulator holding a page of `units` × the block mix ([`build`]), its id, and its
/// block tree fetched without a limit (shared by `render` and `decode`).
pub(crate) async fn emulated_page(units: usize) -> Result<(Emulator, String, PageTree)> {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .context("start the emulator")?;
    let page = build(&emu, units).await?;
    let notion = Notion::new(ClientConfig::default().base_url(emu.base_url()))?;
    let conn =
        notion.connection_with_limiter("bench".to_owned().into(), Arc::new(Unlimited::default()));
    let tree = fetch_tree(
        &conn,
        &BlockId::parse(&page)?,
        &TreeOptions::new().concurrency(32),
    )
    .await;
    ensure!(tree.is_complete(), "the fetch failed: {:?}", tree.error);
    Ok((emu, page, tree))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs the benchmark and prints a Markdown table.
pub async fn run(units: usize, iterations: usize) -> Result<()> {
    let (emu, page, tree) = emulated_page(units).await?;
    let blocks = tree.len();
    emu.shutdown().await;

    // The block JSON as the API returns it, one array per parent.
    let json: Vec<(BlockId, Vec<u8>)> = tree
        .children
        .iter()
        .map(|(id, kids)| Ok((id.clone(), serde_json::to_vec(kids)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    let bytes: usize = json.iter().map(|(_, j)| j.len()).sum();
    let mb = bytes as f64 / 1e6;

    let iterations = iterations.max(1);
    let mut parse_times = Vec::with_capacity(iterations);
    let mut parsed: HashMap<BlockId, Vec<Block>> = HashMap::new();
    for _ in 0..iterations {
        let start = Instant::now();
        let map: HashMap<BlockId, Vec<Block>> = json
            .iter()
            .map(|(id, j)| Ok((id.clone(), serde_json::from_slice(j)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        parse_times.push(start.elapsed());
        parsed = map;
    }
    let root = BlockId::parse(&page)?;
    let top = parsed.get(&root).cloned().unwrap_or_default();
    let options = RenderOptions::default();

    let mut md_times = Vec::with_capacity(iterations);
    let mut md_len = 0;
    for _ in 0..iterations {
        let start = Instant::now();
        let out = render_markdown(&top, &parsed, &options);
        md_times.push(start.elapsed());
        ensure!(out.blocks == blocks, "rendered {} of {blocks}", out.blocks);
        md_len = out.markdown.len();
    }
    let mut text_times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let out = render_plain_text(&top, &parsed, &options);
        text_times.push(start.elapsed());
        ensure!(!out.is_empty());
    }

    let (parse, md, text) = (median(parse_times), median(md_times), median(text_times));
    println!(
        "bench: render a {blocks}-block page ({} top-level) with notion-markdown; {mb:.2} MB of block JSON; median of {iterations} runs",
        top.len()
    );
    println!("| step | time | MB/s of block JSON | blocks/s |");
    println!("|---|---|---|---|");
    for (step, t) in [
        ("parse JSON → blocks (serde)", parse),
        ("render Markdown", md),
        ("render plain text", text),
        ("parse + render Markdown", parse + md),
    ] {
        let s = t.as_secs_f64();
        println!(
            "| {step} | {:.2} ms | {:.0} | {:.0} |",
            s * 1e3,
            mb / s,
            blocks as f64 / s
        );
    }
    println!("Markdown output: {:.2} MB", md_len as f64 / 1e6);
    Ok(())
}
