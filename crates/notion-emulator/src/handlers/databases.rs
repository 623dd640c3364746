//! Databases (containers; legacy schema form on 2022-06-28) and data sources: retrieve,
//! create, update, query, templates.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Call, cursor_body, page_size_body, paginate, q_get, query_pairs};
use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::pipeline::{JsonBody, ReqCtx};
use crate::query::{eval, sort_pages, validate_filter, validate_sorts};
use crate::store::{Store, multi_source_error, plain_text_of};
use crate::util::{new_id, normalize_rich_text, now_millis, now_minute, parse_id, path_id};

fn legacy_only(v: ApiVersion) -> ApiResult<()> {
    if v.is_legacy() {
        Ok(())
    } else {
        Err(ApiError::invalid_request_url())
    }
}

fn not_legacy(v: ApiVersion) -> ApiResult<()> {
    if v.is_legacy() {
        Err(ApiError::invalid_request_url())
    } else {
        Ok(())
    }
}

/// `GET /v1/databases/{id}`.
pub async fn retrieve_database(c: Call, Path(raw): Path<String>) -> Response {
    c.with_id(&raw, "database_id", |s, id, ctx| {
        s.render_database(&id, ctx.version)
    })
}

fn rich(s: &Store, b: &Value, key: &str) -> ApiResult<Option<Value>> {
    match b.get(key) {
        None => Ok(None),
        Some(v) => normalize_rich_text(v, &format!("body.{key}"), s).map(Some),
    }
}

fn make_schema(s: &mut Store, props: &Value, path: &str) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    let Some(obj) = props.as_object() else {
        return Err(ApiError::body_undefined(path));
    };
    for (name, cfg) in obj {
        let n = cfg.get("name").and_then(Value::as_str).unwrap_or(name);
        out.insert(
            n.to_string(),
            s.make_prop_config(n, cfg, &format!("{path}.{name}"))?,
        );
    }
    let titles = out.values().filter(|p| p["type"] == "title").count();
    if titles != 1 {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should contain exactly one title property, instead had `{titles}`."
        )));
    }
    Ok(out)
}

/// `POST /v1/databases`.
pub async fn create_database(c: Call, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        let parent = b
            .get("parent")
            .ok_or_else(|| ApiError::body_undefined("body.parent"))?;
        let parent = if let Some(raw) = parent.get("page_id").and_then(Value::as_str) {
            let pid = parse_id(raw).ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: body.parent.page_id should be a valid uuid, instead was `\"{raw}\"`."
                ))
            })?;
            if !s.pages.contains_key(&pid) {
                return Err(ApiError::not_found("page", &pid));
            }
            json!({ "type": "page_id", "page_id": pid })
        } else if parent.get("workspace").and_then(Value::as_bool) == Some(true) {
            json!({ "type": "workspace", "workspace": true })
        } else {
            return Err(ApiError::body_undefined("body.parent.page_id"));
        };
        let props_src = if ctx.version.is_legacy() {
            b.get("properties")
                .ok_or_else(|| ApiError::body_undefined("body.properties"))?
                .clone()
        } else {
            b.get("initial_data_source")
                .and_then(|d| d.get("properties"))
                .cloned()
                .unwrap_or_else(|| json!({ "Name": { "title": {} } }))
        };
        let path = if ctx.version.is_legacy() {
            "body.properties"
        } else {
            "body.initial_data_source.properties"
        };
        let schema = make_schema(s, &props_src, path)?;
        let title = rich(s, &b, "title")?.unwrap_or_else(|| json!([]));
        let id = new_id();
        let mut db = s.make_database(&id, parent, title.clone(), &ctx.bot_id);
        if let Some(d) = rich(s, &b, "description")? {
            db["description"] = d;
        }
        if let Some(i) = b.get("is_inline").and_then(Value::as_bool) {
            db["is_inline"] = json!(i);
        }
        for k in ["icon", "cover"] {
            if let Some(v) = b.get(k) {
                db[k] = v.clone();
            }
        }
        s.insert_database(db);
        let ds_id = new_id();
        let ds = s.make_data_source(&ds_id, &id, title, Value::Object(schema), &ctx.bot_id);
        s.insert_data_source(ds);
        s.render_database(&id, ctx.version)
    })
}

