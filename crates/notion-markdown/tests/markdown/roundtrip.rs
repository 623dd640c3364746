//! Markdown → blocks → Markdown is stable on the corpus in `tests/corpus/`.

use notion_markdown::{RenderOptions, drafts_to_nodes, parse_markdown, render_nodes};

/// Renders Markdown after a trip through blocks.
pub fn through_blocks(md: &str) -> String {
    let drafts = parse_markdown(md);
    render_nodes(&drafts_to_nodes(&drafts), &RenderOptions::default()).markdown
}

fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut docs: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(e.path()).expect("corpus file"),
            )
        })
        .collect();
    docs.sort();
    docs
}

#[test]
fn corpus_documents_come_back_unchanged() {
    let docs = corpus();
    assert!(docs.len() >= 10, "the corpus needs 10+ documents");
    let mut failures = Vec::new();
    for (name, md) in &docs {
        let once = through_blocks(md);
        if &once != md {
            failures.push(format!("== {name}\n--- expected\n{md}\n--- got\n{once}"));
        }
        let twice = through_blocks(&once);
        assert_eq!(once, twice, "{name}: not idempotent");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_covers_every_writable_construct() {
    let all: String = corpus().into_iter().map(|(_, md)| md + "\n\n").collect();
    let drafts = parse_markdown(&all);
    let mut kinds = std::collections::BTreeSet::new();
    fn walk(d: &[notion_markdown::BlockDraft], kinds: &mut std::collections::BTreeSet<String>) {
        for x in d {
            kinds.insert(x.block.kind_name().to_string());
            walk(&x.children, kinds);
        }
    }
    walk(&drafts, &mut kinds);
    for k in [
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "heading_4",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "quote",
        "callout",
        "code",
        "table",
        "table_row",
        "toggle",
        "divider",
        "image",
        "bookmark",
        "equation",
        "table_of_contents",
        "breadcrumb",
    ] {
        assert!(kinds.contains(k), "corpus lacks {k}: {kinds:?}");
    }
}
