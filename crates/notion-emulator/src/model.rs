//! Request → stored-object conversion: block content normalisation, request-size validation and
//! page property values written through the API.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::util::{MentionResolver, normalize_rich_text, parse_id, short_json};

/// Block types that may be created through the API.
pub const CREATABLE_BLOCK_TYPES: &[&str] = &[
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "heading_4",
    "bulleted_list_item",
    "numbered_list_item",
    "quote",
    "to_do",
    "toggle",
    "template",
    "callout",
    "synced_block",
    "table",
    "table_row",
    "column_list",
    "column",
    "code",
    "equation",
    "divider",
    "breadcrumb",
    "table_of_contents",
    "tab",
    "link_to_page",
    "embed",
    "bookmark",
    "image",
    "video",
    "pdf",
    "file",
    "audio",
];

/// Block types that are read but never created through the API.
pub const READ_ONLY_BLOCK_TYPES: &[&str] = &[
    "child_page",
    "child_database",
    "link_preview",
    "meeting_notes",
    "transcription",
    "unsupported",
];

/// A normalised block from a request: type, content object and nested children (request form).
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// Block type.
    pub ty: String,
    /// Content object in response form.
    pub content: Value,
    /// Nested children, already normalised.
    pub children: Vec<NewBlock>,
}

/// Finds the block type of a request block object.
pub fn block_type_of(block: &Value) -> Option<String> {
    if let Some(t) = block.get("type").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    let obj = block.as_object()?;
    CREATABLE_BLOCK_TYPES
        .iter()
        .chain(READ_ONLY_BLOCK_TYPES)
        .find(|t| obj.contains_key(**t))
        .map(|t| t.to_string())
}

/// Validates and normalises a `children` array of a create/append request.
/// `depth` is 1 for the request's top-level children; Notion allows two levels.
pub fn normalize_children(
    children: &Value,
    path: &str,
    depth: usize,
    count: &mut usize,
    r: &dyn MentionResolver,
) -> ApiResult<Vec<NewBlock>> {
    let arr = children.as_array().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be an array, instead was `{}`.",
            short_json(children)
        ))
    })?;
    if depth > 2 {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should be not present, instead was `{}`.",
            short_json(children)
        )));
    }
    crate::util::check_len_100(arr, path)?;
    let mut out = Vec::with_capacity(arr.len());
    for (i, b) in arr.iter().enumerate() {
        *count += 1;
        if *count > 1000 {
            return Err(ApiError::validation(format!(
                "body failed validation: the request contains more than `1000` block elements (at {path}[{i}])."
            )));
        }
        out.push(normalize_block(
            b,
            &format!("{path}[{i}]"),
            depth,
            count,
            r,
        )?);
    }
    Ok(out)
}

fn normalize_block(
    b: &Value,
    path: &str,
    depth: usize,
    count: &mut usize,
    r: &dyn MentionResolver,
) -> ApiResult<NewBlock> {
    if !b.is_object() {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should be an object, instead was `{}`.",
            short_json(b)
        )));
    }
    let ty = block_type_of(b).ok_or_else(|| ApiError::body_undefined(&format!("{path}.type")))?;
    if !CREATABLE_BLOCK_TYPES.contains(&ty.as_str()) {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.type should be one of the creatable block types, instead was `{}`.",
            serde_json::to_string(&ty).unwrap_or_default()
        )));
    }
    let given = b.get(&ty).cloned().unwrap_or_else(|| json!({}));
    if !given.is_object() {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.{ty} should be an object, instead was `{}`.",
            short_json(&given)
        )));
    }
    let cpath = format!("{path}.{ty}");
    let content = normalize_content(&ty, &given, &cpath, r, None)?;
    let nested = given
        .get("children")
        .map(|c| (c, format!("{cpath}.children")))
        .or_else(|| b.get("children").map(|c| (c, format!("{path}.children"))));
    // A column is a slot of its column list, not a nesting level: Notion takes
    // `column_list` → `column` → a block with its own children in one request
    // (RM/append_block_children_block_column_list.json).
    let child_depth = if ty == "column" { depth } else { depth + 1 };
    let children = match nested {
        Some((c, p)) => normalize_children(c, &p, child_depth, count, r)?,
        None => Vec::new(),
    };
    Ok(NewBlock {
        ty,
        content,
        children,
    })
}

