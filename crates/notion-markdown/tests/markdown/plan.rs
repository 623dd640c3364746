//! Write plans: every request respects Notion's limits (100 children, two nesting levels,
//! 2000 characters per rich-text item, 1000 blocks and 500 KB per request), and the executor
//! uses only the first `children.len()` blocks of an answer and reports partial success.

use std::cell::RefCell;

use notion_client::ids::BlockId;
use notion_client::models::{Block, BlockKind, NewBlock, RichText, RichTextKind};
use notion_markdown::{
    AppendStep, ExecuteError, Limits, Target, WritePlan, execute_plan, parse_markdown,
    plan_markdown, plan_writes,
};
use serde_json::json;

/// A paragraph of `n` characters (words of varied length, some bold, non-ASCII included).
pub fn long_paragraph(seed: usize, n: usize) -> String {
    let words = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "élit",
        "sed",
        "dō",
    ];
    let mut s = String::new();
    let mut i = seed;
    while s.chars().count() < n {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(words[i % words.len()]);
        i += 7;
    }
    s.chars().take(n).collect::<String>().trim_end().to_string()
}

/// The big document of the issue: about 300 KB, 5000-character paragraphs, 250-item lists
/// and 4-level nesting, written in the renderer's canonical form so that it must come back
/// byte for byte.
pub fn big_document() -> String {
    let mut md = String::new();
    let mut section = 0;
    while md.len() < 300_000 {
        section += 1;
        md.push_str(&format!("## Section {section}\n\n"));
        md.push_str(&long_paragraph(section, 5000));
        md.push_str("\n\n");
        for i in 0..250 {
            md.push_str(&format!("- item {section}.{i} with **bold** text\n"));
        }
        md.push('\n');
        for i in 0..3 {
            md.push_str(&format!("{}. level one {i}\n", i + 1));
            md.push_str(&format!("   - level two {i}\n"));
            md.push_str(&format!("     - level three {i}\n"));
            md.push_str(&format!("       - level four {i}\n"));
            md.push_str(&format!("         - level five {i}\n"));
        }
        md.push('\n');
        md.push_str("> A quote with a long child\n>\n> ");
        md.push_str(&long_paragraph(section + 1, 2500));
        md.push_str("\n\n");
    }
    md.truncate(md.trim_end().len());
    md.push('\n');
    md
}

fn text_len_ok(items: &[RichText]) -> bool {
    items.iter().all(|rt| match &rt.kind {
        RichTextKind::Text(t) => t.content.chars().count() <= 2000,
        _ => true,
    })
}

fn check_block(b: &NewBlock, depth: usize) {
    assert!(depth <= 2, "nesting deeper than two levels");
    let v = serde_json::to_value(b).expect("json");
    let content = &v[b.kind_name()];
    for key in ["rich_text", "caption"] {
        if let Some(items) = content.get(key) {
            let items: Vec<RichText> = serde_json::from_value(items.clone()).expect("rich text");
            assert!(items.len() <= 100, "more than 100 rich-text items");
            assert!(text_len_ok(&items), "rich text over 2000 characters");
        }
    }
    if let BlockKind::TableRow(r) = &b.kind {
        assert!(r.cells.iter().all(|c| text_len_ok(c)));
    }
    if let Some(children) = content.get("children").and_then(|c| c.as_array()) {
        assert!(children.len() <= 100, "more than 100 children");
        for c in children {
            let nb: NewBlock = serde_json::from_value(c.clone()).expect("child");
            check_block(&nb, depth + 1);
        }
    }
}

/// Asserts that every request of a plan respects Notion's limits.
pub fn assert_plan_within_limits(plan: &WritePlan) {
    for (i, step) in plan.steps.iter().enumerate() {
        assert!(!step.children.is_empty(), "step {i} is empty");
        assert!(
            step.children.len() <= 100,
            "step {i}: {} children",
            step.children.len()
        );
        assert!(
            step.block_count() <= 1000,
            "step {i}: {} blocks",
            step.block_count()
        );
        assert!(
            step.body_bytes() <= 500_000,
            "step {i}: {} bytes",
            step.body_bytes()
        );
        assert!(step.depth() <= 2, "step {i}: depth {}", step.depth());
        if let Target::Created { step: s, index } = step.parent {
            assert!(s < i, "step {i} targets a later step");
            assert!(index < plan.steps[s].children.len());
        }
        for b in &step.children {
            check_block(b, 1);
        }
    }
}

