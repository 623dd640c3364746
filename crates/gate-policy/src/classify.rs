//! Classification: every Notion API request and every gateway tool action maps to an
//! [`Operation`] with one [`ActionClass`], a stable name and the ids it targets.
//!
//! Rules (Notion paths, with or without `/v1`, trailing slash, query string or full URL):
//!
//! - every known `GET`, `POST /search`, `POST /databases/{id}/query`,
//!   `POST /data_sources/{id}/query`, `POST /views/{id}/queries` (and reading or discarding a
//!   view query), `POST /blocks/meeting_notes/query` → `read`;
//! - `POST /pages`, `PATCH /blocks/{id}/children`, `POST /comments`, file uploads
//!   (`POST /file_uploads`, `…/send`, `…/complete`), `POST /blocks/meeting_notes`, markdown
//!   `insert_content` → `create`;
//! - `PATCH /pages/{id}`, `PATCH /blocks/{id}`, `POST /pages/{id}/move`, `PATCH /comments/{id}`,
//!   markdown `update_content` / `replace_content_range` → `update`;
//! - `DELETE /blocks/{id}`, `DELETE /comments/{id}`, markdown `replace_content` → `delete`;
//! - `POST`/`PATCH` on `/databases` and `/data_sources`, `POST /views`, `PATCH`/`DELETE
//!   /views/{id}` → `schema`;
//! - overriding all of the above: any `PATCH` whose body has top-level `in_trash: true`,
//!   `archived: true` or `erase_content: true`, and any request whose body contains
//!   `allow_deleting_content: true` at any depth → `delete`;
//! - markdown `PATCH` with a missing or unknown `type` → `delete`; when the body carries several
//!   command objects the most severe one counts;
//! - OAuth (`/oauth/...`) and the agents API (`/agents`, `/threads`, `/sessions`,
//!   `/external_agent_stub`) → [`OperationScope::NotProxied`] (class `delete`): they are not
//!   workspace data operations and the gateway never forwards them, whoever asks;
//! - anything else (unknown path, or a known path with an unsupported method) →
//!   [`OperationScope::Unknown`], class `delete` (fail closed).
//!
//! Targets are the page, block, database and data source ids in the path, in the query string
//! (`block_id`, `database_id`, `data_source_id`) and in the body (`parent.{page_id, block_id,
//! database_id, data_source_id}` and the same keys at top level), normalised with
//! [`crate::normalize_id`]. An operation that places something under a parent but names no
//! parent id (a workspace-level page or database, a comment reply by `discussion_id`, a move
//! without a parent) gets the pseudo-target [`WORKSPACE_TARGET`], which is never inside an
//! agent's root pages. User, comment, view, upload and task ids are not targets.

use serde::Serialize;
use serde_json::Value;

use crate::class::ActionClass;
use crate::ids::target_id;

/// Pseudo-target for "the workspace itself" (or a parent the request does not name).
pub const WORKSPACE_TARGET: &str = "workspace";

/// Depth past which a body is not searched for `allow_deleting_content` and is treated as if
/// it contained it (fail closed).
const MAX_SCAN_DEPTH: usize = 64;

/// Whether an operation is governed data access, unrecognised, or never forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OperationScope {
    /// A recognised Notion data operation or gateway tool action.
    Data,
    /// Not recognised; classified `delete` (fail closed).
    Unknown,
    /// A recognised Notion endpoint that is not a data operation (OAuth, agents API). The
    /// gateway never forwards it; [`crate::decide`] denies it for every caller.
    NotProxied,
}

/// A classified operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Operation {
    /// The action class the policy decides on.
    pub class: ActionClass,
    /// Stable name for audit and messages, e.g. `"pages.update"` or, for tool actions, the
    /// action name (`"create_page"`). `"unknown"` for unknown operations.
    pub name: &'static str,
    /// Data, unknown or not proxied.
    pub scope: OperationScope,
    /// Ids the operation touches (see the module docs), deduplicated, in order of appearance.
    pub targets: Vec<String>,
}

