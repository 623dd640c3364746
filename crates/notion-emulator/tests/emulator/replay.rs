//! Replay of Notion's recorded request sequences (`RM/_requests_index.json`: 287 requests of
//! the notion_ruby_mapping project with their real answers) against an emulator seeded with
//! the recorded workspace.
//!
//! - **Seed**: every whole page, block, database, data source, user and comment found
//!   anywhere in the recorded answers is stored under its recorded id
//!   ([`notion_emulator::EmulatorHandle::seed_objects`]); a snapshot from a `retrieve_*`
//!   answer wins over one from a write's answer, and an object never seeds as trashed when
//!   an untrashed snapshot exists. Templates come from the recorded template lists, and the
//!   token acts as the recorded bot (`RM/retrieve_user_token_bot.json`).
//! - **Order**: the file-upload sequence first (create, send parts, complete, external URL,
//!   retrieve), then reads, creates, updates and appends, and deletes last; paginated series
//!   run first page, next, last.
//! - **Replay**: each request goes out with its recorded method, path, query, body (or
//!   multipart form, with as many bytes as the recorded answer counts) and `Notion-Version`.
//!   Ids the emulator assigns to created objects, and its cursors, replace the recorded ones
//!   in later requests.
//! - **Scores**: per exchange, the status class (2xx/4xx/5xx) must match the recorded one,
//!   and the shape score (`shape::score`: the fraction of the recorded answer's comparable
//!   key paths that the emulator's answer has with a compatible type) is averaged. Misses are
//!   printed as a table (`cargo test … replay -- --nocapture`).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, into_resp};
use crate::shape::{load, misses, score};

/// Agreement the replay must reach (issue #17).
const MIN_STATUS_AGREEMENT: f64 = 0.95;
const MIN_MEAN_SHAPE: f64 = 0.95;

/// The recorded file-upload sequence, in the order it happened.
const UPLOAD_SEQUENCE: &[&str] = &[
    "create_file_upload_image",
    "upload_file_image",
    "create_file_upload_video",
    "upload_file_video1",
    "upload_file_video2",
    "complete_a_file_upload",
    "create_file_upload_external_url",
    "retrieve_a_file_upload",
];

struct Exchange {
    name: String,
    method: Method,
    url: String,
    version: String,
    body: Option<Value>,
    form: Option<Vec<String>>,
    recorded: Value,
}

impl Exchange {
    fn recorded_status(&self) -> u16 {
        if self.recorded["object"] == "error" {
            self.recorded["status"].as_u64().unwrap_or(400) as u16
        } else {
            200
        }
    }
}

/// `(rank, series key)`: the replay order.
fn order_key(name: &str) -> (usize, String) {
    if let Some(i) = UPLOAD_SEQUENCE.iter().position(|n| *n == name) {
        return (0, format!("{i:03}"));
    }
    let rank = if ["retrieve_", "query_", "list_", "search_"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        1
    } else if name.starts_with("create_") || name.starts_with("append_comment_") {
        2
    } else if name.starts_with("destroy_") {
        4
    } else {
        3
    };
    // A schema edited in steps: add, rename, then remove the renamed properties.
    let name = &name
        .replace("update_data_source_add_", "update_data_source_0_")
        .replace("update_data_source_rename_", "update_data_source_1_")
        .replace("update_data_source_remove_", "update_data_source_2_");
    // Paginated series: first page, then next, then last (and the unpaginated one after).
    let series = name
        .replace("_limit_", "_0_")
        .replace("_next_", "_1_")
        .replace("_last_", "_2_")
        .replace("_no_limit", "_3");
    (rank, series)
}

fn exchanges() -> Vec<Exchange> {
    let idx = load("notion_ruby_mapping/_requests_index.json");
    let mut out: Vec<Exchange> = idx
        .as_object()
        .expect("index object")
        .iter()
        .map(|(name, e)| Exchange {
            name: name.clone(),
            method: Method::from_bytes(e["method"].as_str().expect("method").as_bytes())
                .expect("method"),
            url: e["url"]
                .as_str()
                .expect("url")
                .trim_start_matches("https://api.notion.com")
                .to_string(),
            version: e["notion_version"].as_str().expect("version").to_string(),
            body: e.get("body").filter(|b| !b.is_null()).cloned(),
            form: e["form"].as_array().map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            }),
            recorded: load(&format!(
                "notion_ruby_mapping/{}",
                e["response_fixture"].as_str().expect("response_fixture")
            )),
        })
        .collect();
    out.sort_by_key(|x| order_key(&x.name));
    out
}