#[test]
fn five_thousand_character_paragraph_is_split_into_items() {
    let md = long_paragraph(1, 5000);
    let plan = plan_markdown(&md);
    assert_eq!(plan.steps.len(), 1);
    let BlockKind::Paragraph(p) = &plan.steps[0].children[0].kind else {
        panic!("not a paragraph")
    };
    let items = p.rich_text.as_ref().expect("text");
    assert_eq!(items.len(), 3);
    assert_plan_within_limits(&plan);
    let joined: String = items.iter().map(RichText::plain_text).collect();
    assert_eq!(joined, md);
}

#[test]
fn two_hundred_fifty_item_list_takes_three_requests() {
    let md: String = (0..250).map(|i| format!("- item {i}\n")).collect();
    let plan = plan_markdown(&md);
    assert_eq!(
        plan.steps
            .iter()
            .map(|s| s.children.len())
            .collect::<Vec<_>>(),
        [100, 100, 50]
    );
    assert!(plan.steps.iter().all(|s| s.parent == Target::Root));
    assert_plan_within_limits(&plan);
}

#[test]
fn four_level_nesting_becomes_follow_up_appends() {
    let md = "- one\n  - two\n    - three\n      - four\n";
    let plan = plan_markdown(md);
    assert_plan_within_limits(&plan);
    // one (bare) → two (bare) → three with four inline.
    assert_eq!(plan.steps.len(), 3);
    assert_eq!(plan.steps[1].parent, Target::Created { step: 0, index: 0 });
    assert_eq!(plan.steps[2].parent, Target::Created { step: 1, index: 0 });
    assert_eq!(plan.steps[2].depth(), 2);
}

#[test]
fn big_document_plan_respects_every_limit() {
    let md = big_document();
    assert!(md.len() >= 300_000);
    let plan = plan_markdown(&md);
    assert_plan_within_limits(&plan);
    let drafts = parse_markdown(&md);
    let total: usize = drafts.iter().map(|d| d.count()).sum();
    assert_eq!(
        plan.block_count(),
        total,
        "every block is written exactly once"
    );
}

#[test]
fn wide_tables_and_heavy_children_respect_block_and_byte_budgets() {
    // 150 rows: the first 100 go inline, the rest follow.
    let mut md = String::from("| a | b |\n| --- | --- |\n");
    for i in 0..150 {
        md.push_str(&format!("| {i} | x |\n"));
    }
    let plan = plan_markdown(&md);
    assert_plan_within_limits(&plan);
    assert_eq!(plan.steps.len(), 2);
    assert_eq!(plan.steps[1].children.len(), 51, "151 rows with the header");
    // 100 quotes each with 20 children: 2100 blocks, so requests split at 1000 blocks.
    let mut md = String::new();
    for q in 0..100 {
        md.push_str(&format!("> quote {q}\n"));
        for c in 0..20 {
            md.push_str(&format!(">\n> child {c}\n"));
        }
        md.push('\n');
    }
    let plan = plan_markdown(&md);
    assert_plan_within_limits(&plan);
    assert!(plan.steps.len() >= 3);
    // Children carrying 2000-character texts: the byte budget splits requests.
    let big = long_paragraph(3, 2000);
    let mut md = String::new();
    for q in 0..100 {
        md.push_str(&format!("> quote {q}\n>\n> {big}\n>\n> {big}\n\n"));
    }
    let plan = plan_markdown(&md);
    assert_plan_within_limits(&plan);
}