/// `PATCH /v1/databases/{id}`.
pub async fn update_database(c: Call, Path(raw): Path<String>, JsonBody(b): JsonBody) -> Response {
    c.with_id(&raw, "database_id", |s, id, ctx| {
        if !s.databases.contains_key(&id) {
            return Err(ApiError::not_found("database", &id));
        }
        let trash = super::pages::trash_flag(&b, ctx.version)?;
        let title = rich(s, &b, "title")?;
        let desc = rich(s, &b, "description")?;
        if ctx.version.is_legacy() {
            let sources = s.databases[&id]["data_sources"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if sources.len() > 1 {
                return Err(multi_source_error(&id));
            }
            if let (Some(props), Some(ds)) = (
                b.get("properties"),
                sources.first().and_then(|d| d["id"].as_str()),
            ) {
                let ds = ds.to_string();
                update_schema(s, &ds, props)?;
            }
        }
        let db = s
            .databases
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("database", &id))?;
        if let Some(t) = &title {
            db["title"] = t.clone();
        }
        if let Some(d) = desc {
            db["description"] = d;
        }
        for k in ["icon", "cover", "is_inline", "is_locked"] {
            if let Some(v) = b.get(k) {
                db[k] = v.clone();
            }
        }
        if let Some(t) = trash {
            db["in_trash"] = json!(t);
            db["archived"] = json!(t);
        }
        db["last_edited_time"] = json!(now_millis());
        let title_text = title.as_ref().map(plain_text_of);
        if let (Some(tt), Some(blk)) = (title_text, s.blocks.get_mut(&id)) {
            blk["child_database"]["title"] = json!(tt);
        }
        if let Some(t) = trash
            && let Some(blk) = s.blocks.get_mut(&id)
        {
            blk["in_trash"] = json!(t);
            blk["archived"] = json!(t);
        }
        s.render_database(&id, ctx.version)
    })
}

/// `GET /v1/data_sources/{id}`.
pub async fn retrieve_data_source(c: Call, Path(raw): Path<String>) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx.version)?;
        let id = path_id(&raw, "data_source_id")?;
        s.render_data_source(&id, ctx.version)
            .ok_or_else(|| ApiError::not_found("database", &id))
    })
}

/// `POST /v1/data_sources`.
pub async fn create_data_source(c: Call, JsonBody(b): JsonBody) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx.version)?;
        let raw = b["parent"]["database_id"]
            .as_str()
            .ok_or_else(|| ApiError::body_undefined("body.parent.database_id"))?;
        let db_id = parse_id(raw).ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: body.parent.database_id should be a valid uuid, instead was `\"{raw}\"`."
            ))
        })?;
        if !s.databases.contains_key(&db_id) {
            return Err(ApiError::not_found("database", &db_id));
        }
        let props = b
            .get("properties")
            .ok_or_else(|| ApiError::body_undefined("body.properties"))?;
        let schema = make_schema(s, props, "body.properties")?;
        let title = rich(s, &b, "title")?.unwrap_or_else(|| json!([]));
        let id = new_id();
        let mut ds = s.make_data_source(&id, &db_id, title, Value::Object(schema), &ctx.bot_id);
        if let Some(i) = b.get("icon") {
            ds["icon"] = i.clone();
        }
        s.insert_data_source(ds);
        Ok(s.render_data_source(&id, ctx.version).unwrap_or_default())
    })
}

