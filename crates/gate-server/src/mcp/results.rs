//! How the shared actions' answers become MCP tool results.
//!
//! - A result is compact JSON (flattened properties, no raw Notion values) in one text block
//!   and the same object as `structuredContent`; lists carry their `next_cursor`.
//! - A page read (`get_page`, `get_page_markdown`) is Markdown: the title, the flattened
//!   properties, then the content, capped at [`MARKDOWN_CAP`] bytes per answer (cut at a line
//!   end). Past the cap the answer ends with a `next_cursor`, which the caller passes back as
//!   `cursor` to get the rest; `structuredContent` carries the same slice and cursor.
//! - Every refusal is a tool error (`isError: true`), never a protocol error and never an
//!   empty success: its text (and `structuredContent`) is
//!   `{"error": code, "message", "needed"?, "retry_after_seconds"?, "approval_id"?, …}` with
//!   the envelope's details (`field`, `expires_at`, `notion_code`, `write_state`, …) alongside.

use std::fmt::Write as _;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};

use gate_policy::ToolAction as Action;

use super::catalog::pages_markdown;
use crate::error::{ApiError, ErrorCode};

/// Bytes of page Markdown one answer carries at most.
pub const MARKDOWN_CAP: usize = 24_000;

/// The prefix of a Markdown continuation cursor (`md:<byte offset>`).
const CURSOR_PREFIX: &str = "md:";

/// Takes the MCP-only `cursor` argument out of a page read's arguments (the shared action
/// does not know it). Other actions keep their own `cursor` (Notion's).
pub fn take_markdown_cursor(action: Action, args: &mut Option<Value>) -> Option<Value> {
    if !pages_markdown(action) {
        return None;
    }
    args.as_mut()
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("cursor"))
        .filter(|c| !c.is_null())
}

/// Where a Markdown cursor starts in `content`, or an `invalid_request` naming `cursor`.
fn cursor_offset(cursor: Option<&Value>, content: &str) -> Result<usize, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(0);
    };
    let bad = || {
        ApiError::invalid_field(
            "params.cursor",
            "not a cursor of this page: pass the `next_cursor` of a previous answer",
        )
    };
    let offset = cursor
        .as_str()
        .and_then(|c| c.strip_prefix(CURSOR_PREFIX))
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(bad)?;
    if offset > content.len() || !content.is_char_boundary(offset) {
        return Err(bad());
    }
    Ok(offset)
}

/// The end of the slice of `content` starting at `start`: at most [`MARKDOWN_CAP`] bytes,
/// after a line end when one falls in the second half of the window.
fn slice_end(content: &str, start: usize) -> usize {
    let hard = start.saturating_add(MARKDOWN_CAP);
    if hard >= content.len() {
        return content.len();
    }
    let mut end = hard;
    while !content.is_char_boundary(end) {
        end -= 1;
    }
    let window_start = start + MARKDOWN_CAP / 2;
    match content[..end].rfind('\n') {
        Some(nl) if nl >= window_start => nl + 1,
        _ => end,
    }
}

/// A successful action's answer as a tool result. `cursor` is the page read's continuation
/// cursor, if one was given.
pub fn success(action: Action, result: Value, cursor: Option<&Value>) -> CallToolResult {
    let page_markdown =
        pages_markdown(action) && result.get("content").is_some_and(Value::is_string);
    let built = if page_markdown {
        page(action, result, cursor)
    } else {
        Ok(plain(result))
    };
    built.unwrap_or_else(|e| tool_error(&e))
}

/// Compact JSON as text, the same object as structured content.
fn plain(result: Value) -> CallToolResult {
    let structured = match result {
        Value::Object(_) => result,
        other => json!({ "result": other }),
    };
    let text = serde_json::to_string(&structured).unwrap_or_default();
    let mut out = CallToolResult::success(vec![ContentBlock::text(text)]);
    out.structured_content = Some(structured);
    out
}

/// A page read: Markdown text, capped, with a continuation cursor.
fn page(
    action: Action,
    mut result: Value,
    cursor: Option<&Value>,
) -> Result<CallToolResult, ApiError> {
    let content = result
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let start = cursor_offset(cursor, &content)?;
    let end = slice_end(&content, start);
    let next_cursor = (end < content.len()).then(|| format!("{CURSOR_PREFIX}{end}"));
    let slice = &content[start..end];

    let str_field = |key: &str| result.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut text = String::new();
    let title = str_field("title");
    let title = if title.is_empty() { "Untitled" } else { title };
    if start == 0 {
        let _ = writeln!(text, "# {title}\n");
        let _ = write!(text, "id: {}", str_field("id"));
        if let Some(url) = result.get("url").and_then(Value::as_str) {
            let _ = write!(text, " · {url}");
        }
        text.push('\n');
        if let Some(props) = result.get("properties").and_then(Value::as_object) {
            for (name, value) in props {
                if value.as_str() == Some(title) {
                    continue;
                }
                if let Some(v) = property_text(value) {
                    let _ = writeln!(text, "- **{name}**: {v}");
                }
            }
        }
        text.push('\n');
    } else {
        let _ = writeln!(text, "# {title} (continued)\n");
    }
    text.push_str(slice);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if let Some(c) = &next_cursor {
        let _ = write!(
            text,
            "\n---\nnext_cursor: {c} (call {action} again with this `cursor` for the rest)\n"
        );
    } else if result.get("truncated").and_then(Value::as_bool) == Some(true) {
        text.push_str(
            "\n---\nThe page has more blocks than were read: raise `max_blocks` (up to 10000) \
             or `depth` to read further.\n",
        );
    }

    if let Some(obj) = result.as_object_mut() {
        obj.insert("content".to_owned(), Value::String(slice.to_owned()));
        obj.insert("content_offset".to_owned(), json!(start));
        obj.insert("next_cursor".to_owned(), json!(next_cursor));
    }
    let mut out = CallToolResult::success(vec![ContentBlock::text(text)]);
    out.structured_content = Some(result);
    Ok(out)
}

