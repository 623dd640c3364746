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

/// Markdown: `# title`, the other properties as a list, then the blocks (through
/// `notion-markdown`).
pub fn markdown(page: &Page, tree: &PageTree) -> String {
    let mut out = format!("# {}\n\n", one_line(&page.title()));
    let properties = other_properties(page);
    if !properties.is_empty() {
        for (name, value) in &properties {
            out.push_str(&format!("- **{}**: {}\n", one_line(name), one_line(value)));
        }
        out.push('\n');
    }
    let rendered = notion_markdown::render_markdown(
        tree.top_level(),
        tree,
        &notion_markdown::RenderOptions::default(),
    );
    out.push_str(rendered.markdown.trim_end());
    out.push('\n');
    out
}

/// Plain text: the title, the other properties as `name: value` lines, then the blocks.
pub fn text(page: &Page, tree: &PageTree) -> String {
    let mut out = format!("{}\n\n", one_line(&page.title()));
    let properties = other_properties(page);
    if !properties.is_empty() {
        for (name, value) in &properties {
            out.push_str(&format!("{}: {}\n", one_line(name), one_line(value)));
        }
        out.push('\n');
    }
    let body = notion_markdown::render_plain_text(
        tree.top_level(),
        tree,
        &notion_markdown::RenderOptions::default(),
    );
    out.push_str(body.trim_end());
    out.push('\n');
    out
}

/// Every property but the title, flattened to short text, empty values left out.
fn other_properties(page: &Page) -> Vec<(String, String)> {
    let title = page.title_property().map(|(name, _)| name.to_owned());
    notion_markdown::flatten_page_text(page)
        .into_iter()
        .filter(|(name, value)| Some(name) != title.as_ref() && !value.trim().is_empty())
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
