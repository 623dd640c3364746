//! The typed request builders against recorded requests: every write body the fixtures
//! record for an endpoint the gateway composes (page create and update, block appends,
//! comments, file upload creation) is rebuilt with the builder from its typed parts, and the
//! builder's serialisation must carry the same key paths and values. Two differences are not
//! differences: an ID with or without dashes, and a `type` key that only repeats the name of
//! its sibling key (optional in requests).

use notion_client::ParentRef;
use notion_client::endpoints::{
    AppendChildren, CommentParent, CommentTarget, CreateComment, CreateFileUpload, CreatePage,
    Position, PropertyRequest, UpdateComment, UpdatePage,
};
use notion_client::ids::{BlockId, DiscussionId, canonical_uuid};
use notion_client::models::{FileObject, Icon, NewBlock, Parent, ParentKind, RichText};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

fn index() -> Map<String, Value> {
    let path =
        super::fixtures::fixtures_root().join("responses/notion_ruby_mapping/_requests_index.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the index is JSON")
}

/// `v` with IDs in dashed form and redundant `type` tags dropped.
fn normal(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let redundant = m
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| m.contains_key(t));
            Value::Object(
                m.iter()
                    .filter(|(k, _)| !(redundant && *k == "type"))
                    .map(|(k, v)| (k.clone(), normal(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(normal).collect()),
        Value::String(s) => Value::String(canonical_uuid(s).unwrap_or_else(|| s.clone())),
        other => other.clone(),
    }
}

fn typed<T: DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn parent_ref(v: &Value) -> ParentRef {
    match typed::<Parent>(v).kind {
        ParentKind::PageId(id) => ParentRef::Page(id),
        ParentKind::DataSourceId(id) => ParentRef::DataSource(id),
        ParentKind::DatabaseId(id) => ParentRef::Database(id),
        ParentKind::BlockId(id) => ParentRef::Block(id),
        ParentKind::Workspace(_) => ParentRef::Workspace,
        other => panic!("no request parent for {other:?}"),
    }
}

fn position(v: &Value) -> Position {
    match (v.get("type").and_then(Value::as_str), v.get("after_block")) {
        (Some("start"), _) => Position::Start,
        (Some("end"), _) => Position::End,
        (_, Some(after)) => {
            Position::AfterBlock(BlockId::parse(after["id"].as_str().unwrap()).unwrap())
        }
        _ => panic!("unknown position {v}"),
    }
}

/// Property values in request form: title and rich text typed, the rest as given.
fn property(v: &Value) -> PropertyRequest {
    match (v.get("title"), v.get("rich_text")) {
        (Some(t), _) => PropertyRequest::Title(typed(t)),
        (_, Some(t)) => PropertyRequest::RichText(typed(t)),
        _ => PropertyRequest::Raw(v.clone()),
    }
}

/// The builder's body for a recorded request, or `None` for an endpoint without a builder.
fn rebuild(method: &str, path: &str, body: &Value) -> Option<Value> {
    let rich_text = || body.get("rich_text").map(typed::<Vec<RichText>>);
    Some(match (method, path) {
        ("POST", "/v1/comments") => {
            let target = match (body.get("parent"), body.get("discussion_id")) {
                (Some(p), _) => CommentTarget::Parent(match parent_ref(p) {
                    ParentRef::Page(id) => CommentParent::PageId(id),
                    ParentRef::Block(id) => CommentParent::BlockId(id),
                    other => panic!("a comment on {other:?}"),
                }),
                (_, Some(d)) => CommentTarget::Discussion(typed::<DiscussionId>(d)),
                _ => panic!("a comment without a target: {body}"),
            };
            CreateComment::new(target, "")
                .rich_text(rich_text()?)
                .body()
        }
        ("PATCH", "/v1/comments/{id}") => match (rich_text(), body.get("markdown")) {
            (Some(rt), _) => UpdateComment::rich_text(rt).body(),
            (_, Some(md)) => UpdateComment::markdown(md.as_str()?).body(),
            _ => return None,
        },
        ("PATCH", "/v1/blocks/{id}/children") => {
            let mut append = AppendChildren::new(typed::<Vec<NewBlock>>(&body["children"]));
            if let Some(p) = body.get("position") {
                append = append.position(position(p));
            }
            append.body(false)
        }
        ("POST", "/v1/file_uploads") => match body.get("mode").and_then(Value::as_str) {
            None => CreateFileUpload::single_part().body(),
            Some("external_url") => CreateFileUpload::external_url(
                body["external_url"].as_str()?,
                body["filename"].as_str()?,
            )
            .ok()?
            .body(),
            Some("multi_part") => CreateFileUpload::multi_part(
                body["filename"].as_str()?,
                body["number_of_parts"].as_u64()?,
            )
            .ok()?
            .body(),
            Some(_) => return None,
        },
        ("POST", "/v1/pages") => {
            let mut create = CreatePage::new(parent_ref(&body["parent"]));
            for (name, v) in body
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                create = create.property(name, property(v));
            }
            if let Some(md) = body.get("markdown").and_then(Value::as_str) {
                create = create.markdown(md);
            }
            if let Some(p) = body.get("position") {
                create = create.position(p.clone());
            }
            if let Some(t) = body.get("template") {
                create = create.template(t.clone());
            }
            let mut v = create.body();
            // `properties` is always sent (a page parent may have none).
            if body.get("properties").is_none() {
                v.as_object_mut()?.remove("properties");
            }
            v
        }
        ("PATCH", "/v1/pages/{id}") => {
            let mut update = UpdatePage::new();
            if let Some(icon) = body.get("icon") {
                update = update.icon(Some(typed::<Icon>(icon)));
            }
            if let Some(cover) = body.get("cover") {
                update = update.cover(Some(typed::<FileObject>(cover)));
            }
            for (name, v) in body
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                update = update.property(name, property(v));
            }
            update.body()
        }
        _ => return None,
    })
}

#[test]
fn recorded_write_bodies_are_what_the_builders_serialise() {
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for (name, entry) in &index() {
        let Some(body) = entry.get("body").filter(|b| !b.is_null()) else {
            continue;
        };
        let method = entry["method"].as_str().unwrap_or_default();
        let url = entry["url"].as_str().unwrap_or_default();
        let path: String = url
            .split('?')
            .next()
            .unwrap_or_default()
            .trim_start_matches("https://api.notion.com")
            .split('/')
            .map(|seg| {
                if canonical_uuid(seg).is_some() {
                    "{id}"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let Some(built) = rebuild(method, &path, body) else {
            continue;
        };
        *checked.entry(format!("{method} {path}")).or_default() += 1;
        if normal(&built) != normal(body) {
            failures.push(format!("{name}: recorded {body}\n  built {built}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (endpoint, at_least) in [
        ("POST /v1/comments", 2),
        ("PATCH /v1/comments/{id}", 2),
        ("PATCH /v1/blocks/{id}/children", 50),
        ("POST /v1/file_uploads", 3),
        ("POST /v1/pages", 8),
        ("PATCH /v1/pages/{id}", 5),
    ] {
        let n = checked.get(endpoint).copied().unwrap_or(0);
        assert!(
            n >= at_least,
            "{endpoint}: {n} recorded bodies checked, expected {at_least}"
        );
    }
}