impl Operation {
    /// Builds an operation by hand (tests, or callers with their own classification).
    pub fn new(
        class: ActionClass,
        name: &'static str,
        scope: OperationScope,
        targets: Vec<String>,
    ) -> Self {
        Self {
            class,
            name,
            scope,
            targets,
        }
    }

    fn data(class: ActionClass, name: &'static str) -> Self {
        Self::new(class, name, OperationScope::Data, Vec::new())
    }

    fn unknown() -> Self {
        Self::new(
            ActionClass::Delete,
            "unknown",
            OperationScope::Unknown,
            Vec::new(),
        )
    }

    fn not_proxied(name: &'static str) -> Self {
        Self::new(
            ActionClass::Delete,
            name,
            OperationScope::NotProxied,
            Vec::new(),
        )
    }

    fn push_target(&mut self, raw: &str) {
        let id = target_id(raw);
        if !id.is_empty() && !self.targets.contains(&id) {
            self.targets.push(id);
        }
    }

    fn escalate(&mut self, class: ActionClass) {
        self.class = self.class.max_severity(class);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
    Delete,
    Other,
}

impl Method {
    fn parse(m: &str) -> Method {
        let m = m.trim();
        if m.eq_ignore_ascii_case("GET") {
            Method::Get
        } else if m.eq_ignore_ascii_case("POST") {
            Method::Post
        } else if m.eq_ignore_ascii_case("PATCH") {
            Method::Patch
        } else if m.eq_ignore_ascii_case("DELETE") {
            Method::Delete
        } else {
            Method::Other
        }
    }
}

/// Splits `path` into (path part, query part), dropping scheme/host and fragment.
fn split_path(path: &str) -> (&str, &str) {
    let mut p = path.trim();
    if let Some(i) = p.find('#') {
        p = &p[..i];
    }
    let (p, q) = match p.find('?') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => (p, ""),
    };
    let p = match p.find("://") {
        Some(i) => {
            let rest = &p[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        None => p,
    };
    (p, q)
}

fn query_param<'a>(query: &'a str, key: &str) -> impl Iterator<Item = &'a str> {
    query.split('&').filter_map(move |kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key && !v.is_empty()).then_some(v)
    })
}

const PARENT_KEYS: [&str; 4] = ["page_id", "block_id", "database_id", "data_source_id"];

/// Adds parent and top-level ids from a body; returns whether any parent id was found.
fn body_targets(op: &mut Operation, body: Option<&Value>) -> bool {
    let Some(obj) = body.and_then(Value::as_object) else {
        return false;
    };
    let mut found_parent = false;
    if let Some(parent) = obj.get("parent").and_then(Value::as_object) {
        for key in PARENT_KEYS {
            if let Some(id) = parent.get(key).and_then(Value::as_str) {
                op.push_target(id);
                found_parent = true;
            }
        }
    }
    for key in PARENT_KEYS {
        if let Some(id) = obj.get(key).and_then(Value::as_str) {
            op.push_target(id);
            found_parent = true;
        }
    }
    found_parent
}

/// Like [`body_targets`], and adds [`WORKSPACE_TARGET`] when no parent id is named.
fn parented_targets(op: &mut Operation, body: Option<&Value>) {
    if !body_targets(op, body) {
        op.push_target(WORKSPACE_TARGET);
    }
}

fn flag_true(body: Option<&Value>, key: &str) -> bool {
    body.and_then(|b| b.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Whether `key: true` appears anywhere in `v` (or `v` is too deep to tell).
fn contains_true_flag(v: &Value, key: &str, depth: usize) -> bool {
    if depth > MAX_SCAN_DEPTH {
        return true;
    }
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (k == key && v.as_bool() == Some(true)) || contains_true_flag(v, key, depth + 1)
        }),
        Value::Array(items) => items.iter().any(|v| contains_true_flag(v, key, depth + 1)),
        _ => false,
    }
}

fn markdown_command(name: &str) -> Option<(ActionClass, &'static str)> {
    Some(match name {
        "insert_content" => (ActionClass::Create, "pages.markdown.insert_content"),
        "update_content" => (ActionClass::Update, "pages.markdown.update_content"),
        "replace_content_range" => (ActionClass::Update, "pages.markdown.replace_content_range"),
        "replace_content" => (ActionClass::Delete, "pages.markdown.replace_content"),
        _ => return None,
    })
}