/// The 32 lowercase hex digits of an id, if `s` is one.
fn hex_id(s: &str) -> Option<String> {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    (h.len() == 32 && (s.len() == 32 || s.len() == 36) && h.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| h.to_ascii_lowercase())
}

/// Whether a recorded object is a whole object of a kind the emulator stores (not a partial
/// reference such as `{"object": "user", "id": …}` or `{"object": "page", "id": …}`).
fn is_whole(v: &Value) -> bool {
    let Some(kind) = v["object"].as_str() else {
        return false;
    };
    let has = |k: &str| v.get(k).is_some();
    match kind {
        "page" => has("properties") && has("parent"),
        "block" => has("type") && has("parent"),
        "database" => has("title") && has("parent"),
        "data_source" => has("properties") && has("parent"),
        "user" => has("type"),
        "comment" => has("rich_text") && has("parent"),
        _ => false,
    }
}

fn collect_objects(v: &Value, out: &mut Vec<Value>) {
    if is_whole(v) {
        out.push(v.clone());
    }
    match v {
        Value::Object(m) => m.values().for_each(|x| collect_objects(x, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_objects(x, out)),
        _ => {}
    }
}

fn trashed(v: &Value) -> bool {
    v["in_trash"] == true || v["archived"] == true
}

/// The recorded workspace: one snapshot per id, in an insertion order where containers come
/// before their contents (users, databases, data sources, pages, blocks, comments).
fn recorded_workspace(xs: &[Exchange]) -> Vec<Value> {
    let mut names: Vec<&Exchange> = xs.iter().collect();
    // Snapshots of reads first, an object's own retrieve before any list holding it: they
    // show the workspace as it was, not after a write.
    let own = |x: &Exchange| {
        x.method == Method::GET
            && x.recorded["id"]
                .as_str()
                .and_then(hex_id)
                .is_some_and(|h| x.url.replace('-', "").contains(&h))
    };
    names.sort_by_key(|x| (!own(x), !x.name.starts_with("retrieve_"), x.name.clone()));
    let mut by_id: HashMap<String, Value> = HashMap::new();
    let mut first_seen: Vec<String> = Vec::new();
    for x in names {
        let mut found = Vec::new();
        collect_objects(&x.recorded, &mut found);
        for mut o in found {
            // A delete's answer shows the object just trashed: before it, it was live.
            if x.name.starts_with("destroy_") && trashed(&o) {
                o["in_trash"] = json!(false);
                o["archived"] = json!(false);
            }
            let Some(id) = o["id"].as_str().and_then(hex_id) else {
                continue;
            };
            match by_id.get(&id) {
                None => {
                    first_seen.push(id.clone());
                    by_id.insert(id, o);
                }
                Some(old) if trashed(old) && !trashed(&o) => {
                    by_id.insert(id, o);
                }
                Some(_) => {}
            }
        }
    }
    let rank = |o: &Value| match o["object"].as_str() {
        Some("user") => 0,
        Some("database") => 1,
        Some("data_source") => 2,
        Some("page") => 3,
        Some("block") => 4,
        _ => 5,
    };
    let mut objects: Vec<Value> = first_seen
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect();
    objects.extend(implied_data_sources(&objects));
    let implied = implied_parents(&objects, xs);
    objects.extend(implied);
    objects.sort_by_key(rank);
    objects
}

/// Pages and blocks no recorded answer shows whole, but that the recording proves exist: the
/// page or block parent of a recorded object (an empty page; a toggle block, which takes
/// children), which covers every recorded append's target, and a page whose property item
/// was recorded (with that value, under its property id).
fn implied_parents(objects: &[Value], xs: &[Exchange]) -> Vec<Value> {
    let known: Vec<String> = objects
        .iter()
        .filter_map(|o| o["id"].as_str().and_then(hex_id))
        .collect();
    let mut out: Vec<(String, Value)> = Vec::new();
    let add = |hex: String, v: Value, out: &mut Vec<(String, Value)>| {
        if !known.contains(&hex) && !out.iter().any(|(h, _)| *h == hex) {
            out.push((hex, v));
        }
    };
    let page = |id: &str, props: Value| {
        json!({
            "object": "page", "id": id, "parent": { "type": "workspace", "workspace": true },
            "created_time": "2025-09-01T00:00:00.000Z", "last_edited_time": "2025-09-01T00:00:00.000Z",
            "created_by": { "object": "user", "id": "00000000-0000-4000-8000-000000000000" },
            "last_edited_by": { "object": "user", "id": "00000000-0000-4000-8000-000000000000" },
            "cover": null, "icon": null, "in_trash": false, "archived": false, "is_locked": false,
            "properties": props, "url": format!("https://www.notion.so/{}", id.replace('-', "")),
            "public_url": null,
        })
    };
    let title = json!({ "title": { "id": "title", "type": "title", "title": [] } });
    let block = |id: &str| {
        json!({
            "object": "block", "id": id, "parent": { "type": "workspace", "workspace": true },
            "created_time": "2025-09-01T00:00:00.000Z", "last_edited_time": "2025-09-01T00:00:00.000Z",
            "created_by": { "object": "user", "id": "00000000-0000-4000-8000-000000000000" },
            "last_edited_by": { "object": "user", "id": "00000000-0000-4000-8000-000000000000" },
            "has_children": true, "in_trash": false, "archived": false,
            "type": "toggle", "toggle": { "rich_text": [], "color": "default" },
        })
    };
    for o in objects {
        let p = &o["parent"];
        if let Some(id) = p["page_id"].as_str()
            && let Some(hex) = hex_id(id)
        {
            add(hex, page(id, title.clone()), &mut out);
        }
        if let Some(id) = p["block_id"].as_str()
            && let Some(hex) = hex_id(id)
        {
            add(hex, block(id), &mut out);
        }
    }
    for x in xs.iter().filter(|x| x.recorded_status() < 300) {
        let segs: Vec<&str> = x
            .url
            .split('?')
            .next()
            .unwrap_or_default()
            .split('/')
            .collect();
        // `/v1/pages/{id}/properties/{property_id}` answered with a single property item.
        if let ["", "v1", "pages", id, "properties", prop] = segs.as_slice()
            && x.recorded["object"] == "property_item"
            && let Some(hex) = hex_id(id)
            && let Some(ty) = x.recorded["type"].as_str()
        {
            let prop = notion_emulator::util::percent_decode(prop);
            let props = json!({ prop.clone(): { "id": prop, "type": ty, ty: x.recorded[ty] } });
            add(hex, page(id, props), &mut out);
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

/// Data sources no recorded answer shows but whose rows are recorded: their schema is what
/// the rows' property values imply (`{id, name, type, <type>: {}}`, with empty option lists).
fn implied_data_sources(objects: &[Value]) -> Vec<Value> {
    let known: Vec<String> = objects
        .iter()
        .filter(|o| o["object"] == "data_source")
        .filter_map(|o| o["id"].as_str().and_then(hex_id))
        .collect();
    let mut out: HashMap<String, Value> = HashMap::new();
    for page in objects.iter().filter(|o| o["object"] == "page") {
        let parent = &page["parent"];
        let Some(ds) = parent["data_source_id"].as_str() else {
            continue;
        };
        let Some(hex) = hex_id(ds) else { continue };
        if known.contains(&hex) || out.contains_key(&hex) {
            continue;
        }
        let mut props = serde_json::Map::new();
        for (name, val) in page["properties"].as_object().into_iter().flatten() {
            let ty = val["type"].as_str().unwrap_or_default();
            let config = match ty {
                "select" | "multi_select" | "status" => json!({ "options": [] }),
                _ => json!({}),
            };
            props.insert(
                name.clone(),
                json!({ "id": val["id"], "name": name, "type": ty, ty: config }),
            );
        }
        out.insert(
            hex,
            json!({
                "object": "data_source", "id": ds,
                "parent": { "type": "database_id", "database_id": parent["database_id"] },
                "database_parent": { "type": "workspace", "workspace": true },
                "title": [], "description": [], "properties": props,
                "created_time": page["created_time"], "last_edited_time": page["last_edited_time"],
                "in_trash": false, "archived": false,
            }),
        );
    }
    out.into_values().collect()
}

/// Recorded ids and cursors → the emulator's.
#[derive(Default)]
struct Rewrites {
    ids: HashMap<String, String>,
    cursors: HashMap<String, String>,
}

impl Rewrites {
    fn string(&self, s: &str) -> Option<String> {
        if let Some(c) = self.cursors.get(s) {
            return Some(c.clone());
        }
        hex_id(s).and_then(|h| self.ids.get(&h).cloned())
    }

    fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(n) = self.string(s) {
                    *s = n;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.value(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.value(x)),
            _ => {}
        }
    }

    fn url(&self, url: &str) -> String {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (url, None),
        };
        let path: Vec<String> = path
            .split('/')
            .map(|seg| self.string(seg).unwrap_or_else(|| seg.to_string()))
            .collect();
        let mut out = path.join("/");
        if let Some(q) = query {
            let pairs: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => format!("{k}={}", self.string(v).unwrap_or_else(|| v.into())),
                    None => kv.to_string(),
                })
                .collect();
            out = format!("{out}?{}", pairs.join("&"));
        }
        out
    }

    /// Learns from a matched pair of answers: a created object's id, and the next cursor.
    fn learn(&mut self, x: &Exchange, emu: &Value) {
        if let (Some(r), Some(e)) = (
            x.recorded["next_cursor"].as_str(),
            emu["next_cursor"].as_str(),
        ) {
            self.cursors.insert(r.to_string(), e.to_string());
        }
        if x.method == Method::POST
            && let (Some(r), Some(e)) = (
                x.recorded["id"].as_str().and_then(hex_id),
                emu["id"].as_str(),
            )
            && !x.url.replace('-', "").contains(&r)
            && hex_id(e).as_deref() != Some(r.as_str())
        {
            self.ids.insert(r, e.to_string());
        }
    }
}