/// Applies a schema change map (`null` deletes, `{name}` renames, `{<type>: cfg}` adds or
/// reconfigures) to a data source and its rows.
fn update_schema(s: &mut Store, ds_id: &str, props: &Value) -> ApiResult<()> {
    let Some(changes) = props.as_object() else {
        return Err(ApiError::validation(
            "body failed validation: body.properties should be an object.",
        ));
    };
    for (key, change) in changes {
        let schema = s.data_sources[ds_id]["properties"].clone();
        let existing = Store::schema_prop(&schema, key).map(|(n, p)| (n.clone(), p.clone()));
        let path = format!("body.properties.{key}");
        match (existing, change) {
            (Some((name, prop)), Value::Null) => {
                if prop["type"] == "title" {
                    return Err(ApiError::validation(
                        "Cannot delete the title property of a data source.",
                    ));
                }
                remove_prop(s, ds_id, &name);
            }
            (None, Value::Null) => {
                return Err(ApiError::validation(format!(
                    "{key} is not a property that exists."
                )));
            }
            (Some((name, prop)), Value::Object(c)) => {
                let new_name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&name)
                    .to_string();
                let has_type = c.keys().any(|k| k != "name" && k != "description");
                let mut cfg = if has_type {
                    let mut cfg = s.make_prop_config(&new_name, change, &path)?;
                    cfg["id"] = prop["id"].clone();
                    cfg
                } else {
                    let mut p = prop.clone();
                    p["name"] = json!(new_name);
                    p
                };
                if let Some(d) = c.get("description") {
                    cfg["description"] = d.clone();
                }
                rename_prop(s, ds_id, &name, &new_name, cfg);
            }
            (None, Value::Object(_)) => {
                let name = change
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(key)
                    .to_string();
                let cfg = s.make_prop_config(&name, change, &path)?;
                if cfg["type"] == "title" {
                    return Err(ApiError::validation(
                        "A data source can only have one title property.",
                    ));
                }
                if let Some(ds) = s.data_sources.get_mut(ds_id) {
                    ds["properties"][&name] = cfg.clone();
                }
                let rows: Vec<String> = s
                    .rows_of(ds_id)
                    .iter()
                    .map(|p| p["id"].as_str().unwrap_or_default().to_string())
                    .collect();
                for rid in rows {
                    let page = s.pages[&rid].clone();
                    let v = s.empty_value(&cfg, ds_id, &page);
                    if let Some(p) = s.pages.get_mut(&rid) {
                        p["properties"][&name] = v;
                    }
                }
            }
            (_, other) => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path} should be an object or `null`, instead was `{other}`."
                )));
            }
        }
    }
    Ok(())
}

fn remove_prop(s: &mut Store, ds_id: &str, name: &str) {
    if let Some(o) = s
        .data_sources
        .get_mut(ds_id)
        .and_then(|d| d["properties"].as_object_mut())
    {
        o.shift_remove(name);
    }
    for p in s.pages.values_mut() {
        if p["parent"]["data_source_id"] == json!(ds_id)
            && let Some(o) = p["properties"].as_object_mut()
        {
            o.shift_remove(name);
        }
    }
}

fn rename_prop(s: &mut Store, ds_id: &str, old: &str, new: &str, cfg: Value) {
    fn rename(o: &mut Map<String, Value>, old: &str, new: &str, v: Value) {
        // Keep the position of the key.
        let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
        for (k, val) in entries {
            if k == old {
                o.insert(new.to_string(), v.clone());
            } else {
                o.insert(k, val);
            }
        }
    }
    if let Some(o) = s
        .data_sources
        .get_mut(ds_id)
        .and_then(|d| d["properties"].as_object_mut())
    {
        rename(o, old, new, cfg);
    }
    for p in s.pages.values_mut() {
        if p["parent"]["data_source_id"] == json!(ds_id)
            && let Some(o) = p["properties"].as_object_mut()
            && let Some(v) = o.get(old).cloned()
        {
            rename(o, old, new, v);
        }
    }
}

/// `PATCH /v1/data_sources/{id}`.
pub async fn update_data_source(
    c: Call,
    Path(raw): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx.version)?;
        let id = path_id(&raw, "data_source_id")?;
        if !s.data_sources.contains_key(&id) {
            return Err(ApiError::not_found("database", &id));
        }
        let trash = super::pages::trash_flag(&b, ctx.version)?;
        let title = rich(s, &b, "title")?;
        if let Some(props) = b.get("properties") {
            update_schema(s, &id, props)?;
        }
        let db_id = s.data_sources[&id]["parent"]["database_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(ds) = s.data_sources.get_mut(&id) {
            if let Some(t) = &title {
                ds["title"] = t.clone();
            }
            if let Some(i) = b.get("icon") {
                ds["icon"] = i.clone();
            }
            if let Some(t) = trash {
                ds["in_trash"] = json!(t);
                ds["archived"] = json!(t);
            }
            ds["last_edited_time"] = json!(now_minute());
        }
        if let (Some(t), Some(db)) = (&title, s.databases.get_mut(&db_id))
            && let Some(list) = db["data_sources"].as_array_mut()
        {
            for e in list.iter_mut() {
                if e["id"] == json!(id) {
                    e["name"] = json!(plain_text_of(t));
                }
            }
        }
        Ok(s.render_data_source(&id, ctx.version).unwrap_or_default())
    })
}