/// A flattened property value as one line of text (`None` when empty).
fn property_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.replace('\n', " ")),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(property_text)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    }
}

/// The structured reason of a refusal:
/// `{"error": code, "message", "needed"?, "retry_after_seconds"?, "approval_id"?, …}`.
pub fn error_json(err: &ApiError) -> Value {
    let mut out = Map::new();
    out.insert("error".to_owned(), json!(err.code.as_str()));
    let message = if err.code == ErrorCode::ApprovalRequired {
        "this call waits for a human's approval in notion-gate; once approved it runs once, so \
         do not repeat it. Follow it with get_approval (its `approval_id`, and `wait` up to 60 \
         seconds to get the answer as soon as a human decides), or take it back with \
         withdraw_approval"
    } else {
        err.message.as_str()
    };
    out.insert("message".to_owned(), json!(message));
    if let Some(secs) = err.retry_after {
        out.insert("retry_after_seconds".to_owned(), json!(secs));
    } else if err.code == ErrorCode::RateLimited {
        out.insert("retry_after_seconds".to_owned(), json!(1));
    }
    for (key, value) in &err.details {
        out.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(out)
}

/// A refusal as a tool error (`isError: true`) carrying [`error_json`].
pub fn tool_error(err: &ApiError) -> CallToolResult {
    let reason = error_json(err);
    let text = serde_json::to_string(&reason).unwrap_or_default();
    let mut out = CallToolResult::error(vec![ContentBlock::text(text)]);
    out.structured_content = Some(reason);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &CallToolResult) -> &str {
        r.content
            .first()
            .and_then(ContentBlock::as_text)
            .map_or("", |t| t.text.as_str())
    }

    #[test]
    fn refusals_carry_their_reason() {
        let err = ApiError::new(ErrorCode::ForbiddenByPolicy, "no")
            .detail("needed", "supervised")
            .detail("reason", "class_denied");
        let r = tool_error(&err);
        assert_eq!(r.is_error, Some(true));
        let v: Value = serde_json::from_str(text(&r)).unwrap_or_default();
        assert_eq!(v["error"], "forbidden_by_policy");
        assert_eq!(v["needed"], "supervised");
        assert_eq!(r.structured_content, Some(v));

        let mut limited = ApiError::new(ErrorCode::RateLimited, "slow down");
        limited.retry_after = Some(7);
        assert_eq!(error_json(&limited)["retry_after_seconds"], 7);
    }

    #[test]
    fn long_pages_continue_with_a_cursor() {
        let line = "word ".repeat(19) + "\n";
        let content = line.repeat(MARKDOWN_CAP / line.len() * 3);
        let page = json!({"id": "p", "title": "Big", "url": null, "properties": {"Tags": ["a", "b"]},
                          "content": content, "truncated": false});
        let first = success(Action::GetPageMarkdown, page.clone(), None);
        assert_eq!(first.is_error, Some(false));
        let t = text(&first);
        assert!(
            t.starts_with("# Big\n") && t.contains("- **Tags**: a, b"),
            "{t}"
        );
        let structured = first.structured_content.clone().unwrap_or_default();
        let chunk = structured["content"].as_str().unwrap_or_default();
        assert!(chunk.len() <= MARKDOWN_CAP && chunk.ends_with('\n'));
        let mut rebuilt = chunk.to_owned();
        let mut cursor = structured["next_cursor"].clone();
        let mut rounds = 0;
        while !cursor.is_null() {
            let next = success(Action::GetPageMarkdown, page.clone(), Some(&cursor));
            let s = next.structured_content.clone().unwrap_or_default();
            rebuilt.push_str(s["content"].as_str().unwrap_or_default());
            cursor = s["next_cursor"].clone();
            rounds += 1;
            assert!(rounds < 10);
        }
        assert_eq!(rebuilt, content);

        let bad = success(Action::GetPageMarkdown, page, Some(&json!("md:999999999")));
        assert_eq!(bad.is_error, Some(true));
        assert!(text(&bad).contains("params.cursor"));
    }

    #[test]
    fn other_results_are_compact_json() {
        let r = success(
            Action::Search,
            json!({"results": [], "next_cursor": "abc"}),
            None,
        );
        assert_eq!(text(&r), r#"{"results":[],"next_cursor":"abc"}"#);
        assert_eq!(
            r.structured_content,
            Some(json!({"results": [], "next_cursor": "abc"}))
        );
    }

    #[test]
    fn only_page_reads_lose_their_cursor() {
        let mut args = Some(json!({"page_id": "x", "cursor": "md:3"}));
        assert_eq!(
            take_markdown_cursor(Action::GetPage, &mut args),
            Some(json!("md:3"))
        );
        assert_eq!(args, Some(json!({"page_id": "x"})));
        let mut args = Some(json!({"cursor": "notion"}));
        assert_eq!(take_markdown_cursor(Action::Search, &mut args), None);
        assert_eq!(args, Some(json!({"cursor": "notion"})));
    }
}