fn markdown_update(body: Option<&Value>) -> Operation {
    let obj = body.and_then(Value::as_object);
    let named = obj
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        .and_then(markdown_command);
    let mut op = match named {
        Some((class, name)) => Operation::data(class, name),
        None => Operation::data(ActionClass::Delete, "pages.markdown.update"),
    };
    if let Some(obj) = obj {
        for key in [
            "insert_content",
            "update_content",
            "replace_content_range",
            "replace_content",
        ] {
            if obj.contains_key(key)
                && let Some((class, _)) = markdown_command(key)
            {
                op.escalate(class);
            }
        }
    }
    op
}

const NOT_PROXIED_ROOTS: [&str; 4] = ["agents", "threads", "sessions", "external_agent_stub"];

/// Classifies a Notion API request. Never panics; unknown requests are `delete`-class.
///
/// `method` is matched case-insensitively; `path` may carry `/v1`, a trailing slash, a query
/// string, a fragment or a scheme and host; `body` is the parsed JSON body, if any.
pub fn classify(method: &str, path: &str, body: Option<&Value>) -> Operation {
    use ActionClass::{Create, Delete, Read, Schema, Update};
    use Method::{Delete as Del, Get, Patch, Post};

    let method = Method::parse(method);
    let (path, query) = split_path(path);
    let mut segs = [""; 6];
    let mut n = 0;
    for s in path.split('/').filter(|s| !s.is_empty()) {
        if n == segs.len() {
            return Operation::unknown();
        }
        segs[n] = s;
        n += 1;
    }
    let mut segs = &segs[..n];
    if segs.first() == Some(&"v1") {
        segs = &segs[1..];
    }

    let mut op = match (method, segs) {
        (_, ["oauth", "token"]) => return Operation::not_proxied("oauth.token"),
        (_, ["oauth", "introspect"]) => return Operation::not_proxied("oauth.introspect"),
        (_, ["oauth", "revoke"]) => return Operation::not_proxied("oauth.revoke"),
        (_, ["oauth", ..]) => return Operation::not_proxied("oauth"),
        (_, [first, ..]) if NOT_PROXIED_ROOTS.contains(first) => {
            return Operation::not_proxied("agents");
        }

        (Get, ["users"]) => Operation::data(Read, "users.list"),
        (Get, ["users", "me"]) => Operation::data(Read, "users.me"),
        (Get, ["users", _]) => Operation::data(Read, "users.retrieve"),

        (Post, ["search"]) => Operation::data(Read, "search"),

        (Post, ["pages"]) => {
            let mut op = Operation::data(Create, "pages.create");
            parented_targets(&mut op, body);
            op
        }
        (Get, ["pages", id]) => Operation::data(Read, "pages.retrieve").with(id),
        (Patch, ["pages", id]) => Operation::data(Update, "pages.update").with(id),
        (Post, ["pages", id, "move"]) => {
            let mut op = Operation::data(Update, "pages.move").with(id);
            parented_targets(&mut op, body);
            op
        }
        (Get, ["pages", id, "properties", _]) => {
            Operation::data(Read, "pages.properties.retrieve").with(id)
        }
        (Get, ["pages", id, "markdown"]) => {
            Operation::data(Read, "pages.markdown.retrieve").with(id)
        }
        (Patch, ["pages", id, "markdown"]) => markdown_update(body).with(id),

        (Post, ["blocks", "meeting_notes"]) => {
            let mut op = Operation::data(Create, "meeting_notes.create");
            parented_targets(&mut op, body);
            op
        }
        (Post, ["blocks", "meeting_notes", "query"]) => {
            Operation::data(Read, "meeting_notes.query")
        }
        (Get, ["blocks", id]) => Operation::data(Read, "blocks.retrieve").with(id),
        (Patch, ["blocks", id]) => Operation::data(Update, "blocks.update").with(id),
        (Del, ["blocks", id]) => Operation::data(Delete, "blocks.delete").with(id),
        (Get, ["blocks", id, "children"]) => Operation::data(Read, "blocks.children.list").with(id),
        (Patch, ["blocks", id, "children"]) => {
            Operation::data(Create, "blocks.children.append").with(id)
        }

        (Get, ["databases"]) => Operation::data(Read, "databases.list"),
        (Post, ["databases"]) => {
            let mut op = Operation::data(Schema, "databases.create");
            parented_targets(&mut op, body);
            op
        }
        (Get, ["databases", id]) => Operation::data(Read, "databases.retrieve").with(id),
        (Patch, ["databases", id]) => {
            let mut op = Operation::data(Schema, "databases.update").with(id);
            body_targets(&mut op, body);
            op
        }
        (Post, ["databases", id, "query"]) => Operation::data(Read, "databases.query").with(id),

        (Post, ["data_sources"]) => {
            let mut op = Operation::data(Schema, "data_sources.create");
            parented_targets(&mut op, body);
            op
        }
        (Get, ["data_sources", id]) => Operation::data(Read, "data_sources.retrieve").with(id),
        (Patch, ["data_sources", id]) => {
            let mut op = Operation::data(Schema, "data_sources.update").with(id);
            body_targets(&mut op, body);
            op
        }
        (Post, ["data_sources", id, "query"]) => {
            Operation::data(Read, "data_sources.query").with(id)
        }
        (Get, ["data_sources", id, "templates"]) => {
            Operation::data(Read, "data_sources.templates.list").with(id)
        }

        (Post, ["comments"]) => {
            let mut op = Operation::data(Create, "comments.create");
            parented_targets(&mut op, body);
            op
        }
        (Get, ["comments"]) => {
            let mut op = Operation::data(Read, "comments.list");
            for id in query_param(query, "block_id") {
                op.push_target(id);
            }
            op
        }
        (Get, ["comments", _]) => Operation::data(Read, "comments.retrieve"),
        (Patch, ["comments", _]) => Operation::data(Update, "comments.update"),
        (Del, ["comments", _]) => Operation::data(Delete, "comments.delete"),

        (Post, ["file_uploads"]) => Operation::data(Create, "file_uploads.create"),
        (Get, ["file_uploads"]) => Operation::data(Read, "file_uploads.list"),
        (Get, ["file_uploads", _]) => Operation::data(Read, "file_uploads.retrieve"),
        (Post, ["file_uploads", _, "send"]) => Operation::data(Create, "file_uploads.send"),
        (Post, ["file_uploads", _, "complete"]) => Operation::data(Create, "file_uploads.complete"),

        (Get, ["custom_emojis"]) => Operation::data(Read, "custom_emojis.list"),
        (Get, ["async_tasks", _]) => Operation::data(Read, "async_tasks.retrieve"),

        (Get, ["views"]) => {
            let mut op = Operation::data(Read, "views.list");
            for key in ["database_id", "data_source_id"] {
                for id in query_param(query, key) {
                    op.push_target(id);
                }
            }
            op
        }
        (Post, ["views"]) => {
            let mut op = Operation::data(Schema, "views.create");
            parented_targets(&mut op, body);
            op
        }
        (Get, ["views", _]) => Operation::data(Read, "views.retrieve"),
        (Patch, ["views", _]) => Operation::data(Schema, "views.update"),
        (Del, ["views", _]) => Operation::data(Schema, "views.delete"),
        (Post, ["views", _, "queries"]) => Operation::data(Read, "views.queries.create"),
        (Get, ["views", _, "queries", _]) => Operation::data(Read, "views.queries.retrieve"),
        (Del, ["views", _, "queries", _]) => Operation::data(Read, "views.queries.delete"),

        _ => return Operation::unknown(),
    };

    if method == Patch
        && (flag_true(body, "in_trash")
            || flag_true(body, "archived")
            || flag_true(body, "erase_content"))
    {
        op.escalate(Delete);
    }
    if body.is_some_and(|b| contains_true_flag(b, "allow_deleting_content", 0)) {
        op.escalate(Delete);
    }
    op
}