fn mime_of(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

async fn send(
    api: &Api,
    x: &Exchange,
    rw: &Rewrites,
    sent: &mut HashMap<String, u64>,
) -> (u16, Value) {
    let url = rw.url(&x.url);
    let mut rb = api
        .client
        .request(x.method.clone(), api.url(&url))
        .header("Notion-Version", &x.version)
        .bearer_auth(&api.token);
    if let Some(fields) = &x.form {
        // As many bytes as the recorded answer's `content_length` grew by.
        let upload = x.recorded["id"]
            .as_str()
            .and_then(hex_id)
            .unwrap_or_default();
        let total = x.recorded["content_length"].as_u64().unwrap_or(1);
        let before = sent.get(&upload).copied().unwrap_or(0);
        let len = total.saturating_sub(before).max(1);
        sent.insert(upload, before + len);
        let mut form = reqwest::multipart::Form::new();
        for f in fields {
            let (k, v) = f.split_once('=').expect("form field");
            if let Some(path) = v.strip_prefix('@') {
                let file = path.rsplit('/').next().unwrap_or(path).to_string();
                let part = reqwest::multipart::Part::bytes(vec![b'x'; len as usize])
                    .file_name(file.clone())
                    .mime_str(mime_of(&file))
                    .expect("mime");
                form = form.part(k.to_string(), part);
            } else {
                form = form.text(k.to_string(), v.to_string());
            }
        }
        rb = rb.multipart(form);
    } else if let Some(b) = &x.body {
        let mut b = b.clone();
        rw.value(&mut b);
        rb = rb.json(&b);
    }
    let r = into_resp(rb.send().await.expect("send")).await;
    (r.status, r.body)
}

#[tokio::test]
async fn recorded_request_sequences_replay_with_notions_status_and_shape() {
    let xs = exchanges();
    assert_eq!(xs.len(), 287, "the recorded index has 287 requests");

    let api = Api::start(notion_emulator::Emulator::builder()).await;
    let objects = recorded_workspace(&xs);
    let seeded = api.emu.seed_objects(&objects);
    assert_eq!(seeded, objects.len(), "every recorded object is stored");
    let bot = load("notion_ruby_mapping/retrieve_user_token_bot.json");
    let bot_id = bot["id"].as_str().expect("bot id").to_string();
    let templates = load("notion_ruby_mapping/list_data_source_templates_no_limit.json");
    let template_source = xs
        .iter()
        .find(|x| x.name == "list_data_source_templates_no_limit")
        .and_then(|x| {
            x.url
                .split('/')
                .nth(3)
                .and_then(notion_emulator::util::parse_id)
        })
        .expect("template data source");
    api.emu.with_store(|s| {
        s.bot_id = bot_id;
        s.templates.insert(
            template_source,
            templates["templates"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    });

    let mut rw = Rewrites::default();
    let mut sent = HashMap::new();
    let mut rows = Vec::new();
    let (mut same_class, mut shape_sum, mut exact) = (0usize, 0f64, 0usize);
    for x in &xs {
        let (status, body) = send(&api, x, &rw, &mut sent).await;
        let want = x.recorded_status();
        let class_ok = status / 100 == want / 100;
        // An answer of the wrong class does not have the recorded shape, whatever its paths.
        let (m, t) = score(&x.recorded, &body);
        let s = match (class_ok, t) {
            (false, _) => 0.0,
            (true, 0) => 1.0,
            (true, _) => m as f64 / t as f64,
        };
        if class_ok {
            same_class += 1;
            if status < 300 {
                rw.learn(x, &body);
            }
        }
        shape_sum += s;
        if s >= 1.0 {
            exact += 1;
        }
        if !class_ok || s < 1.0 {
            let mut why = misses(&x.recorded, &body);
            why.truncate(4);
            let msg = if class_ok {
                why.join("; ")
            } else {
                format!("{} {}", body["code"], body["message"])
            };
            rows.push(format!(
                "{:<55} {:>3} {:>3} {:>5.3}  {}",
                x.name, want, status, s, msg
            ));
        }
    }
    let n = xs.len() as f64;
    let agreement = same_class as f64 / n;
    let mean_shape = shape_sum / n;
    println!(
        "replayed {} exchanges ({} objects seeded): status class agreement {:.4} ({same_class}/{}), mean shape score {:.4} (every recorded path in {exact})",
        xs.len(),
        objects.len(),
        agreement,
        xs.len(),
        mean_shape
    );
    println!(
        "{:<55} {:>3} {:>3} {:>5}  misses",
        "exchange", "rec", "emu", "shape"
    );
    for r in &rows {
        println!("{r}");
    }
    assert!(
        agreement >= MIN_STATUS_AGREEMENT,
        "status class agreement {agreement:.4} < {MIN_STATUS_AGREEMENT}:\n{}",
        rows.join("\n")
    );
    assert!(
        mean_shape >= MIN_MEAN_SHAPE,
        "mean shape score {mean_shape:.4} < {MIN_MEAN_SHAPE}:\n{}",
        rows.join("\n")
    );
}

#[tokio::test]
async fn seeded_objects_keep_their_ids_and_join_their_parents() {
    let api = Api::start(notion_emulator::Emulator::builder()).await;
    let page = "11111111-1111-4111-8111-111111111111";
    let child = "22222222222242228222222222222222";
    let db = "33333333-3333-4333-8333-333333333333";
    let ds = "44444444-4444-4444-8444-444444444444";
    let objects = [
        json!({ "object": "page", "id": page, "parent": { "type": "workspace", "workspace": true },
                "in_trash": false, "properties": { "title": { "id": "title", "type": "title", "title": [] } } }),
        json!({ "object": "database", "id": db, "parent": { "type": "page_id", "page_id": page },
                "title": [], "data_sources": [] }),
        json!({ "object": "data_source", "id": ds, "parent": { "type": "database_id", "database_id": db },
                "title": [], "properties": {} }),
        json!({ "object": "block", "id": child, "parent": { "type": "page_id", "page_id": page },
                "type": "paragraph", "paragraph": { "rich_text": [] } }),
        json!({ "object": "list", "results": [] }),
    ];
    assert_eq!(api.emu.seed_objects(&objects), 4, "a list is not an object");
    let child_id = notion_emulator::util::parse_id(child).unwrap();
    assert_eq!(
        api.emu.child_ids(page),
        vec![db.to_string(), child_id.clone()]
    );
    // Seeding again replaces, without listing a child twice.
    api.emu.seed_objects(&objects[3..4]);
    assert_eq!(api.emu.child_ids(page).len(), 2);
    let stored = api.emu.get_object(page).unwrap();
    assert_eq!(stored["archived"], false, "the stored form has both flags");
    assert_eq!(stored["is_locked"], false);
    let r = api
        .get_v(&format!("/v1/databases/{db}"), "2025-09-03")
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data_sources"][0]["id"], ds);
    let r = api
        .get_v(&format!("/v1/blocks/{child}"), "2025-09-03")
        .await;
    assert_eq!(r.body["id"], json!(child_id));
}
