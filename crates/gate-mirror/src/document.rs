//! One mirrored page as a human-readable file: a small front matter (id, title, parent, url,
//! `last_edited_time`, `mirrored_at`, properties) followed by the page's Markdown as the
//! existing renderer (`notion-markdown`) writes it; and the helpers that name files and read
//! parents out of Notion objects.

use std::collections::HashMap;
use std::fmt::Write as _;

use notion_client::ids::BlockId;
use notion_client::models::{Block, Page};
use notion_markdown::RenderOptions;
use serde_json::Value;

/// The Markdown of a page's blocks (the same call the REST page read makes).
pub fn render_markdown(root: &BlockId, children: &HashMap<BlockId, Vec<Block>>) -> String {
    let top = children.get(root).map(Vec::as_slice).unwrap_or(&[]);
    notion_markdown::render_markdown(top, children, &RenderOptions::default()).markdown
}

/// The plain text of a page's blocks (what the full-text index holds).
pub fn render_text(root: &BlockId, children: &HashMap<BlockId, Vec<Block>>) -> String {
    let top = children.get(root).map(Vec::as_slice).unwrap_or(&[]);
    notion_markdown::render_plain_text(top, children, &RenderOptions::default())
}

/// A JSON string literal (valid YAML too), for front matter values.
fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// `type:id` of a page's parent (`workspace` for a top-level page).
pub fn parent_label(page: &Page) -> String {
    let Ok(v) = serde_json::to_value(&page.parent) else {
        return String::new();
    };
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return String::new();
    };
    match v.get(kind) {
        Some(Value::String(id)) => format!("{kind}:{id}"),
        _ => kind.to_owned(),
    }
}

/// The whole `.md` file of a page: front matter, then `# title` and the Markdown.
pub fn page_file(page: &Page, markdown: &str, mirrored_at: &str) -> String {
    let title = page.title();
    let mut out = String::with_capacity(markdown.len() + 512);
    out.push_str("---\n");
    let _ = writeln!(out, "id: {}", page.id.canonical());
    let _ = writeln!(out, "title: {}", quoted(&title));
    let _ = writeln!(out, "parent: {}", quoted(&parent_label(page)));
    if let Some(url) = &page.url {
        let _ = writeln!(out, "url: {}", quoted(url));
    }
    if let Some(t) = &page.last_edited_time {
        let _ = writeln!(out, "last_edited_time: {}", quoted(t));
    }
    let _ = writeln!(out, "mirrored_at: {}", quoted(mirrored_at));
    let props = notion_markdown::flatten_page(page);
    if props.is_empty() {
        out.push_str("properties: {}\n");
    } else {
        out.push_str("properties:\n");
        for (name, value) in &props {
            let _ = writeln!(out, "  {}: {}", quoted(name), value);
        }
    }
    out.push_str("---\n\n");
    if !title.is_empty() {
        let _ = writeln!(out, "# {title}\n");
    }
    out.push_str(markdown);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A file-name-safe slug of a title (ASCII letters and digits, dashes, at most 48 chars).
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
        if out.len() >= 48 {
            break;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("untitled");
    }
    out
}

/// An id as 32 lowercase hex digits (no dashes), if it is one.
pub fn compact_id(id: &str) -> Option<String> {
    let c: String = id
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit())).then_some(c)
}

/// An id in Notion's dashed form (8-4-4-4-12), if it is one.
pub fn dashed_id(id: &str) -> Option<String> {
    let c = compact_id(id)?;
    Some(format!(
        "{}-{}-{}-{}-{}",
        &c[..8],
        &c[8..12],
        &c[12..16],
        &c[16..20],
        &c[20..]
    ))
}

/// The ids one Notion `parent` object names, the one its `type` says first: `page_id`,
/// `block_id`, `data_source_id`, `database_id` (as sent, not normalised).
pub fn parent_ids(parent: &Value) -> impl Iterator<Item = &str> {
    const KEYS: [&str; 4] = ["page_id", "block_id", "data_source_id", "database_id"];
    let primary = parent.get("type").and_then(Value::as_str);
    primary
        .into_iter()
        .chain(KEYS)
        .filter(|k| KEYS.contains(k))
        .filter_map(|k| parent.get(k).and_then(Value::as_str))
}

/// The direct parents named by an object's `parent` (nearest first), then a data source's
/// `database_parent`, each in dashed form: what root-page checks walk.
pub fn parents_of(obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for field in ["parent", "database_parent"] {
        let Some(parent) = obj.get(field) else {
            continue;
        };
        for id in parent_ids(parent).filter_map(dashed_id) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs_and_ids() {
        assert_eq!(slug("Hello, World: 2026!"), "hello-world-2026");
        assert_eq!(slug("日本"), "untitled");
        assert_eq!(
            dashed_id("AAAAAAAABBBBCCCCDDDDEEEEEEEEEEEE").as_deref(),
            Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
        );
        assert_eq!(compact_id("nope"), None);
    }

    #[test]
    fn parents_nearest_first() {
        let v = json!({"parent": {"type": "data_source_id",
            "data_source_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "database_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            "database_parent": {"type": "page_id", "page_id": "cccccccccccccccccccccccccccccccc"}});
        let p = parents_of(&v);
        assert_eq!(p.len(), 3);
        assert!(p[0].starts_with("aaaaaaaa-"));
        assert!(p[2].starts_with("cccccccc-"));
        assert!(
            parents_of(&json!({"parent": {"type": "workspace", "workspace": true}})).is_empty()
        );
    }
}
