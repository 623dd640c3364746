//! Pages: create, retrieve, update, move, property items.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::{Call, lock, q_all, q_get, query_pairs, respond};
use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::model::normalize_children;
use crate::pipeline::{JsonBody, ReqCtx};
use crate::state::EmulatorHandle;
use crate::store::{Position, Store, page_title, partial_user};
use crate::util::{MentionResolver, new_id, page_url, parse_id, percent_decode};

/// Resolved parent of a new or moved page.
enum PageParent {
    Page(String),
    Block(String),
    DataSource { ds: String, db: String },
    Workspace,
}

fn parent_id_field(parent: &Value, key: &str) -> ApiResult<Option<String>> {
    match parent.get(key) {
        None => Ok(None),
        Some(v) => {
            let raw = v.as_str().unwrap_or_default();
            parse_id(raw).map(Some).ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: body.parent.{key} should be a valid uuid, instead was `{}`.",
                    serde_json::to_string(raw).unwrap_or_default()
                ))
            })
        }
    }
}

fn resolve_parent(s: &Store, parent: &Value, v: ApiVersion) -> ApiResult<PageParent> {
    if let Some(id) = parent_id_field(parent, "page_id")? {
        if !s.pages.contains_key(&id) {
            return Err(ApiError::not_found("page", &id));
        }
        return Ok(PageParent::Page(id));
    }
    if let Some(id) = parent_id_field(parent, "block_id")? {
        if !s.blocks.contains_key(&id) {
            return Err(ApiError::not_found("block", &id));
        }
        return Ok(PageParent::Block(id));
    }
    if let Some(id) = parent_id_field(parent, "data_source_id")? {
        let ds = s
            .data_sources
            .get(&id)
            .ok_or_else(|| ApiError::not_found("database", &id))?;
        let db = ds["parent"]["database_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        return Ok(PageParent::DataSource { ds: id, db });
    }
    if let Some(id) = parent_id_field(parent, "database_id")? {
        let db = crate::util::get_or_404(&s.databases, &id, "database")?;
        let sources = db["data_sources"].as_array().cloned().unwrap_or_default();
        if sources.len() != 1 {
            if v.is_legacy() {
                return Err(crate::store::multi_source_error(&id));
            }
            return Err(ApiError::validation(format!(
                "body failed validation: body.parent.database_id names database {id}, which has {} data sources; use parent.data_source_id instead.",
                sources.len()
            )));
        }
        let ds = sources[0]["id"].as_str().unwrap_or_default().to_string();
        return Ok(PageParent::DataSource { ds, db: id });
    }
    if parent.get("workspace").and_then(Value::as_bool) == Some(true) {
        return Ok(PageParent::Workspace);
    }
    Err(ApiError::validation(
        "body failed validation: body.parent should be an object with one of `page_id`, `block_id`, `data_source_id`, `database_id` or `workspace`.",
    ))
}

fn parent_value(p: &PageParent) -> Value {
    match p {
        PageParent::Page(id) => json!({ "type": "page_id", "page_id": id }),
        PageParent::Block(id) => json!({ "type": "block_id", "block_id": id }),
        PageParent::DataSource { ds, db } => {
            json!({ "type": "data_source_id", "data_source_id": ds, "database_id": db })
        }
        PageParent::Workspace => json!({ "type": "workspace", "workspace": true }),
    }
}

/// New select/multi-select options per schema property name.
type NewOptions = Vec<(String, Vec<Value>)>;

/// Converts request `properties` into stored values for a page under `parent`.
/// Returns the stored properties map and new select options per schema property name.
fn write_properties(
    s: &Store,
    schema: Option<&Value>,
    given: &Value,
    existing: Option<&Map<String, Value>>,
) -> ApiResult<(Map<String, Value>, NewOptions)> {
    let mut out = existing.cloned().unwrap_or_default();
    let mut options = Vec::new();
    let Some(obj) = given.as_object() else {
        if given.is_null() {
            return Ok((out, options));
        }
        return Err(ApiError::validation(
            "body failed validation: body.properties should be an object.",
        ));
    };
    for (key, value) in obj {
        let path = format!("body.properties.{key}");
        let (name, prop) = match schema {
            Some(sch) => match Store::schema_prop(sch, key) {
                Some((n, p)) => (n.clone(), p.clone()),
                None => {
                    return Err(ApiError::validation(format!(
                        "{key} is not a property that exists."
                    )));
                }
            },
            None => {
                // Page parent: only the title property exists.
                let existing_name = existing
                    .and_then(|e| e.iter().find(|(_, v)| v["type"] == "title"))
                    .map(|(n, _)| n.clone());
                let is_title = key == "title"
                    || existing_name.as_deref() == Some(key.as_str())
                    || value.get("title").is_some();
                if !is_title {
                    return Err(ApiError::validation(format!(
                        "{key} is not a property that exists."
                    )));
                }
                (
                    existing_name.unwrap_or_else(|| "title".into()),
                    json!({ "id": "title", "type": "title" }),
                )
            }
        };
        let mut new_opts = Vec::new();
        let stored = s.write_value(&prop, value, &path, &mut new_opts)?;
        if !new_opts.is_empty() {
            options.push((name.clone(), new_opts));
        }
        out.insert(name, stored);
    }
    Ok((out, options))
}

fn add_options(s: &mut Store, ds_id: &str, options: NewOptions) {
    if let Some(ds) = s.data_sources.get_mut(ds_id) {
        for (name, opts) in options {
            let ty = ds["properties"][&name]["type"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Some(list) = ds["properties"][&name][&ty]["options"].as_array_mut() {
                list.extend(opts);
            }
        }
    }
}

fn icon_value(s: &Store, v: &Value, path: &str) -> ApiResult<Value> {
    Ok(
        match v.get("type").and_then(Value::as_str).or_else(|| {
            ["emoji", "external", "file_upload", "custom_emoji", "icon"]
                .into_iter()
                .find(|k| v.get(*k).is_some())
        }) {
            Some("file_upload") => {
                let id = v["file_upload"]["id"]
                    .as_str()
                    .ok_or_else(|| ApiError::body_undefined(&format!("{path}.file_upload.id")))?;
                let hosted = s.attach_upload(id, &format!("{path}.file_upload.id"))?;
                json!({ "type": "file", "file": hosted })
            }
            Some(t) => {
                let mut m = Map::new();
                m.insert("type".into(), json!(t));
                m.insert(t.into(), v.get(t).cloned().unwrap_or(Value::Null));
                Value::Object(m)
            }
            None => Value::Null,
        },
    )
}

fn filter_props(raw: Option<&str>) -> Option<Vec<String>> {
    let pairs = query_pairs(raw);
    let f = q_all(&pairs, "filter_properties");
    (!f.is_empty()).then_some(f)
}

/// Refreshes a page's url and its child_page block after a title change.
fn sync_title(s: &mut Store, id: &str) {
    if let Some(p) = s.pages.get_mut(id) {
        let title = page_title(p);
        p["url"] = json!(page_url(&title, id));
        if let Some(b) = s.blocks.get_mut(id) {
            b["child_page"]["title"] = json!(title);
        }
    }
}

/// `POST /v1/pages`.
pub async fn create(
    State(h): State<EmulatorHandle>,
    Extension(ctx): Extension<ReqCtx>,
    RawQuery(q): RawQuery,
    JsonBody(b): JsonBody,
) -> Response {
    respond(create_inner(&h, &ctx, q.as_deref(), &b))
}

fn create_inner(h: &EmulatorHandle, ctx: &ReqCtx, q: Option<&str>, b: &Value) -> ApiResult<Value> {
    let parent = b
        .get("parent")
        .ok_or_else(|| ApiError::body_undefined("body.parent"))?;
    let mut s = lock(&h.0.store);
    let parent = resolve_parent(&s, parent, ctx.version)?;
    let schema = match &parent {
        PageParent::DataSource { ds, .. } => Some(s.data_sources[ds]["properties"].clone()),
        _ => None,
    };
    let given = b.get("properties").cloned().unwrap_or(json!({}));
    let (mut props, options) = write_properties(&s, schema.as_ref(), &given, None)?;
    let markdown: Vec<crate::model::NewBlock> = match b.get("markdown") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) if b.get("children").is_some() || b.get("content").is_some() => {
            return Err(ApiError::validation(
                "body failed validation: body.children and body.markdown should not be present together.",
            ));
        }
        Some(Value::String(md)) => super::markdown::markdown_blocks(md, &s)?,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "body failed validation: body.markdown should be a string, instead was `{}`.",
                crate::util::short_json(other)
            )));
        }
    };
    let children = match b.get("children").or_else(|| b.get("content")) {
        Some(c) => {
            let mut count = 0;
            normalize_children(c, "body.children", 1, &mut count, &*s)?
        }
        None => Vec::new(),
    };
    let pos = match (b.get("position"), &parent) {
        (None, _) | (Some(Value::Null), _) => Position::End,
        (Some(p), PageParent::Page(pid)) => match p["type"].as_str() {
            Some("page_start") => Position::Start,
            Some("page_end") => Position::End,
            Some("after_block") => {
                let id = super::blocks::after_block_id(p)?;
                if !s.children.get(pid).is_some_and(|c| c.contains(&id)) {
                    return Err(ApiError::not_found("block", &id));
                }
                Position::After(id)
            }
            _ => {
                return Err(ApiError::validation(
                    "body failed validation: body.position.type should be `after_block`, `page_start` or `page_end`.",
                ));
            }
        },
        (Some(_), _) => {
            return Err(ApiError::validation(
                "body failed validation: body.position is only supported when the parent is a page.",
            ));
        }
    };
    let id = new_id();
    let pv = parent_value(&parent);
    let mut page = s.make_page(&id, pv, Value::Null, &ctx.bot_id);
    if let Some(sch) = schema.as_ref().and_then(Value::as_object) {
        let ds_id = match &parent {
            PageParent::DataSource { ds, .. } => ds.clone(),
            _ => String::new(),
        };
        let mut full = Map::new();
        for (name, cfg) in sch {
            let v = match props.shift_remove(name) {
                Some(v) => v,
                None => s.empty_value(cfg, &ds_id, &page),
            };
            full.insert(name.clone(), v);
        }
        props = full;
        add_options(&mut s, &ds_id, options);
    } else if props.is_empty() {
        props.insert(
            "title".into(),
            json!({ "id": "title", "type": "title", "title": [] }),
        );
    }
    page["properties"] = Value::Object(props);
    if let Some(icon) = b.get("icon") {
        page["icon"] = icon_value(&s, icon, "body.icon")?;
    }
    if let Some(cover) = b.get("cover") {
        page["cover"] = icon_value(&s, cover, "body.cover")?;
    }
    let title = page_title(&page);
    page["url"] = json!(page_url(&title, &id));
    s.insert_page(page, pos)?;
    if !children.is_empty() {
        s.insert_blocks(&id, children, Position::End, &ctx.bot_id)?;
    }
    if !markdown.is_empty() {
        s.insert_blocks(&id, markdown, Position::End, &ctx.bot_id)?;
    }
    let filter = filter_props(q);
    Ok(s.render_page(&id, ctx.version, filter.as_deref(), true)
        .unwrap_or_default())
}

