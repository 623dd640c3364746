//! Classification tables: every endpoint of notion-api.md §3.1 (and §3.2) with the body
//! variants that change the class, plus the gateway's tool actions.

use gate_policy::{
    ActionClass, OperationScope, ToolAction, WORKSPACE_TARGET, classify, classify_tool,
};
use serde_json::{Value, json};

use ActionClass::{Create as C, Delete as D, Read as R, Schema as X, Update as U};

const P: &str = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";
const PN: &str = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
const Q: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

struct Row {
    method: &'static str,
    path: String,
    body: Option<Value>,
    class: ActionClass,
    name: &'static str,
    targets: Vec<&'static str>,
}

fn row(
    method: &'static str,
    path: &str,
    body: Option<Value>,
    class: ActionClass,
    name: &'static str,
    targets: &[&'static str],
) -> Row {
    Row {
        method,
        path: path.replace("{P}", P),
        body,
        class,
        name,
        targets: targets.to_vec(),
    }
}

fn md(ty: &str, inner: Value) -> Option<Value> {
    Some(json!({ "type": ty, ty: inner }))
}

fn table() -> Vec<Row> {
    vec![
        // Users
        row("GET", "/v1/users/me", None, R, "users.me", &[]),
        row("GET", "/v1/users/u123", None, R, "users.retrieve", &[]),
        row("GET", "/v1/users?page_size=10", None, R, "users.list", &[]),
        // Search
        row(
            "POST",
            "/v1/search",
            Some(json!({"query": "x", "filter": {"in_trash": true}})),
            R,
            "search",
            &[],
        ),
        // Pages: create
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"page_id": P}, "properties": {}})),
            C,
            "pages.create",
            &[PN],
        ),
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"data_source_id": Q}, "markdown": "# hi"})),
            C,
            "pages.create",
            &[Q],
        ),
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"database_id": P}, "children": []})),
            C,
            "pages.create",
            &[PN],
        ),
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"workspace": true}})),
            C,
            "pages.create",
            &[WORKSPACE_TARGET],
        ),
        row(
            "POST",
            "/v1/pages",
            None,
            C,
            "pages.create",
            &[WORKSPACE_TARGET],
        ),
        // Pages: retrieve / update
        row(
            "GET",
            "/v1/pages/{P}?filter_properties=a&filter_properties=b",
            None,
            R,
            "pages.retrieve",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"properties": {"Done": {"checkbox": true}}})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"icon": {"emoji": "x"}})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"cover": null})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"is_locked": true})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"is_archived": true})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"in_trash": false})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"template": {"type": "default"}})),
            U,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"in_trash": true})),
            D,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"archived": true})),
            D,
            "pages.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"template": {"type": "default"}, "erase_content": true})),
            D,
            "pages.update",
            &[PN],
        ),
        row("PATCH", "/v1/pages/{P}", None, U, "pages.update", &[PN]),
        // Pages: move, property item
        row(
            "POST",
            "/v1/pages/{P}/move",
            Some(json!({"parent": {"type": "page_id", "page_id": Q}})),
            U,
            "pages.move",
            &[PN, Q],
        ),
        row(
            "POST",
            "/v1/pages/{P}/move",
            Some(json!({"parent": {"data_source_id": Q}})),
            U,
            "pages.move",
            &[PN, Q],
        ),
        row(
            "POST",
            "/v1/pages/{P}/move",
            None,
            U,
            "pages.move",
            &[PN, WORKSPACE_TARGET],
        ),
        row(
            "GET",
            "/v1/pages/{P}/properties/%7CyVi?page_size=5",
            None,
            R,
            "pages.properties.retrieve",
            &[PN],
        ),
        // Pages: markdown
        row(
            "GET",
            "/v1/pages/{P}/markdown?include_transcript=true",
            None,
            R,
            "pages.markdown.retrieve",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md("insert_content", json!({"content": "x"})),
            C,
            "pages.markdown.insert_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md(
                "insert_content",
                json!({"content": "x", "position": {"type": "start"}}),
            ),
            C,
            "pages.markdown.insert_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md(
                "update_content",
                json!({"content_updates": [{"old_str": "a", "new_str": "b"}]}),
            ),
            U,
            "pages.markdown.update_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md(
                "replace_content_range",
                json!({"content": "x", "content_range": "a...b"}),
            ),
            U,
            "pages.markdown.replace_content_range",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md(
                "update_content",
                json!({"content_updates": [], "allow_deleting_content": true}),
            ),
            D,
            "pages.markdown.update_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md(
                "replace_content_range",
                json!({"content": "", "content_range": "a...b", "allow_deleting_content": true}),
            ),
            D,
            "pages.markdown.replace_content_range",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            md("replace_content", json!({"new_str": "x"})),
            D,
            "pages.markdown.replace_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            Some(
                json!({"type": "insert_content", "insert_content": {"content": "x"}, "replace_content": {"new_str": ""}}),
            ),
            D,
            "pages.markdown.insert_content",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            Some(json!({"type": "shred_content"})),
            D,
            "pages.markdown.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            Some(json!({"insert_content": {"content": "x"}})),
            D,
            "pages.markdown.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}/markdown",
            None,
            D,
            "pages.markdown.update",
            &[PN],
        ),
        // Blocks
        row("GET", "/v1/blocks/{P}", None, R, "blocks.retrieve", &[PN]),
        row(
            "PATCH",
            "/v1/blocks/{P}",
            Some(json!({"paragraph": {"rich_text": []}})),
            U,
            "blocks.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/blocks/{P}",
            Some(json!({"in_trash": true})),
            D,
            "blocks.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/blocks/{P}",
            Some(json!({"archived": true})),
            D,
            "blocks.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/blocks/{P}",
            Some(json!({"in_trash": false})),
            U,
            "blocks.update",
            &[PN],
        ),
        row("DELETE", "/v1/blocks/{P}", None, D, "blocks.delete", &[PN]),
        row(
            "GET",
            "/v1/blocks/{P}/children?page_size=100",
            None,
            R,
            "blocks.children.list",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/blocks/{P}/children",
            Some(
                json!({"children": [{"paragraph": {"rich_text": []}}], "position": {"type": "end"}}),
            ),
            C,
            "blocks.children.append",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/blocks/{P}/children",
            Some(json!({"children": [], "after": Q})),
            C,
            "blocks.children.append",
            &[PN],
        ),
        // Databases
        row(
            "GET",
            "/v1/databases/{P}",
            None,
            R,
            "databases.retrieve",
            &[PN],
        ),
        row(
            "POST",
            "/v1/databases",
            Some(
                json!({"parent": {"type": "page_id", "page_id": Q}, "title": [], "initial_data_source": {"properties": {}}}),
            ),
            X,
            "databases.create",
            &[Q],
        ),
        row(
            "PATCH",
            "/v1/databases/{P}",
            Some(json!({"title": []})),
            X,
            "databases.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/databases/{P}",
            Some(json!({"parent": {"page_id": Q}})),
            X,
            "databases.update",
            &[PN, Q],
        ),
        row(
            "PATCH",
            "/v1/databases/{P}",
            Some(json!({"in_trash": true})),
            D,
            "databases.update",
            &[PN],
        ),
        row(
            "POST",
            "/v1/databases/{P}/query",
            Some(
                json!({"filter": {"property": "x", "checkbox": {"equals": true}}, "in_trash": true, "archived": true}),
            ),
            R,
            "databases.query",
            &[PN],
        ),
        // Data sources
        row(
            "GET",
            "/v1/data_sources/{P}",
            None,
            R,
            "data_sources.retrieve",
            &[PN],
        ),
        row(
            "POST",
            "/v1/data_sources",
            Some(json!({"parent": {"database_id": Q}, "properties": {}})),
            X,
            "data_sources.create",
            &[Q],
        ),
        row(
            "PATCH",
            "/v1/data_sources/{P}",
            Some(json!({"properties": {"Old": null}})),
            X,
            "data_sources.update",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/data_sources/{P}",
            Some(json!({"archived": true})),
            D,
            "data_sources.update",
            &[PN],
        ),
        row(
            "POST",
            "/v1/data_sources/{P}/query",
            Some(json!({"in_trash": true})),
            R,
            "data_sources.query",
            &[PN],
        ),
        row(
            "GET",
            "/v1/data_sources/{P}/templates?name=x",
            None,
            R,
            "data_sources.templates.list",
            &[PN],
        ),
        // Comments
        row(
            "POST",
            "/v1/comments",
            Some(json!({"parent": {"page_id": P}, "rich_text": []})),
            C,
            "comments.create",
            &[PN],
        ),
        row(
            "POST",
            "/v1/comments",
            Some(json!({"parent": {"block_id": Q}, "markdown": "hi"})),
            C,
            "comments.create",
            &[Q],
        ),
        row(
            "POST",
            "/v1/comments",
            Some(json!({"discussion_id": "d1", "markdown": "hi"})),
            C,
            "comments.create",
            &[WORKSPACE_TARGET],
        ),
        row(
            "GET",
            "/v1/comments?block_id={P}&page_size=10",
            None,
            R,
            "comments.list",
            &[PN],
        ),
        row("GET", "/v1/comments/c1", None, R, "comments.retrieve", &[]),
        row(
            "PATCH",
            "/v1/comments/c1",
            Some(json!({"markdown": "x"})),
            U,
            "comments.update",
            &[],
        ),
        row("DELETE", "/v1/comments/c1", None, D, "comments.delete", &[]),
        // §3.2: file uploads, emojis, tasks, views, meeting notes, removed list
        row(
            "POST",
            "/v1/file_uploads",
            Some(json!({"mode": "single_part"})),
            C,
            "file_uploads.create",
            &[],
        ),
        row(
            "POST",
            "/v1/file_uploads/f1/send",
            None,
            C,
            "file_uploads.send",
            &[],
        ),
        row(
            "POST",
            "/v1/file_uploads/f1/complete",
            None,
            C,
            "file_uploads.complete",
            &[],
        ),
        row(
            "GET",
            "/v1/file_uploads/f1",
            None,
            R,
            "file_uploads.retrieve",
            &[],
        ),
        row(
            "GET",
            "/v1/file_uploads?status=pending",
            None,
            R,
            "file_uploads.list",
            &[],
        ),
        row(
            "GET",
            "/v1/custom_emojis",
            None,
            R,
            "custom_emojis.list",
            &[],
        ),
        row(
            "GET",
            "/v1/async_tasks/t1",
            None,
            R,
            "async_tasks.retrieve",
            &[],
        ),
        row(
            "GET",
            "/v1/views?database_id={P}",
            None,
            R,
            "views.list",
            &[PN],
        ),
        row(
            "POST",
            "/v1/views",
            Some(json!({"data_source_id": Q, "type": "table"})),
            X,
            "views.create",
            &[Q],
        ),
        row("GET", "/v1/views/v1", None, R, "views.retrieve", &[]),
        row(
            "PATCH",
            "/v1/views/v1",
            Some(json!({"name": "x"})),
            X,
            "views.update",
            &[],
        ),
        row("DELETE", "/v1/views/v1", None, X, "views.delete", &[]),
        row(
            "POST",
            "/v1/views/v1/queries",
            None,
            R,
            "views.queries.create",
            &[],
        ),
        row(
            "GET",
            "/v1/views/v1/queries/q1",
            None,
            R,
            "views.queries.retrieve",
            &[],
        ),
        row(
            "DELETE",
            "/v1/views/v1/queries/q1",
            None,
            R,
            "views.queries.delete",
            &[],
        ),
        row(
            "POST",
            "/v1/blocks/meeting_notes",
            Some(json!({"parent": {"page_id": P}})),
            C,
            "meeting_notes.create",
            &[PN],
        ),
        row(
            "POST",
            "/v1/blocks/meeting_notes/query",
            Some(json!({"limit": 5})),
            R,
            "meeting_notes.query",
            &[],
        ),
        row("GET", "/v1/databases", None, R, "databases.list", &[]),
        // allow_deleting_content anywhere escalates, whatever the endpoint.
        row(
            "PATCH",
            "/v1/blocks/{P}/children",
            Some(json!({"children": [{"x": {"allow_deleting_content": true}}]})),
            D,
            "blocks.children.append",
            &[PN],
        ),
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"page_id": P}, "allow_deleting_content": true})),
            D,
            "pages.create",
            &[PN],
        ),
        // in_trash / archived only count on PATCH and only at the top level.
        row(
            "POST",
            "/v1/pages",
            Some(json!({"parent": {"page_id": P}, "in_trash": true})),
            C,
            "pages.create",
            &[PN],
        ),
        row(
            "PATCH",
            "/v1/pages/{P}",
            Some(json!({"properties": {"x": {"in_trash": true}}})),
            U,
            "pages.update",
            &[PN],
        ),
    ]
}

