//! The MCP tool list: the tool endpoint's actions the caller may use
//! (`routes::tools::available`, filtered by the policy for the caller's maturity), each as
//! one MCP tool with the same JSON Schema for its arguments and annotations from its action
//! class (`readOnlyHint` for reads, `destructiveHint` for the delete class, `idempotentHint`
//! where a repeat has no further effect).
//!
//! The only addition to a schema is `cursor` on the page reads (`get_page`,
//! `get_page_markdown`): the MCP server caps the Markdown it returns and continues from
//! there (see [`crate::mcp::results`]).

use std::sync::Arc;

use gate_core::{Caller, Gate};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::routes::tools::{ToolAction, available};

/// The actions whose Markdown the MCP server caps and continues with a `cursor`.
pub const PAGED_MARKDOWN_ACTIONS: [&str; 2] = ["get_page", "get_page_markdown"];

/// The MCP tools `caller` may use, in the tool endpoint's order.
pub fn tools_for(gate: &Gate, caller: &Caller) -> Vec<Tool> {
    available(gate, caller).into_iter().map(to_tool).collect()
}

/// Whether `name` is one of the actions (whatever the caller may use).
pub fn is_action(name: &str) -> bool {
    gate_policy::tool_actions().any(|(n, _)| n == name)
}

/// One action as an MCP tool.
fn to_tool(action: ToolAction) -> Tool {
    let mut description = action.description.clone();
    description.push('.');
    if action.approval_required {
        description.push_str(
            " Calls wait for a human's approval: the result is an `approval_required` tool \
             error with an `approval_id` (or, for clients with task support, a task); follow it \
             with get_approval.",
        );
    }
    if PAGED_MARKDOWN_ACTIONS.contains(&action.name.as_str()) {
        description.push_str(
            " Long content stops at a cap with a `next_cursor`; pass it as `cursor` for the rest.",
        );
    }
    let title = title(&action.name);
    let schema = input_schema(&action.name, action.params_schema);
    Tool::new(action.name.clone(), description, Arc::new(schema))
        .with_title(title.clone())
        .with_annotations(annotations(&action.name, &action.class, title))
}

/// A human title: `create_page` → `Create page`.
fn title(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The annotations of an action of class `class`.
///
/// - reads: read-only, not destructive, idempotent;
/// - `update_page` (its `in_trash: true` is the delete class), `update_comment` (replaces the
///   text) and the delete class (`trash_page`, `delete_comment`): destructive, idempotent
///   (setting the same values or deleting twice changes nothing more);
/// - other writes (creates, appends, comments): additive and not idempotent (a repeat writes
///   again).
fn annotations(name: &str, class: &str, title: String) -> ToolAnnotations {
    let base = ToolAnnotations::with_title(title);
    match (class, name) {
        // Takes back the agent's own held call: changes no Notion object; a repeat changes
        // nothing more.
        (_, "withdraw_approval") => base.read_only(false).destructive(false).idempotent(true),
        ("read", _) => base.read_only(true).destructive(false).idempotent(true),
        ("delete", _) | (_, "update_page" | "update_comment") => {
            base.read_only(false).destructive(true).idempotent(true)
        }
        _ => base.read_only(false).destructive(false).idempotent(false),
    }
}

/// The action's params schema as an MCP input schema (always an object schema).
fn input_schema(name: &str, schema: Value) -> Map<String, Value> {
    let mut schema = match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".to_owned()));
    if PAGED_MARKDOWN_ACTIONS.contains(&name) {
        let properties = schema
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(properties) = properties {
            properties.insert(
                "cursor".to_owned(),
                json!({
                    "type": ["string", "null"],
                    "description": "The `next_cursor` of a previous answer: continue the page's \
                                    Markdown from there"
                }),
            );
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_annotations_follow_the_class() {
        assert_eq!(title("get_page_markdown"), "Get page markdown");
        let read = annotations("search", "read", "Search".to_owned());
        assert_eq!(read.read_only_hint, Some(true));
        assert_eq!(read.destructive_hint, Some(false));
        let trash = annotations("trash_page", "delete", "Trash page".to_owned());
        assert_eq!(trash.destructive_hint, Some(true));
        assert_eq!(trash.idempotent_hint, Some(true));
        let update = annotations("update_page", "update", "Update page".to_owned());
        assert_eq!(update.destructive_hint, Some(true));
        let edit = annotations("update_comment", "update", "Update comment".to_owned());
        assert_eq!(edit.destructive_hint, Some(true));
        assert_eq!(edit.idempotent_hint, Some(true));
        let views = annotations("query_view", "read", "Query view".to_owned());
        assert_eq!(views.read_only_hint, Some(true));
        let withdraw = annotations("withdraw_approval", "read", "Withdraw approval".to_owned());
        assert_eq!(withdraw.read_only_hint, Some(false));
        assert_eq!(withdraw.destructive_hint, Some(false));
        let follow = annotations("get_approval", "read", "Get approval".to_owned());
        assert_eq!(follow.read_only_hint, Some(true));
        let create = annotations("create_page", "create", "Create page".to_owned());
        assert_eq!(create.read_only_hint, Some(false));
        assert_eq!(create.destructive_hint, Some(false));
        assert_eq!(create.idempotent_hint, Some(false));
    }

    #[test]
    fn page_reads_get_a_cursor_and_every_schema_is_an_object() {
        let s = input_schema("get_page_markdown", json!({"properties": {"page_id": {}}}));
        assert_eq!(s["type"], "object");
        assert!(s["properties"]["cursor"].is_object());
        let s = input_schema("search", Value::Null);
        assert_eq!(s["type"], "object");
        assert!(s.get("properties").is_none());
    }
}