/// `GET /v1/pages/{id}`.
pub async fn retrieve(c: Call, Path(raw): Path<String>, RawQuery(q): RawQuery) -> Response {
    c.with_id(&raw, "page_id", |s, id, ctx| {
        let filter = filter_props(q.as_deref());
        s.render_page(&id, ctx.version, filter.as_deref(), true)
            .ok_or_else(|| ApiError::not_found("page", &id))
    })
}

/// The trash flag of an update request, honouring version rules.
pub(crate) fn trash_flag(b: &Value, v: ApiVersion) -> ApiResult<Option<bool>> {
    let archived = b.get("archived");
    if archived.is_some() && v == ApiVersion::V2026_03_11 {
        return Err(ApiError::validation(format!(
            "body failed validation: body.archived should be not present, instead was `{}`.",
            archived.cloned().unwrap_or_default()
        )));
    }
    let flag = b.get("in_trash").or(archived);
    match flag {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(x)) => Ok(Some(*x)),
        Some(other) => Err(ApiError::validation(format!(
            "body failed validation: body.in_trash should be a boolean, instead was `{other}`."
        ))),
    }
}

/// `PATCH /v1/pages/{id}`.
pub async fn update(
    c: Call,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    JsonBody(b): JsonBody,
) -> Response {
    c.with_id(&raw, "page_id", |s, id, ctx| {
        let page = crate::util::get_or_404(&s.pages, &id, "page")?.clone();
        let trash = trash_flag(&b, ctx.version)?;
        let trashed = page["in_trash"] == json!(true);
        let has_edits =
            b.get("properties").is_some() || b.get("icon").is_some() || b.get("cover").is_some();
        if trashed && trash != Some(false) && has_edits {
            return Err(ApiError::validation(
                "Can't edit block that is archived. You must unarchive the block before editing.",
            ));
        }
        let ds_id = page["parent"]["data_source_id"]
            .as_str()
            .map(str::to_string);
        // A row's data source is always there in Notion; a workspace seeded from recorded
        // answers may lack it, which answers like an unshared data source.
        let schema = ds_id
            .as_ref()
            .map(|d| {
                s.data_sources
                    .get(d)
                    .map(|x| x["properties"].clone())
                    .ok_or_else(|| ApiError::not_found("data_source", d))
            })
            .transpose()?;
        if let Some(props) = b.get("properties") {
            let existing = page["properties"].as_object().cloned().unwrap_or_default();
            let (new_props, options) =
                write_properties(s, schema.as_ref(), props, Some(&existing))?;
            if let Some(d) = &ds_id {
                add_options(s, d, options);
            }
            if let Some(p) = s.pages.get_mut(&id) {
                p["properties"] = Value::Object(new_props);
            }
            sync_title(s, &id);
        }
        let icon = b
            .get("icon")
            .map(|i| icon_value(s, i, "body.icon"))
            .transpose()?;
        let cover = b
            .get("cover")
            .map(|c| icon_value(s, c, "body.cover"))
            .transpose()?;
        if let Some(p) = s.pages.get_mut(&id) {
            if let Some(icon) = icon {
                p["icon"] = icon;
            }
            if let Some(cover) = cover {
                p["cover"] = cover;
            }
            if let Some(l) = b.get("is_locked").and_then(Value::as_bool) {
                p["is_locked"] = json!(l);
            }
        }
        if let Some(t) = trash {
            s.set_trash(&id, t);
        }
        s.touch(&id, &ctx.bot_id);
        refresh_last_edited(s, &id);
        let filter = filter_props(q.as_deref());
        Ok(s.render_page(&id, ctx.version, filter.as_deref(), true)
            .unwrap_or_default())
    })
}

