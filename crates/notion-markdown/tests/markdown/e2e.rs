//! End to end: the big document is written to the emulator through the plan executor
//! (`conn.blocks().append`), read back recursively, rendered, and compared.

use std::collections::HashMap;

use notion_client::endpoints::AppendChildren;
use notion_client::ids::BlockId;
use notion_client::models::{Block, NewBlock};
use notion_client::{ClientConfig, LimiterConfig, Notion, Paging, RetryPolicy};
use notion_emulator::{Emulator, Seed};
use notion_markdown::{RenderOptions, execute_plan, plan_markdown, render_markdown};

use crate::plan::{assert_plan_within_limits, big_document};

async fn fetch_all(
    conn: &notion_client::Connection,
    root: &BlockId,
) -> (Vec<Block>, HashMap<BlockId, Vec<Block>>) {
    let mut children = HashMap::new();
    let mut stack = vec![root.clone()];
    let mut top = Vec::new();
    while let Some(id) = stack.pop() {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let paging = match &cursor {
                Some(c) => Paging::after(c.clone()).size(100),
                None => Paging::first().size(100),
            };
            let page = conn
                .blocks()
                .children(&id, &paging)
                .await
                .expect("children");
            all.extend(page.results);
            match page.next_cursor {
                Some(c) if page.has_more => cursor = Some(c),
                _ => break,
            }
        }
        for b in &all {
            if b.has_children {
                stack.push(b.id.clone());
            }
        }
        if &id == root {
            top = all;
        } else {
            children.insert(id, all);
        }
    }
    (top, children)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_document_round_trips_through_the_emulator() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .expect("emulator starts");
    let notion = Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(LimiterConfig::new(10_000.0, 10_000).expect("limiter"))
            .request_timeout(None)
            .connect_timeout(None)
            .retry(RetryPolicy::default()),
    )
    .expect("client");
    let conn = notion.connection("secret_test_token".to_owned().into());
    let root_page = emu.demo_ids().root_page.clone();
    let page = emu.create_page(&root_page, "Big document").expect("page");
    let page_id = BlockId::parse(&page).expect("id");

    let md = big_document();
    let plan = plan_markdown(&md);
    assert_plan_within_limits(&plan);
    let report = execute_plan(
        &plan,
        page_id.clone(),
        |parent: BlockId, children: Vec<NewBlock>| {
            let conn = conn.clone();
            async move {
                let append = AppendChildren::new(children);
                conn.blocks()
                    .append(&parent, &append)
                    .await
                    .map(|list| list.results)
            }
        },
    )
    .await
    .expect("plan executes");
    assert!(!report.top_level.is_empty());
    assert_eq!(
        emu.counters().status(400),
        0,
        "the emulator saw validation errors"
    );

    let (top, children) = fetch_all(&conn, &page_id).await;
    assert_eq!(top.len(), report.top_level.len());
    let rendered = render_markdown(&top, &children, &RenderOptions::default());
    assert!(rendered.unknown_block_ids.is_empty());
    if rendered.markdown != md {
        let at = rendered
            .markdown
            .bytes()
            .zip(md.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let lo = at.saturating_sub(200);
        panic!(
            "markdown differs at byte {at}:\n--- expected\n{}\n--- got\n{}",
            &md[lo..(at + 200).min(md.len())],
            &rendered.markdown
                [lo.min(rendered.markdown.len())..(at + 200).min(rendered.markdown.len())]
        );
    }
    assert_eq!(emu.counters().status(400), 0);
}