impl Operation {
    fn with(mut self, id: &str) -> Self {
        self.push_target(id);
        self
    }
}

/// The gateway's own tool actions: name, class. The last three follow the caller's own held
/// calls (its approvals): they touch no Notion object, so they are `read` class and offered
/// at every maturity that can read (hence at every maturity whose calls can be held).
const TOOL_ACTIONS: [(&str, ActionClass); 23] = [
    ("search", ActionClass::Read),
    // The local mirror's full-text search (gate-mirror): no Notion request.
    ("search_local", ActionClass::Read),
    ("list_databases", ActionClass::Read),
    ("query_database", ActionClass::Read),
    ("get_schema", ActionClass::Read),
    ("get_page", ActionClass::Read),
    ("get_blocks", ActionClass::Read),
    ("get_page_markdown", ActionClass::Read),
    ("list_comments", ActionClass::Read),
    ("list_views", ActionClass::Read),
    ("query_view", ActionClass::Read),
    ("create_page", ActionClass::Create),
    ("append_blocks", ActionClass::Create),
    ("append_markdown", ActionClass::Create),
    ("add_comment", ActionClass::Create),
    ("upload_file", ActionClass::Create),
    ("update_page", ActionClass::Update),
    ("update_comment", ActionClass::Update),
    ("trash_page", ActionClass::Delete),
    ("delete_comment", ActionClass::Delete),
    ("get_approval", ActionClass::Read),
    ("list_approvals", ActionClass::Read),
    ("withdraw_approval", ActionClass::Read),
];