/// Every endpoint the emulator serves (its one route list) has a class: a data operation, or
/// (OAuth) an endpoint the gateway never forwards; none falls into the unknown class.
#[test]
fn every_emulator_route_is_classified() {
    let mut seen = 0;
    for (method, template) in notion_emulator::pipeline::ROUTES {
        let path = template
            .replace("{id}", P)
            .replace("{property_id}", "title")
            .replace("{query_id}", Q);
        let op = classify(method, &path, None);
        assert_ne!(
            op.scope,
            OperationScope::Unknown,
            "{method} {template} is not classified"
        );
        assert_ne!(op.name, "unknown", "{method} {template}");
        seen += 1;
    }
    assert!(seen >= 49, "only {seen} emulator routes");
}

#[test]
fn every_endpoint_and_body_variant() {
    let rows = table();
    for r in &rows {
        let op = classify(r.method, &r.path, r.body.as_ref());
        let ctx = format!("{} {} {:?}", r.method, r.path, r.body);
        assert_eq!(op.class, r.class, "class: {ctx}");
        assert_eq!(op.name, r.name, "name: {ctx}");
        assert_eq!(op.targets, r.targets, "targets: {ctx}");
        assert_eq!(op.scope, OperationScope::Data, "scope: {ctx}");
        // Same result without the /v1 prefix, with a trailing slash, and lowercase method.
        let alt = r.path.trim_start_matches("/v1");
        let alt = match alt.split_once('?') {
            Some((p, q)) => format!("{p}/?{q}"),
            None => format!("{alt}/"),
        };
        let op2 = classify(&r.method.to_lowercase(), &alt, r.body.as_ref());
        assert_eq!(op2, op, "alt form {alt}");
    }
    assert!(rows.len() >= 80, "{}", rows.len());
}