/// What normalising one block's content reads: the object given, where it sits in the request
/// (for error paths), the mention resolver and, on an update, the stored content whose fields
/// stand where none is given.
#[derive(Clone, Copy)]
struct Given<'a> {
    given: &'a Value,
    path: &'a str,
    r: &'a dyn MentionResolver,
    existing: Option<&'a Value>,
}

impl Given<'_> {
    /// The rich text under `key`, normalised; else the stored one; else empty.
    fn rich_text(&self, key: &str) -> ApiResult<Value> {
        match self.given.get(key) {
            Some(v) => normalize_rich_text(v, &format!("{}.{key}", self.path), self.r),
            None => Ok(self.stored(key).unwrap_or_else(|| json!([]))),
        }
    }

    /// The value under `key`; else the stored one; else `default`.
    fn pick(&self, key: &str, default: Value) -> Value {
        self.given
            .get(key)
            .cloned()
            .or_else(|| self.stored(key))
            .unwrap_or(default)
    }

    fn stored(&self, key: &str) -> Option<Value> {
        self.existing.and_then(|e| e.get(key)).cloned()
    }
}

fn check_url(url: &Value, path: &str) -> ApiResult<()> {
    if let Some(s) = url.as_str() {
        crate::util::check_chars(s, path, 2000)?;
    }
    Ok(())
}

fn file_content(ty: &str, g: Given<'_>) -> ApiResult<Value> {
    let path = g.path;
    let caption = g.rich_text("caption")?;
    let mut out = Map::new();
    out.insert("caption".into(), caption);
    let src_ty = g
        .given
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            ["external", "file_upload", "file"]
                .iter()
                .find(|k| g.given.get(**k).is_some())
                .map(|s| s.to_string())
        });
    match src_ty.as_deref() {
        Some("external") => {
            let url = g
                .given
                .get("external")
                .and_then(|e| e.get("url"))
                .cloned()
                .unwrap_or(Value::Null);
            check_url(&url, &format!("{path}.external.url"))?;
            out.insert("type".into(), json!("external"));
            out.insert("external".into(), json!({ "url": url }));
        }
        Some("file_upload") | Some("file") => {
            let id = g
                .given
                .get("file_upload")
                .and_then(|f| f.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::body_undefined(&format!("{path}.file_upload.id")))?;
            let hosted = g.r.attach_upload(id, &format!("{path}.file_upload.id"))?;
            out.insert("type".into(), json!("file"));
            out.insert("file".into(), hosted);
        }
        _ => match g.existing {
            Some(e) => {
                let t = e.get("type").cloned().unwrap_or(json!("external"));
                let ts = t.as_str().unwrap_or("external").to_string();
                out.insert("type".into(), t);
                out.insert(ts.clone(), e.get(&ts).cloned().unwrap_or(json!({})));
            }
            None => return Err(ApiError::body_undefined(&format!("{path}.external"))),
        },
    }
    if ty == "file" {
        let name = g.pick("name", json!("file"));
        out.insert("name".into(), name);
    }
    Ok(Value::Object(out))
}

/// Normalises a block's content object: a new block's (`existing` is `None`) or an update's,
/// where fields not given keep their stored value.
pub fn normalize_content(
    ty: &str,
    given: &Value,
    path: &str,
    r: &dyn MentionResolver,
    existing: Option<&Value>,
) -> ApiResult<Value> {
    let g = Given {
        given,
        path,
        r,
        existing,
    };
    normalize_content_with(ty, g)
}

