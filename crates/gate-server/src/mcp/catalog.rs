//! The MCP tool list: the tool endpoint's actions the caller may use
//! (`routes::tools::offered`, filtered by the policy for the caller's maturity), each as
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

use gate_policy::ToolAction as Action;

use crate::routes::tools::{describe, offered};

/// Whether the MCP server caps the action's Markdown and continues it with a `cursor`
/// (`get_page`, `get_page_markdown`).
pub fn pages_markdown(action: Action) -> bool {
    matches!(action, Action::GetPage | Action::GetPageMarkdown)
}

/// The MCP tools `caller` may use, in the tool endpoint's order.
pub fn tools_for(gate: &Gate, caller: &Caller) -> Vec<Tool> {
    offered(gate, caller)
        .into_iter()
        .map(|(action, approval_required)| to_tool(action, approval_required))
        .collect()
}

/// The action an MCP tool name names exactly (whatever the caller may use).
pub fn action(name: &str) -> Option<Action> {
    Action::all().find(|a| a.name() == name)
}

/// One action as an MCP tool.
fn to_tool(action: Action, approval_required: bool) -> Tool {
    let (text, params_schema) = describe(action);
    let mut description = text.to_owned();
    description.push('.');
    if approval_required {
        description.push_str(
            " Calls wait for a human's approval: the result is an `approval_required` tool \
             error with an `approval_id` (or, for clients with task support, a task); follow it \
             with get_approval.",
        );
    }
    if pages_markdown(action) {
        description.push_str(
            " Long content stops at a cap with a `next_cursor`; pass it as `cursor` for the rest.",
        );
    }
    let title = title(action.name());
    let schema = input_schema(action, params_schema);
    Tool::new(action.name(), description, Arc::new(schema))
        .with_title(title.clone())
        .with_annotations(annotations(action, title))
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

/// The annotations of an action: its [`gate_policy::ToolHints`].
fn annotations(action: Action, title: String) -> ToolAnnotations {
    let hints = action.hints();
    ToolAnnotations::with_title(title)
        .read_only(hints.read_only)
        .destructive(hints.destructive)
        .idempotent(hints.idempotent)
}

/// The action's params schema as an MCP input schema (always an object schema).
fn input_schema(action: Action, schema: Value) -> Map<String, Value> {
    let mut schema = match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".to_owned()));
    if pages_markdown(action) {
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
    fn titles_and_annotations_follow_the_hints() {
        assert_eq!(title("get_page_markdown"), "Get page markdown");
        let read = annotations(Action::Search, "Search".to_owned());
        assert_eq!(read.read_only_hint, Some(true));
        assert_eq!(read.destructive_hint, Some(false));
        let trash = annotations(Action::TrashPage, "Trash page".to_owned());
        assert_eq!(trash.destructive_hint, Some(true));
        assert_eq!(trash.idempotent_hint, Some(true));
        let edit = annotations(Action::UpdateComment, "Update comment".to_owned());
        assert_eq!(edit.destructive_hint, Some(true));
        let withdraw = annotations(Action::WithdrawApproval, "Withdraw approval".to_owned());
        assert_eq!(withdraw.read_only_hint, Some(false));
        assert_eq!(withdraw.destructive_hint, Some(false));
        let create = annotations(Action::CreatePage, "Create page".to_owned());
        assert_eq!(create.read_only_hint, Some(false));
        assert_eq!(create.idempotent_hint, Some(false));
    }

    #[test]
    fn page_reads_get_a_cursor_and_every_schema_is_an_object() {
        let s = input_schema(
            Action::GetPageMarkdown,
            json!({"properties": {"page_id": {}}}),
        );
        assert_eq!(s["type"], "object");
        assert!(s["properties"]["cursor"].is_object());
        let s = input_schema(Action::Search, Value::Null);
        assert_eq!(s["type"], "object");
        assert!(s.get("properties").is_none());
    }
}