#[test]
fn oauth_and_agents_api_are_not_proxied() {
    for (m, path, name) in [
        ("POST", "/v1/oauth/token", "oauth.token"),
        ("POST", "/v1/oauth/introspect", "oauth.introspect"),
        ("POST", "/v1/oauth/revoke", "oauth.revoke"),
        ("GET", "/v1/oauth/authorize?client_id=x", "oauth"),
        ("POST", "/v1/agents", "agents"),
        ("GET", "/v1/threads/t1", "agents"),
        ("POST", "/v1/sessions", "agents"),
        ("GET", "/v1/external_agent_stub/x", "agents"),
    ] {
        let op = classify(m, path, None);
        assert_eq!(op.scope, OperationScope::NotProxied, "{path}");
        assert_eq!(op.name, name, "{path}");
        assert_eq!(op.class, D, "{path}");
    }
}

#[test]
fn unknown_and_wrong_method_are_delete() {
    for (m, path) in [
        ("GET", "/v1/unknown"),
        ("PUT", "/v1/pages/x"),
        ("HEAD", "/v1/pages/x"),
        ("PATCH", "/v1/pages"),
        ("DELETE", "/v1/pages/x"),
        ("GET", "/v1/search"),
        ("POST", "/v1/blocks/x"),
        ("GET", "/v1/pages/x/markdown/extra"),
        ("GET", "/v1/a/b/c/d/e/f/g"),
        ("GET", ""),
        ("GET", "/v1"),
        ("GET", "/v2/pages/x"),
        ("", "/v1/pages/x"),
    ] {
        let op = classify(m, path, None);
        assert_eq!(op.class, D, "{m} {path}");
        assert_eq!(op.scope, OperationScope::Unknown, "{m} {path}");
        assert_eq!(op.name, "unknown");
    }
}