fn run_query(
    s: &Store,
    ds_id: &str,
    b: &Value,
    q: Option<&str>,
    ctx: &ReqCtx,
    cap: usize,
) -> ApiResult<Value> {
    let schema = s.data_sources[ds_id]["properties"].clone();
    if let Some(f) = b.get("filter").filter(|f| !f.is_null()) {
        validate_filter(f, &schema, "body.filter", 0)?;
    }
    if let Some(so) = b.get("sorts").filter(|f| !f.is_null()) {
        validate_sorts(so, &schema)?;
    }
    let size = page_size_body(b)?;
    let cursor = cursor_body(b)?;
    let include_trash = b.get("in_trash").and_then(Value::as_bool).unwrap_or(false)
        || b.get("archived").and_then(Value::as_bool).unwrap_or(false);
    let mut rows: Vec<Value> = s
        .rows_of(ds_id)
        .into_iter()
        .filter(|p| include_trash || p["in_trash"] != json!(true))
        .filter(|p| match b.get("filter").filter(|f| !f.is_null()) {
            Some(f) => eval(f, p, &schema, &ctx.bot_id),
            None => true,
        })
        .cloned()
        .collect();
    if let Some(so) = b.get("sorts").filter(|f| !f.is_null()) {
        sort_pages(&mut rows, so, &schema);
    }
    let capped = rows.len() > cap;
    rows.truncate(cap);
    let pairs = query_pairs(q);
    let filter = super::q_all(&pairs, "filter_properties");
    let filter = (!filter.is_empty()).then_some(filter);
    let (page, next, more) = paginate(rows, cursor.as_deref(), size)?;
    let results: Vec<Value> = page
        .iter()
        .filter_map(|p| {
            s.render_page(
                p["id"].as_str().unwrap_or_default(),
                ctx.version,
                filter.as_deref(),
                true,
            )
        })
        .collect();
    Ok(super::query_list(
        results,
        next,
        more,
        ctx.version.is_legacy(),
        capped,
    ))
}

/// `POST /v1/data_sources/{id}/query`; with `LEGACY`, `POST /v1/databases/{id}/query`
/// (2022-06-28 only), which queries the database's one data source.
pub async fn query<const LEGACY: bool>(
    c: Call,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    JsonBody(b): JsonBody,
) -> Response {
    c.with_store(|s, ctx| {
        let ds = if LEGACY {
            legacy_source(s, &raw, ctx)?
        } else {
            not_legacy(ctx.version)?;
            let id = path_id(&raw, "data_source_id")?;
            if !s.data_sources.contains_key(&id) {
                return Err(ApiError::not_found("database", &id));
            }
            id
        };
        run_query(s, &ds, &b, q.as_deref(), ctx, c.h.0.query_cap)
    })
}

/// The one data source of the 2022-06-28 database `raw`.
fn legacy_source(s: &Store, raw: &str, ctx: &ReqCtx) -> ApiResult<String> {
    legacy_only(ctx.version)?;
    let id = path_id(raw, "database_id")?;
    let db = crate::util::get_or_404(&s.databases, &id, "database")?;
    let sources = db["data_sources"].as_array().cloned().unwrap_or_default();
    if sources.len() != 1 {
        return Err(multi_source_error(&id));
    }
    Ok(sources[0]["id"].as_str().unwrap_or_default().to_string())
}

/// `GET /v1/data_sources/{id}/templates`.
pub async fn templates(c: Call, Path(raw): Path<String>, RawQuery(q): RawQuery) -> Response {
    c.with_store(|s, ctx| {
        not_legacy(ctx.version)?;
        let id = path_id(&raw, "data_source_id")?;
        let pairs = query_pairs(q.as_deref());
        let size = super::page_size_query(&pairs)?;
        if !s.data_sources.contains_key(&id) {
            return Err(ApiError::not_found("database", &id));
        }
        let name = q_get(&pairs, "name").map(str::to_lowercase);
        let items: Vec<Value> = s
            .templates
            .get(&id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| {
                name.as_ref().is_none_or(|n| {
                    t["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_lowercase()
                        .contains(n)
                })
            })
            .collect();
        let (res, next, more) = paginate(items, q_get(&pairs, "start_cursor"), size)?;
        Ok(json!({ "templates": res, "has_more": more, "next_cursor": next }))
    })
}