#[test]
fn paragraph_with_more_than_100_items_is_split() {
    let md: String = (0..150).map(|i| format!("**b{i}** ")).collect();
    let plan = plan_writes(parse_markdown(&md), &Limits::default());
    assert_plan_within_limits(&plan);
    assert!(plan.steps[0].children.len() >= 2);
}

fn fake_block(id: &str) -> Block {
    serde_json::from_value(json!({"object": "block", "id": id, "type": "paragraph",
        "paragraph": {"rich_text": []}, "has_children": false}))
    .expect("block")
}

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

#[tokio::test]
async fn executor_uses_only_the_first_results_and_resolves_targets() {
    let plan = plan_markdown("- one\n  - two\n    - three\n      - four\n\npara\n");
    let root = BlockId::parse("00000000000040008000000000000001").expect("id");
    let seen = RefCell::new(Vec::<(BlockId, usize)>::new());
    let next = RefCell::new(100u64);
    let report = execute_plan(&plan, root.clone(), |parent, children: Vec<NewBlock>| {
        seen.borrow_mut().push((parent, children.len()));
        let mut out = Vec::new();
        for _ in 0..children.len() + 2 {
            // Two extra "siblings after" that must be ignored.
            *next.borrow_mut() += 1;
            out.push(fake_block(&format!(
                "00000000-0000-4000-8000-{:012}",
                *next.borrow()
            )));
        }
        async move { Ok::<_, Boom>(out) }
    })
    .await
    .expect("plan runs");
    let seen = seen.into_inner();
    assert_eq!(seen[0], (root, plan.steps[0].children.len()));
    // Step 1 targets the first block created by step 0 (id 101), not a trailing sibling.
    assert_eq!(
        seen[1].0.to_string(),
        "00000000-0000-4000-8000-000000000101"
    );
    assert_eq!(report.top_level.len(), plan.steps[0].children.len());
    assert_eq!(report.created.len(), plan.steps.len());
}

#[tokio::test]
async fn executor_reports_partial_success() {
    let md: String = (0..250).map(|i| format!("- item {i}\n")).collect();
    let plan = plan_markdown(&md);
    let calls = RefCell::new(0);
    let result = execute_plan(
        &plan,
        BlockId::parse("00000000000040008000000000000001").expect("id"),
        |_, children: Vec<NewBlock>| {
            *calls.borrow_mut() += 1;
            let n = *calls.borrow();
            let out: Vec<Block> = (0..children.len())
                .map(|i| fake_block(&format!("00000000-0000-4000-8000-{:06}{:06}", n, i)))
                .collect();
            async move { if n == 2 { Err(Boom) } else { Ok(out) } }
        },
    )
    .await;
    let err = result.expect_err("second step fails");
    assert_eq!(err.failed_step, 1);
    assert_eq!(err.completed_steps, 1);
    assert_eq!(err.top_level.len(), 100);
    assert_eq!(err.blocks_written, 100);
    assert!(matches!(err.error, ExecuteError::Append(Boom)));
    assert!(err.to_string().contains("step 1 of 3"));
}

#[tokio::test]
async fn executor_rejects_short_answers_and_bad_targets() {
    let plan = plan_markdown("a\n\nb\n");
    let err = execute_plan(
        &plan,
        BlockId::parse("00000000000040008000000000000001").expect("id"),
        |_, _| async { Ok::<_, Boom>(vec![fake_block("00000000-0000-4000-8000-000000000009")]) },
    )
    .await
    .expect_err("short answer");
    assert!(matches!(
        err.error,
        ExecuteError::ShortAnswer {
            sent: 2,
            received: 1,
            ..
        }
    ));
    let bad = WritePlan {
        steps: vec![AppendStep {
            parent: Target::Created { step: 5, index: 0 },
            children: vec![NewBlock::divider()],
        }],
    };
    let err = execute_plan(
        &bad,
        BlockId::parse("00000000000040008000000000000001").expect("id"),
        |_, _| async { Ok::<_, Boom>(Vec::new()) },
    )
    .await
    .expect_err("bad target");
    assert!(matches!(err.error, ExecuteError::BadTarget { .. }));
}