#[test]
fn tool_actions_table() {
    let page = json!({ "page_id": P });
    let cases: &[(&str, Option<Value>, ActionClass, &[&str])] = &[
        ("search", Some(json!({"query": "x"})), R, &[]),
        ("search_local", Some(json!({"query": "x"})), R, &[]),
        ("list_databases", None, R, &[]),
        (
            "query_database",
            Some(json!({"database_id": P, "filter": {}})),
            R,
            &[PN],
        ),
        ("get_schema", Some(json!({"data_source_id": Q})), R, &[Q]),
        ("get_page", Some(page.clone()), R, &[PN]),
        ("get_blocks", Some(json!({"block_id": P})), R, &[PN]),
        ("get_page_markdown", Some(page.clone()), R, &[PN]),
        ("list_comments", Some(json!({"block_id": Q})), R, &[Q]),
        (
            "create_page",
            Some(json!({"database_id": P, "properties": {}})),
            C,
            &[PN],
        ),
        (
            "create_page",
            Some(json!({"parent": {"page_id": Q}})),
            C,
            &[Q],
        ),
        ("create_page", Some(json!({"parent_id": Q})), C, &[Q]),
        (
            "create_page",
            Some(json!({"properties": {}})),
            C,
            &[WORKSPACE_TARGET],
        ),
        (
            "append_blocks",
            Some(json!({"page_id": P, "blocks": []})),
            C,
            &[PN],
        ),
        (
            "append_markdown",
            Some(json!({"page_id": P, "markdown": "x"})),
            C,
            &[PN],
        ),
        (
            "append_markdown",
            Some(json!({"page_id": P, "allow_deleting_content": true})),
            D,
            &[PN],
        ),
        (
            "add_comment",
            Some(json!({"page_id": P, "text": "x"})),
            C,
            &[PN],
        ),
        (
            "add_comment",
            Some(json!({"discussion_id": "d", "text": "x"})),
            C,
            &[WORKSPACE_TARGET],
        ),
        (
            "update_page",
            Some(json!({"page_id": P, "properties": {}})),
            U,
            &[PN],
        ),
        (
            "update_page",
            Some(json!({"page_id": P, "in_trash": true})),
            D,
            &[PN],
        ),
        (
            "update_page",
            Some(json!({"page_id": P, "archived": true})),
            D,
            &[PN],
        ),
        (
            "update_page",
            Some(json!({"page_id": P, "erase_content": true})),
            D,
            &[PN],
        ),
        (
            "update_page",
            Some(json!({"page_id": P, "in_trash": false})),
            U,
            &[PN],
        ),
        ("trash_page", Some(page.clone()), D, &[PN]),
        ("  Get_Page ", Some(page.clone()), R, &[PN]),
        (
            "get_approval",
            Some(json!({"approval_id": "0b6f0c2e-8f1a-4c55-9a0e-3c2f1d2e4b5a", "wait": 30})),
            R,
            &[],
        ),
        ("list_approvals", Some(json!({"status": "pending"})), R, &[]),
        ("list_views", Some(json!({"database_id": P})), R, &[PN]),
        (
            "query_view",
            Some(json!({"view_id": P, "limit": 5})),
            R,
            &[],
        ),
        (
            "update_comment",
            Some(json!({"comment_id": P, "text": "x"})),
            U,
            &[],
        ),
        ("delete_comment", Some(json!({"comment_id": P})), D, &[]),
        (
            "upload_file",
            Some(json!({"page_id": P, "url": "https://x.test/a.png", "attach_as": "image"})),
            C,
            &[PN],
        ),
        (
            "withdraw_approval",
            Some(json!({"approval_id": "0b6f0c2e-8f1a-4c55-9a0e-3c2f1d2e4b5a"})),
            R,
            &[],
        ),
    ];
    for (action, params, class, targets) in cases {
        let op = classify_tool(action, params.as_ref());
        assert_eq!(op.class, *class, "{action} {params:?}");
        assert_eq!(op.targets, *targets, "{action} {params:?}");
        assert_eq!(op.scope, OperationScope::Data);
        assert_eq!(op.name, action.trim().to_lowercase());
    }
    for unknown in ["", "delete_everything", "search2", "notion_search"] {
        let op = classify_tool(unknown, None);
        assert_eq!(op.class, D, "{unknown}");
        assert_eq!(op.scope, OperationScope::Unknown);
    }
    assert_eq!(ToolAction::all().count(), 23);
}