fn normalize_content_with(ty: &str, g: Given<'_>) -> ApiResult<Value> {
    let Given {
        given,
        path,
        r,
        existing,
    } = g;
    let color = || g.pick("color", json!("default"));
    Ok(match ty {
        "paragraph" | "bulleted_list_item" | "quote" | "toggle" => {
            let mut m = json!({ "rich_text": g.rich_text("rich_text")?, "color": color() });
            if ty == "paragraph"
                && let Some(icon) = given.get("icon")
            {
                m["icon"] = icon.clone();
            }
            m
        }
        "numbered_list_item" => {
            let mut m = json!({ "rich_text": g.rich_text("rich_text")?, "color": color() });
            for k in ["list_start_index", "list_format"] {
                if let Some(v) = given.get(k).or_else(|| existing.and_then(|e| e.get(k))) {
                    m[k] = v.clone();
                }
            }
            m
        }
        "heading_1" | "heading_2" | "heading_3" | "heading_4" => json!({
            "rich_text": g.rich_text("rich_text")?,
            "is_toggleable": g.pick("is_toggleable", json!(false)),
            "color": color(),
        }),
        "to_do" => json!({
            "rich_text": g.rich_text("rich_text")?,
            "checked": g.pick("checked", json!(false)),
            "color": color(),
        }),
        "template" => json!({ "rich_text": g.rich_text("rich_text")? }),
        "callout" => json!({
            "rich_text": g.rich_text("rich_text")?,
            "icon": g.pick("icon", json!({ "type": "emoji", "emoji": "💡" })),
            "color": g.pick("color", json!("gray_background")),
        }),
        "code" => json!({
            "caption": g.rich_text("caption")?,
            "rich_text": g.rich_text("rich_text")?,
            "language": g.pick("language", json!("plain text")),
        }),
        "equation" => {
            let expr = g.pick("expression", Value::Null);
            let Some(s) = expr.as_str() else {
                return Err(ApiError::body_undefined(&format!("{path}.expression")));
            };
            crate::util::check_chars(s, &format!("{path}.expression"), 1000)?;
            json!({ "expression": s })
        }
        "divider" | "breadcrumb" | "column_list" | "tab" => json!({}),
        "table_of_contents" => json!({ "color": color() }),
        "column" => match given
            .get("width_ratio")
            .or_else(|| existing.and_then(|e| e.get("width_ratio")))
        {
            Some(w) => json!({ "width_ratio": w }),
            None => json!({}),
        },
        "table" => json!({
            "table_width": g.pick("table_width", json!(1)),
            "has_column_header": g.pick("has_column_header", json!(false)),
            "has_row_header": g.pick("has_row_header", json!(false)),
        }),
        "table_row" => {
            let cells = match given.get("cells") {
                Some(Value::Array(cells)) => {
                    let mut out = Vec::new();
                    for (i, c) in cells.iter().enumerate() {
                        out.push(normalize_rich_text(c, &format!("{path}.cells[{i}]"), r)?);
                    }
                    Value::Array(out)
                }
                _ => existing
                    .and_then(|e| e.get("cells"))
                    .cloned()
                    .unwrap_or_else(|| json!([])),
            };
            json!({ "cells": cells })
        }
        "embed" | "bookmark" => {
            let url = g.pick("url", Value::Null);
            if !url.is_string() {
                return Err(ApiError::body_undefined(&format!("{path}.url")));
            }
            check_url(&url, &format!("{path}.url"))?;
            json!({ "caption": g.rich_text("caption")?, "url": url })
        }
        "image" | "video" | "pdf" | "file" | "audio" => file_content(ty, g)?,
        "link_to_page" => {
            let (k, raw) = ["page_id", "database_id", "comment_id"]
                .iter()
                .find_map(|k| {
                    given
                        .get(*k)
                        .and_then(Value::as_str)
                        .map(|v| (*k, v.to_string()))
                })
                .or_else(|| {
                    existing.and_then(|e| {
                        let t = e.get("type")?.as_str()?.to_string();
                        let v = e.get(&t)?.as_str()?.to_string();
                        Some(if t == "page_id" {
                            ("page_id", v)
                        } else if t == "database_id" {
                            ("database_id", v)
                        } else {
                            ("comment_id", v)
                        })
                    })
                })
                .ok_or_else(|| ApiError::body_undefined(&format!("{path}.page_id")))?;
            let id = parse_id(&raw).unwrap_or(raw);
            let mut m = Map::new();
            m.insert("type".into(), json!(k));
            m.insert(k.into(), json!(id));
            Value::Object(m)
        }
        "synced_block" => {
            let from = match given.get("synced_from") {
                Some(Value::Object(f)) => {
                    let raw = f
                        .get("block_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    json!({ "type": "block_id", "block_id": parse_id(raw).unwrap_or_else(|| raw.to_string()) })
                }
                Some(_) => Value::Null,
                None => existing
                    .and_then(|e| e.get("synced_from"))
                    .cloned()
                    .unwrap_or(Value::Null),
            };
            json!({ "synced_from": from })
        }
        other => {
            // Read-only types can only be updated in place (e.g. child_page title is not
            // writable through the block endpoint).
            return Err(ApiError::validation(format!(
                "body failed validation: {path} should be not present, instead was `{}` (block type `{other}` cannot be written).",
                short_json(given)
            )));
        }
    })
}