/// Keeps `last_edited_time`/`last_edited_by` property values in sync with the page.
pub(crate) fn refresh_last_edited(s: &mut Store, id: &str) {
    let Some(p) = s.pages.get(id) else { return };
    let t = p["last_edited_time"].clone();
    let by_id = p["last_edited_by"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let by =
        crate::util::MentionResolver::user(&*s, &by_id).unwrap_or_else(|| partial_user(&by_id));
    if let Some(props) = s
        .pages
        .get_mut(id)
        .and_then(|p| p["properties"].as_object_mut())
    {
        for v in props.values_mut() {
            match v["type"].as_str() {
                Some("last_edited_time") => v["last_edited_time"] = t.clone(),
                Some("last_edited_by") => v["last_edited_by"] = by.clone(),
                _ => {}
            }
        }
    }
}

/// `POST /v1/pages/{id}/move`.
pub async fn move_page(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_id(&raw, "page_id", |s, id, ctx| {
        let parent = b
            .get("parent")
            .ok_or_else(|| ApiError::body_undefined("body.parent"))?;
        let page = crate::util::get_or_404(&s.pages, &id, "page")?.clone();
        let target = resolve_parent(s, parent, ctx.version)?;
        match &target {
            PageParent::Page(p) if p == &id => {
                return Err(ApiError::validation("A page cannot be moved into itself."));
            }
            PageParent::Block(_) | PageParent::Workspace => {
                return Err(ApiError::validation(
                    "body failed validation: body.parent should contain `page_id` or `data_source_id`.",
                ));
            }
            _ => {}
        }
        // Detach from the old parent list.
        for list in s.children.values_mut() {
            list.retain(|c| c != &id);
        }
        let title_rt = page["properties"]
            .as_object()
            .and_then(|p| p.values().find(|v| v["type"] == "title"))
            .map(|t| t["title"].clone())
            .unwrap_or_else(|| json!([]));
        let mut moved = page.clone();
        moved["parent"] = parent_value(&target);
        match &target {
            PageParent::DataSource { ds, .. } => {
                let schema = s.data_sources[ds]["properties"].clone();
                let mut full = Map::new();
                if let Some(sch) = schema.as_object() {
                    for (name, cfg) in sch {
                        let v = if cfg["type"] == "title" {
                            json!({ "id": "title", "type": "title", "title": title_rt.clone() })
                        } else {
                            s.empty_value(cfg, ds, &moved)
                        };
                        full.insert(name.clone(), v);
                    }
                }
                moved["properties"] = Value::Object(full);
                s.blocks.remove(&id);
                s.pages.insert(id.clone(), moved);
            }
            PageParent::Page(pid) => {
                moved["properties"] =
                    json!({ "title": { "id": "title", "type": "title", "title": title_rt } });
                s.pages.remove(&id);
                s.blocks.remove(&id);
                let pid = pid.clone();
                s.insert_page(moved, Position::End)?;
                s.touch(&pid, &ctx.bot_id);
            }
            _ => {}
        }
        s.touch(&id, &ctx.bot_id);
        Ok(s.render_page(&id, ctx.version, None, true)
            .unwrap_or_default())
    })
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    s.strip_prefix('o')?.parse().ok()
}

fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /v1/pages/{id}/properties/{property_id}`.
pub async fn property_item(
    c: Call,
    Path((raw, prop_raw)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    c.with_id(&raw, "page_id", |s, id, ctx| {
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        let start = match q_get(&pairs, "start_cursor") {
            None => 0,
            Some(c) => decode_cursor(c).ok_or_else(|| {
                ApiError::validation(format!("The start_cursor provided is invalid: {c}"))
            })?,
        };
        let page = s
            .pages
            .get(&id)
            .ok_or_else(|| ApiError::not_found("page", &id))?;
        let wanted = percent_decode(&prop_raw);
        let (_, val) = page["properties"]
            .as_object()
            .and_then(|p| {
                p.iter().find(|(_, v)| {
                    let pid = v["id"].as_str().unwrap_or_default();
                    percent_decode(pid) == wanted || pid == prop_raw
                })
            })
            .ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "object_not_found",
                    format!("Could not find property with ID: {prop_raw}."),
                )
            })?;
        let ty = val["type"].as_str().unwrap_or_default().to_string();
        let pid = val["id"].clone();
        let item = |t: &str, v: Value| {
            let mut m = Map::new();
            m.insert("object".into(), json!("property_item"));
            m.insert("type".into(), json!(t));
            m.insert("id".into(), pid.clone());
            m.insert(t.into(), v);
            Value::Object(m)
        };
        let _ = ctx.version;
        match ty.as_str() {
            "title" | "rich_text" | "people" | "relation" | "rollup" => {
                let (elements, agg): (Vec<Value>, Value) = if ty == "rollup" {
                    let r = &val["rollup"];
                    let els: Vec<Value> = r["array"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| {
                            let et = e["type"].as_str().unwrap_or_default().to_string();
                            item(&et, e[&et].clone())
                        })
                        .collect();
                    let mut agg = r.clone();
                    if agg["type"] == "array" {
                        agg["array"] = json!([]);
                    }
                    (els, agg)
                } else {
                    let els = val[&ty]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| item(&ty, e))
                        .collect();
                    (els, json!({}))
                };
                let end = (start + size).min(elements.len());
                let start = start.min(end);
                let has_more = end < elements.len();
                let next = has_more.then(|| encode_cursor(end));
                let next_url = next.as_ref().map(|c| {
                    format!(
                        "{}/v1/pages/{}/properties/{}?start_cursor={c}&page_size={size}",
                        ctx.origin,
                        crate::util::compact(&id),
                        encode_component(&percent_decode(pid.as_str().unwrap_or_default()))
                    )
                });
                let mut pi = Map::new();
                pi.insert("id".into(), pid.clone());
                pi.insert("next_url".into(), json!(next_url));
                pi.insert("type".into(), json!(ty));
                pi.insert(ty.clone(), agg);
                Ok(json!({
                    "object": "list",
                    "results": elements[start..end].to_vec(),
                    "next_cursor": next,
                    "has_more": has_more,
                    "type": "property_item",
                    "property_item": Value::Object(pi),
                }))
            }
            "verification" => {
                // The property item carries a partial `verified_by` user
                // (RM/retrieve_property_verification.json); GET page carries the full user.
                let mut v = val[&ty].clone();
                if let Some(id) = v["verified_by"]["id"].as_str() {
                    v["verified_by"] = partial_user(id);
                }
                Ok(item(&ty, v))
            }
            _ => Ok(item(&ty, val[&ty].clone())),
        }
    })
}

/// Creates a page under another page (programmatic test access).
pub(crate) fn create_child_page(
    s: &mut Store,
    parent_page: &str,
    title: &str,
    by: &str,
) -> ApiResult<String> {
    if !s.pages.contains_key(parent_page) {
        return Err(ApiError::not_found("page", parent_page));
    }
    let id = new_id();
    let props =
        json!({ "title": { "id": "title", "type": "title", "title": crate::util::rt(title) } });
    let page = s.make_page(
        &id,
        json!({ "type": "page_id", "page_id": parent_page }),
        props,
        by,
    );
    s.insert_page(page, Position::End)?;
    s.touch(parent_page, by);
    Ok(id)
}
