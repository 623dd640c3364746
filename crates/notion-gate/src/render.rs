//! Rendering an exported page: JSON (the page object and a nested block tree) here;
//! Markdown and text through `notion-markdown`.

use notion_client::models::{Block, Page};
use notion_client::tree::PageTree;
use serde_json::{Value, json};

/// The page and its tree as one JSON document:
/// `{page, title, blocks: [{…block, children: […]}], truncated, truncation, unexpanded}`.
pub fn json(page: &Page, tree: &PageTree) -> Result<String, serde_json::Error> {
    let doc = json!({
        "page": page,
        "title": page.title(),
        "blocks": nested(tree, tree.top_level())?,
        "block_count": tree.len(),
        "truncated": tree.truncated,
        "truncation": tree.truncation.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "unexpanded": tree.unexpanded,
    });
    let mut out = serde_json::to_string_pretty(&doc)?;
    out.push('\n');
    Ok(out)
}

fn nested(tree: &PageTree, blocks: &[Block]) -> Result<Vec<Value>, serde_json::Error> {
    blocks
        .iter()
        .map(|block| {
            let mut value = serde_json::to_value(block)?;
            if let (Value::Object(map), Some(children)) = (&mut value, tree.get(&block.id)) {
                map.insert("children".into(), Value::Array(nested(tree, children)?));
            }
            Ok(value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.into_iter().map(strip_request_id).collect())
}

/// List answers carry no per-block `request_id`, but be sure none leaks into an export.
fn strip_request_id(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.remove("request_id");
    }
    v
}

/// Markdown: not wired yet (waits for `notion-markdown`'s renderer).
pub fn markdown(_page: &Page, _tree: &PageTree) -> anyhow::Result<String> {
    anyhow::bail!("Markdown output is not available in this build yet; use --format json")
}

/// Plain text: not wired yet (waits for `notion-markdown`'s renderer).
pub fn text(_page: &Page, _tree: &PageTree) -> anyhow::Result<String> {
    anyhow::bail!("text output is not available in this build yet; use --format json")
}