/// Names and classes of every tool action [`classify_tool`] knows, in a stable order.
pub fn tool_actions() -> impl Iterator<Item = (&'static str, ActionClass)> {
    TOOL_ACTIONS.into_iter()
}

/// Classifies a gateway tool action by name (trimmed, ASCII case-insensitive).
///
/// `params` are the action's parameters. Targets come from `page_id`, `block_id`,
/// `database_id`, `data_source_id`, `parent_id` and a `parent` object. `update_page` becomes
/// `delete` when it sets `in_trash`, `archived` or `erase_content` to `true`; any action whose
/// params contain `allow_deleting_content: true` is `delete`; `create_page` and `add_comment`
/// without a parent id target [`WORKSPACE_TARGET`]. Unknown actions are `delete`
/// ([`OperationScope::Unknown`]).
pub fn classify_tool(action: &str, params: Option<&Value>) -> Operation {
    let action = action.trim();
    let Some((name, class)) = TOOL_ACTIONS
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(action))
    else {
        return Operation::unknown();
    };
    let mut op = Operation::data(class, name);
    let found = body_targets(&mut op, params);
    let parent_id = params
        .and_then(|p| p.get("parent_id"))
        .and_then(Value::as_str);
    if let Some(id) = parent_id {
        op.push_target(id);
    }
    if matches!(name, "create_page" | "add_comment") && !found && parent_id.is_none() {
        op.push_target(WORKSPACE_TARGET);
    }
    if name == "update_page"
        && (flag_true(params, "in_trash")
            || flag_true(params, "archived")
            || flag_true(params, "erase_content"))
    {
        op.escalate(ActionClass::Delete);
    }
    if params.is_some_and(|p| contains_true_flag(p, "allow_deleting_content", 0)) {
        op.escalate(ActionClass::Delete);
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_forms_are_equivalent() {
        let id = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";
        for path in [
            format!("/v1/pages/{id}"),
            format!("/pages/{id}"),
            format!("v1/pages/{id}/"),
            format!("/v1/pages/{id}?filter_properties=title"),
            format!("https://api.notion.com/v1/pages/{id}#x"),
            format!("//v1//pages//{id}"),
        ] {
            let op = classify("get", &path, None);
            assert_eq!(op.name, "pages.retrieve", "{path}");
            assert_eq!(
                op.targets,
                ["1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"],
                "{path}"
            );
        }
    }

    #[test]
    fn deep_body_fails_closed() {
        let mut v = json!(1);
        for _ in 0..100 {
            v = json!({ "children": [v] });
        }
        assert_eq!(
            classify("PATCH", "/v1/blocks/x/children", Some(&v)).class,
            ActionClass::Delete
        );
    }
}
