//! What a held call will do, in Notion's own terms, from its stored canonical request: a
//! one-line summary ("Create page *Q3 plan* under *Projects*"), its content rendered (blocks
//! → Markdown with `notion-markdown` → HTML with raw HTML shown as text and unsafe link
//! schemes dropped), and the property values it sets, as short text for a before/after table.

use maud::{Markup, PreEscaped, html};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};
use serde_json::{Map, Value};

/// A stored request: method, path and JSON body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Value,
}

impl Held {
    /// Reads a stored canonical request (`{"method", "path", "query", "body", …}`).
    pub(crate) fn parse(request_json: &str) -> Self {
        let v: Value = serde_json::from_str(request_json).unwrap_or(Value::Null);
        Self {
            method: v
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            path: v
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            body: v.get("body").cloned().unwrap_or(Value::Null),
        }
    }

    /// The path's segments after `/v1/`.
    fn segments(&self) -> Vec<&str> {
        self.path
            .trim_start_matches("/v1/")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The Notion object the request acts on (a page or block id in the path).
    pub(crate) fn target_id(&self) -> Option<&str> {
        let s = self.segments();
        match s.as_slice() {
            ["pages", id, ..]
            | ["blocks", id, ..]
            | ["databases", id, ..]
            | ["data_sources", id, ..]
            | ["comments", id, ..]
            | ["views", id, ..] => Some(id),
            _ => None,
        }
    }

    /// The parent of a create: (`page`, `database`, `data source`, …) and its id.
    pub(crate) fn parent(&self) -> Option<(&'static str, String)> {
        let p = self.body.get("parent")?;
        for (key, word) in [
            ("page_id", "page"),
            ("database_id", "database"),
            ("data_source_id", "data source"),
            ("block_id", "block"),
            ("workspace", "workspace"),
        ] {
            if let Some(v) = p.get(key) {
                return Some((word, v.as_str().unwrap_or("").to_owned()));
            }
        }
        None
    }

    /// The blocks the request adds (`children`), if any.
    pub(crate) fn children(&self) -> Option<&Vec<Value>> {
        self.body.get("children").and_then(Value::as_array)
    }

    /// The Markdown the request writes, when it writes Markdown directly.
    pub(crate) fn markdown(&self) -> Option<&str> {
        self.body
            .get("markdown")
            .or_else(|| {
                self.body
                    .get("insert_content")
                    .and_then(|c| c.get("content"))
            })
            .or_else(|| {
                self.body
                    .get("replace_content")
                    .and_then(|c| c.get("new_str"))
            })
            .and_then(Value::as_str)
    }

    /// The properties the request sets.
    pub(crate) fn properties(&self) -> Option<&Map<String, Value>> {
        self.body.get("properties").and_then(Value::as_object)
    }

    /// The title the request gives a new page.
    pub(crate) fn title(&self) -> Option<String> {
        let props = self.properties()?;
        props.values().find_map(|v| {
            let t = v.get("title")?.as_array()?;
            Some(rich_text_plain(t))
        })
    }

    /// Whether the request moves something to the trash.
    pub(crate) fn trashes(&self) -> bool {
        self.method == "DELETE"
            || self.body.get("in_trash") == Some(&Value::Bool(true))
            || self.body.get("archived") == Some(&Value::Bool(true))
    }
}

/// The plain text of a rich-text array (request or answer shape).
pub(crate) fn rich_text_plain(items: &[Value]) -> String {
    items
        .iter()
        .filter_map(|r| {
            r.get("plain_text")
                .or_else(|| r.get("text").and_then(|t| t.get("content")))
                .and_then(Value::as_str)
        })
        .collect()
}

/// The title of a page object as Notion answers it.
pub(crate) fn page_title(page: &Value) -> Option<String> {
    let props = page.get("properties")?.as_object()?;
    props.values().find_map(|p| {
        if p.get("type").and_then(Value::as_str) == Some("title") {
            p.get("title")
                .and_then(Value::as_array)
                .map(|t| rich_text_plain(t))
        } else {
            None
        }
    })
}

/// A property value as short text: what a person reads in a before/after table. Works on
/// request values (`{"select": {"name": "Done"}}`) and answered ones (with `type`).
pub(crate) fn property_text(v: &Value) -> String {
    let (kind, inner) = match v.get("type").and_then(Value::as_str) {
        Some(t) => (t.to_owned(), v.get(t).cloned().unwrap_or(Value::Null)),
        None => match v
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| *k != "id"))
        {
            Some((k, inner)) => (k.clone(), inner.clone()),
            None => return String::new(),
        },
    };
    match (kind.as_str(), &inner) {
        ("title" | "rich_text", Value::Array(items)) => rich_text_plain(items),
        ("select" | "status", Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        ("multi_select", Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("name").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        ("date", Value::Object(o)) => {
            let start = o.get("start").and_then(Value::as_str).unwrap_or("");
            match o.get("end").and_then(Value::as_str) {
                Some(end) => format!("{start} → {end}"),
                None => start.to_owned(),
            }
        }
        ("people" | "relation" | "files", Value::Array(items)) => match items.len() {
            1 => "1 item".to_owned(),
            n => format!("{n} items"),
        },
        ("checkbox", Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
        (_, Value::Null) => String::new(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Number(n)) => n.to_string(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, other) => {
            let s = other.to_string();
            if s.chars().count() > 120 {
                format!("{}…", s.chars().take(120).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// Blocks (request or answer shape) as Markdown. Blocks of a request have no ids and keep
/// their children inside their content (`{"toggle": {"children": [...]}}`): each gets a
/// made-up id and its children are handed to the renderer by that id.
pub(crate) fn blocks_markdown(blocks: &[Value]) -> String {
    fn prepare(
        blocks: &[Value],
        next: &mut u64,
        nested: &mut std::collections::HashMap<String, Vec<Value>>,
    ) -> Vec<Value> {
        blocks
            .iter()
            .map(|b| {
                let mut b = b.clone();
                let Some(obj) = b.as_object_mut() else {
                    return b;
                };
                *next += 1;
                let id = format!("00000000-0000-4000-8000-{:012x}", *next);
                let ty = obj.get("type").and_then(Value::as_str).map(str::to_owned);
                let kids = ty
                    .as_deref()
                    .and_then(|t| obj.get_mut(t))
                    .and_then(Value::as_object_mut)
                    .and_then(|content| content.remove("children"))
                    .and_then(|c| c.as_array().cloned());
                if let Some(kids) = kids {
                    let prepared = prepare(&kids, next, nested);
                    obj.insert("has_children".into(), Value::Bool(true));
                    nested.insert(id.clone(), prepared);
                } else if !obj.contains_key("id") {
                    obj.insert("has_children".into(), Value::Bool(false));
                }
                obj.entry("id").or_insert_with(|| Value::String(id));
                obj.entry("object")
                    .or_insert_with(|| Value::String("block".into()));
                b
            })
            .collect()
    }
    let mut next = 0;
    let mut nested = std::collections::HashMap::new();
    let top = prepare(blocks, &mut next, &mut nested);
    let opts = notion_markdown::RenderOptions::default().max_blocks(2_000);
    notion_markdown::render_json(
        &top,
        &|id| nested.get(id).cloned().unwrap_or_default(),
        &opts,
    )
    .markdown
}

/// Markdown as HTML for a preview: raw HTML is shown as text, images become links (the
/// console loads nothing from elsewhere), and only http(s), mailto and relative links stay.
pub(crate) fn markdown_html(md: &str) -> Markup {
    let safe = |url: &str| {
        let lower = url.trim().to_ascii_lowercase();
        let scheme = lower.split_once(':').map(|(s, _)| s);
        match scheme {
            None => true,
            Some(s) => matches!(s, "http" | "https" | "mailto") || s.contains('/'),
        }
    };
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let events = Parser::new_ext(md, opts).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url,
            title,
            id,
            ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: if safe(&dest_url) {
                dest_url
            } else {
                "#".into()
            },
            title,
            id,
        }),
        Event::End(pulldown_cmark::TagEnd::Image) => Event::End(pulldown_cmark::TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(md.len() * 2);
    pulldown_cmark::html::push_html(&mut out, events);
    html! { (PreEscaped(out)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_html_and_script_links_render_as_text() {
        let h = markdown_html(
            "Hi <script>alert(1)</script> [x](javascript:alert(1)) ![i](https://e.x/i.png)",
        )
        .into_string();
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(!h.contains("<img"), "{h}");
    }

    #[test]
    fn a_held_create_names_its_title_parent_and_content() {
        let held = Held::parse(
            &json!({"method": "POST", "path": "/v1/pages", "query": [], "body": {
                "parent": {"page_id": "abc"},
                "properties": {"title": {"title": [{"text": {"content": "Q3 plan"}}]}},
                "children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Hello"}}]}}]
            }})
            .to_string(),
        );
        assert_eq!(held.title().as_deref(), Some("Q3 plan"));
        assert_eq!(held.parent(), Some(("page", "abc".to_owned())));
        let md = blocks_markdown(held.children().unwrap());
        assert_eq!(md.trim(), "Hello", "{md}");
        let nested = blocks_markdown(&[
            json!({"type": "bulleted_list_item", "bulleted_list_item": {
                "rich_text": [{"type": "text", "text": {"content": "outer"}}],
                "children": [{"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": [{"type": "text", "text": {"content": "inner"}}]}}]
            }}),
        ]);
        assert!(
            nested.contains("- outer") && nested.contains("  - inner"),
            "{nested}"
        );
    }

    #[test]
    fn property_values_read_as_short_text() {
        assert_eq!(property_text(&json!({"select": {"name": "Done"}})), "Done");
        assert_eq!(
            property_text(&json!({"type": "status", "status": {"name": "Open"}})),
            "Open"
        );
        assert_eq!(property_text(&json!({"checkbox": true})), "yes");
        assert_eq!(
            property_text(&json!({"date": {"start": "2026-01-01", "end": null}})),
            "2026-01-01"
        );
        assert_eq!(
            property_text(&json!({"multi_select": [{"name": "a"}, {"name": "b"}]})),
            "a, b"
        );
    }
}
