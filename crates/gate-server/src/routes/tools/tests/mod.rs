//! The tool endpoint: its action descriptions, and (in `endpoint`) the endpoint on the
//! running server.

mod endpoint;

use super::*;

#[test]
fn every_action_has_a_description_and_an_object_schema() {
    for action in Action::all() {
        let (description, schema) = describe(action);
        assert!(!description.is_empty(), "{action}");
        assert_eq!(schema["type"], "object", "{action}: {schema}");
    }
}

#[test]
fn tool_actions_doc_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/tool-actions.md");
    let want = actions_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).expect("write docs/tool-actions.md");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/tool-actions.md is stale: run UPDATE_DOCS=1 cargo test -p gate-server --lib tool_actions_doc"
    );
}
