//! Every block in the recorded fixtures renders, with no placeholder for a known type.

use notion_client::models::{BlockKind, NotionUnion};
use notion_markdown::{NoChildren, RenderOptions, render_markdown, render_plain_text};

use crate::common::{block, block_values, fixtures_dir, json_files};

#[test]
fn every_fixture_block_renders_without_placeholders_for_known_types() {
    let dir = fixtures_dir().join("responses");
    let mut blocks = 0;
    let mut files = 0;
    let mut types = std::collections::BTreeSet::new();
    for path in json_files(&dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let mut found = Vec::new();
        block_values(&value, &mut found);
        if found.is_empty() {
            continue;
        }
        files += 1;
        for v in found {
            let b = block(&v);
            let known =
                BlockKind::KNOWN_TYPES.contains(&b.kind_name()) && b.kind_name() != "unsupported";
            types.insert(b.kind_name().to_string());
            let r = render_markdown(
                std::slice::from_ref(&b),
                &NoChildren,
                &RenderOptions::default(),
            );
            if known {
                assert!(
                    !r.markdown.contains("<!-- unsupported block"),
                    "{}: {} rendered as a placeholder:\n{}",
                    path.display(),
                    b.kind_name(),
                    r.markdown
                );
                assert!(r.unknown_block_ids.is_empty());
            } else {
                assert!(
                    r.markdown.contains("<!-- unsupported block"),
                    "{}",
                    r.markdown
                );
            }
            let _ = render_plain_text(
                std::slice::from_ref(&b),
                &NoChildren,
                &RenderOptions::default(),
            );
            blocks += 1;
        }
    }
    assert!(files >= 20, "only {files} block-bearing fixtures found");
    assert!(blocks >= 100, "only {blocks} blocks found");
    // The fixtures cover most block types; make sure the walk saw them.
    for t in [
        "paragraph",
        "heading_1",
        "to_do",
        "code",
        "table",
        "callout",
        "image",
        "synced_block",
    ] {
        assert!(types.contains(t), "no {t} block in the fixtures: {types:?}");
    }
}
