//! The in-memory workspace: objects kept as `serde_json::Value` in their full stored form
//! (with both `archived` and `in_trash`), plus ordered child lists. Rendering functions shape a
//! stored object for the request's API version.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::config::ApiVersion;
use crate::error::{ApiError, ApiResult};
use crate::model::NewBlock;
use crate::util::{
    MentionResolver, compact, new_id, normalize_rich_text, now_millis, now_minute, page_url,
    parse_id, percent_decode, plain_text, short_json,
};

/// Where new children go in a parent's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// At the start.
    Start,
    /// At the end (default).
    End,
    /// After the given sibling id.
    After(String),
}

/// The workspace content.
#[derive(Debug, Default)]
pub struct Store {
    /// Pages by id (stored form, untruncated property values).
    pub pages: HashMap<String, Value>,
    /// Blocks by id, including `child_page` / `child_database` blocks (same id as the object).
    pub blocks: HashMap<String, Value>,
    /// Database containers by id (stored with `properties` absent).
    pub databases: HashMap<String, Value>,
    /// Data sources by id.
    pub data_sources: HashMap<String, Value>,
    /// Comments in creation order.
    pub comments: Vec<Value>,
    /// Users in listing order (full objects).
    pub users: Vec<Value>,
    /// Ordered child block ids per page/block id.
    pub children: HashMap<String, Vec<String>>,
    /// Creation sequence of every object (used for stable ordering).
    pub order: HashMap<String, u64>,
    /// Templates per data source: `{id, name, is_default}`.
    pub templates: HashMap<String, Vec<Value>>,
    /// Next unique_id number per data source.
    pub unique_counters: HashMap<String, u64>,
    seq: u64,
    prop_seq: u64,
    /// The integration bot user id (for internal tokens).
    pub bot_id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Workspace name.
    pub workspace_name: String,
    /// File uploads by id (`handlers::uploads`).
    pub file_uploads: HashMap<String, crate::handlers::uploads::Upload>,
    /// Uploads attached to a block, property, icon or cover since the last request (an
    /// attached upload no longer expires); drained by the handlers that attach.
    pub attached_uploads: std::cell::RefCell<Vec<String>>,
    /// The workspace's per-file upload limit (`workspace_limits.max_file_upload_size_in_bytes`).
    pub max_file_upload_size: u64,
    /// Views by id (`handlers::views`), in the stored form answered by retrieve.
    pub views: HashMap<String, Value>,
    /// View queries by id.
    pub view_queries: HashMap<String, crate::handlers::views::ViewQuery>,
    /// The workspace's custom emojis (`{id, name, url}`), in listing order.
    pub custom_emojis: Vec<Value>,
    /// Async tasks by id (`handlers::tasks`).
    pub async_tasks: HashMap<String, Value>,
    /// What "the internet" serves at a URL, for `external_url` imports: `(Content-Length,
    /// Content-Type)` as Notion's `HEAD` request would see them. Unlisted URLs import as an
    /// empty file.
    pub external_files: HashMap<String, (u64, String)>,
}

/// Which object kind an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page.
    Page,
    /// A block.
    Block,
    /// A database container.
    Database,
    /// A data source.
    DataSource,
}

impl MentionResolver for Store {
    /// A user embedded in a value (people, created_by, mentions): bots carry an empty `bot`
    /// object there (RM/update_page_all.json), unlike `/v1/users/me`.
    fn user(&self, id: &str) -> Option<Value> {
        let id = parse_id(id)?;
        let mut u = self.users.iter().find(|u| u["id"] == json!(id)).cloned()?;
        if u["type"] == "bot" {
            u["bot"] = json!({});
        }
        Some(u)
    }
    fn title_of(&self, id: &str) -> Option<String> {
        if let Some(p) = self.pages.get(id) {
            return Some(page_title(p));
        }
        self.databases.get(id).map(|d| plain_text(&d["title"]))
    }
    fn attach_upload(&self, raw: &str, path: &str) -> ApiResult<Value> {
        let hosted = crate::handlers::uploads::attachable(self, raw, path)?;
        self.attached_uploads.borrow_mut().push(hosted.0);
        Ok(hosted.1)
    }
}

/// Plain-text title of a stored page.
pub fn page_title(p: &Value) -> String {
    p["properties"]
        .as_object()
        .and_then(|props| props.values().find(|v| v["type"] == "title"))
        .map(|t| plain_text(&t["title"]))
        .unwrap_or_default()
}

/// A partial user object.
pub fn partial_user(id: &str) -> Value {
    json!({ "object": "user", "id": id })
}

impl Store {
    /// A new empty store with the given bot user and workspace.
    pub fn new(bot_id: String, workspace_id: String, workspace_name: String) -> Self {
        Store {
            bot_id,
            workspace_id,
            workspace_name,
            ..Default::default()
        }
    }

    /// Next creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A new short property id (like Notion's 4-character ids).
    pub fn new_prop_id(&mut self) -> String {
        const CH: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        self.prop_seq += 1;
        let mut n = self.prop_seq * 7919 + 104_729;
        let mut s = String::new();
        for _ in 0..4 {
            s.push(CH[(n % CH.len() as u64) as usize] as char);
            n /= CH.len() as u64;
        }
        s
    }

    fn record_order(&mut self, id: &str) {
        let s = self.next_seq();
        self.order.insert(id.to_string(), s);
    }

    /// What kind of object an id names.
    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        if self.pages.contains_key(id) {
            Some(Kind::Page)
        } else if self.databases.contains_key(id) {
            Some(Kind::Database)
        } else if self.data_sources.contains_key(id) {
            Some(Kind::DataSource)
        } else if self.blocks.contains_key(id) {
            Some(Kind::Block)
        } else {
            None
        }
    }

    /// Whether a block id (or page id) is trashed.
    pub fn is_trashed(&self, id: &str) -> bool {
        let v = self
            .blocks
            .get(id)
            .or_else(|| self.pages.get(id))
            .or_else(|| self.databases.get(id));
        v.map(|v| v["in_trash"] == json!(true)).unwrap_or(false)
    }

    /// Visible (non-trashed) children ids of a page or block.
    pub fn visible_children(&self, id: &str) -> Vec<String> {
        self.children
            .get(id)
            .map(|c| {
                c.iter()
                    .filter(|cid| !self.is_trashed(cid))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One page of visible children: the ids from `cursor` (the id of the first child to
    /// return) on, at most `size` of them, the next cursor and `has_more`. It looks only at
    /// the children it returns, so a page of a 10,000-child block costs the same as any other.
    pub fn visible_children_page(
        &self,
        id: &str,
        cursor: Option<&str>,
        size: usize,
    ) -> ApiResult<(Vec<String>, Option<String>, bool)> {
        let empty = Vec::new();
        let all = self.children.get(id).unwrap_or(&empty);
        let start = match cursor {
            None => 0,
            Some(c) => {
                let wanted = crate::util::parse_id(c);
                all.iter()
                    .position(|cid| wanted.as_deref() == Some(cid.as_str()))
                    .ok_or_else(|| {
                        ApiError::validation(format!("The start_cursor provided is invalid: {c}"))
                    })?
            }
        };
        let mut visible = all[start..].iter().filter(|cid| !self.is_trashed(cid));
        let page: Vec<String> = visible.by_ref().take(size).cloned().collect();
        let next = visible.next().cloned();
        let more = next.is_some();
        Ok((page, next, more))
    }

    fn insert_child(&mut self, parent: &str, child: &str, pos: &Position) -> ApiResult<usize> {
        let list = self.children.entry(parent.to_string()).or_default();
        let idx = match pos {
            Position::Start => 0,
            Position::End => list.len(),
            Position::After(after) => match list.iter().position(|c| c == after) {
                Some(i) => i + 1,
                None => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: the block {after} is not a child of {parent}."
                    )));
                }
            },
        };
        list.insert(idx, child.to_string());
        Ok(idx)
    }

    /// The parent object of a child block/page under `parent_id` (page or block).
    pub fn parent_ref(&self, parent_id: &str) -> Value {
        if self.pages.contains_key(parent_id) {
            json!({ "type": "page_id", "page_id": parent_id })
        } else {
            json!({ "type": "block_id", "block_id": parent_id })
        }
    }

    /// Builds a stored block.
    pub fn make_block(&self, id: &str, parent: Value, ty: &str, content: Value, by: &str) -> Value {
        let now = now_minute();
        let mut m = Map::new();
        m.insert("object".into(), json!("block"));
        m.insert("id".into(), json!(id));
        m.insert("parent".into(), parent);
        m.insert("created_time".into(), json!(now));
        m.insert("last_edited_time".into(), json!(now));
        m.insert("created_by".into(), partial_user(by));
        m.insert("last_edited_by".into(), partial_user(by));
        m.insert("has_children".into(), json!(false));
        m.insert("archived".into(), json!(false));
        m.insert("in_trash".into(), json!(false));
        m.insert("type".into(), json!(ty));
        m.insert(ty.into(), content);
        Value::Object(m)
    }

    /// Inserts normalised blocks under `parent_id` at `pos`; returns the new first-level ids.
    pub fn insert_blocks(
        &mut self,
        parent_id: &str,
        blocks: Vec<NewBlock>,
        pos: Position,
        by: &str,
    ) -> ApiResult<Vec<String>> {
        let mut ids = Vec::new();
        let mut pos = pos;
        for b in blocks {
            let id = new_id();
            let parent = self.parent_ref(parent_id);
            let block = self.make_block(&id, parent, &b.ty, b.content, by);
            self.insert_child(parent_id, &id, &pos)?;
            self.blocks.insert(id.clone(), block);
            self.record_order(&id);
            if !b.children.is_empty() {
                self.insert_blocks(&id, b.children, Position::End, by)?;
            }
            pos = Position::After(id.clone());
            ids.push(id);
        }
        self.touch(parent_id, by);
        Ok(ids)
    }

    /// Inserts a raw stored block value (seeding).
    pub fn insert_raw_block(&mut self, parent_id: &str, block: Value) -> String {
        let id = block["id"].as_str().unwrap_or_default().to_string();
        self.children
            .entry(parent_id.to_string())
            .or_default()
            .push(id.clone());
        self.blocks.insert(id.clone(), block);
        self.record_order(&id);
        id
    }

    /// Sets `in_trash` and `archived` on every object with this id (page, block, database).
    pub fn set_trash(&mut self, id: &str, trash: bool) {
        for map in [&mut self.pages, &mut self.blocks, &mut self.databases] {
            if let Some(v) = map.get_mut(id) {
                v["in_trash"] = json!(trash);
                v["archived"] = json!(trash);
            }
        }
    }

    /// Updates `last_edited_time`/`last_edited_by` of a page or block.
    pub fn touch(&mut self, id: &str, by: &str) {
        let now = now_minute();
        for map in [&mut self.pages, &mut self.blocks] {
            if let Some(v) = map.get_mut(id) {
                v["last_edited_time"] = json!(now);
                v["last_edited_by"] = partial_user(by);
            }
        }
    }

    /// Inserts a stored page. For page/block parents a `child_page` block is inserted too.
    pub fn insert_page(&mut self, page: Value, pos: Position) -> ApiResult<String> {
        let id = page["id"].as_str().unwrap_or_default().to_string();
        let parent = page["parent"].clone();
        let parent_id = parent
            .get("page_id")
            .or_else(|| parent.get("block_id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(pid) = parent_id {
            let block = json!({
                "object": "block",
                "id": id,
                "parent": parent,
                "created_time": page["created_time"],
                "last_edited_time": page["last_edited_time"],
                "created_by": page["created_by"],
                "last_edited_by": page["last_edited_by"],
                "has_children": false,
                "archived": false,
                "in_trash": false,
                "type": "child_page",
                "child_page": { "title": page_title(&page) }
            });
            self.insert_child(&pid, &id, &pos)?;
            self.blocks.insert(id.clone(), block);
        }
        self.pages.insert(id.clone(), page);
        self.record_order(&id);
        Ok(id)
    }

    /// Inserts a database container (and its `child_database` block under a page parent).
    pub fn insert_database(&mut self, db: Value) -> String {
        let id = db["id"].as_str().unwrap_or_default().to_string();
        if let Some(pid) = db["parent"].get("page_id").and_then(Value::as_str) {
            let pid = pid.to_string();
            let block = json!({
                "object": "block",
                "id": id,
                "parent": db["parent"],
                "created_time": minute_of(&db["created_time"]),
                "last_edited_time": minute_of(&db["last_edited_time"]),
                "created_by": db["created_by"],
                "last_edited_by": db["last_edited_by"],
                "has_children": false,
                "archived": false,
                "in_trash": false,
                "type": "child_database",
                "child_database": { "title": plain_text(&db["title"]) }
            });
            self.children.entry(pid).or_default().push(id.clone());
            self.blocks.insert(id.clone(), block);
        }
        self.databases.insert(id.clone(), db);
        self.record_order(&id);
        id
    }

    /// Inserts a data source and registers it in its database's `data_sources` list.
    pub fn insert_data_source(&mut self, ds: Value) -> String {
        let id = ds["id"].as_str().unwrap_or_default().to_string();
        let db_id = ds["parent"]["database_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = plain_text(&ds["title"]);
        if let Some(db) = self.databases.get_mut(&db_id)
            && let Some(list) = db["data_sources"].as_array_mut()
        {
            list.push(json!({ "id": id, "name": name }));
        }
        self.data_sources.insert(id.clone(), ds);
        self.record_order(&id);
        id
    }

    /// Stores a whole object answered by Notion (a page, block, database, data source, user
    /// or comment) under its own id, replacing any object with that id: the seeding hook for
    /// replaying recorded traffic. Pages, blocks and databases under a page or block are
    /// listed among its children (once); a data source joins its database's `data_sources`.
    /// The stored form keeps both `archived` and `in_trash` (a 2026-03-11 object gets
    /// `archived` from `in_trash`). Returns the kind stored, or `None` for an object that is
    /// not one of those or lacks a valid id.
    pub fn seed_object(&mut self, obj: &Value) -> Option<&'static str> {
        let object = obj["object"].as_str()?;
        let id = obj["id"].as_str().and_then(crate::util::parse_id)?;
        let mut v = obj.clone();
        v["id"] = json!(id);
        if let Some(o) = v.as_object_mut() {
            o.shift_remove("request_id");
        }
        if matches!(object, "page" | "block" | "database" | "data_source")
            && let Some(o) = v.as_object_mut()
        {
            let trash = o
                .get("in_trash")
                .or_else(|| o.get("archived"))
                .cloned()
                .unwrap_or(json!(false));
            o.entry("in_trash").or_insert(trash.clone());
            o.entry("archived").or_insert(trash);
            // Every stored page carries `is_locked` (older recordings predate it).
            if object == "page" {
                o.entry("is_locked").or_insert(json!(false));
            }
        }
        let parent_id = v["parent"]
            .get("page_id")
            .or_else(|| v["parent"].get("block_id"))
            .and_then(Value::as_str)
            .and_then(crate::util::parse_id);
        // Rows carry their database next to their data source, as the emulator stores every
        // row (older recordings lack it: RM/retrieve_page_db_first.json against
        // RM/query_data_source_limit_2.json).
        if object == "page"
            && v["parent"]["type"] == "data_source_id"
            && v["parent"].get("database_id").is_none()
            && let Some(db) = v["parent"]["data_source_id"]
                .as_str()
                .and_then(crate::util::parse_id)
                .and_then(|d| self.data_sources.get(&d))
                .map(|d| d["parent"]["database_id"].clone())
        {
            v["parent"]["database_id"] = db;
        }
        let kind = match object {
            "page" => {
                let title = page_title(&v);
                self.seed_child_block(parent_id.as_deref(), &id, &v, "child_page", title);
                self.pages.insert(id.clone(), v);
                "page"
            }
            "block" => {
                if let Some(pid) = &parent_id {
                    self.seed_child(pid, &id);
                }
                self.blocks.insert(id.clone(), v);
                "block"
            }
            "database" => {
                if let Some(o) = v.as_object_mut() {
                    // Containers are stored without a schema (it lives on the data sources).
                    o.shift_remove("properties");
                    o.entry("data_sources").or_insert(json!([]));
                }
                let title = plain_text(&v["title"]);
                self.seed_child_block(parent_id.as_deref(), &id, &v, "child_database", title);
                self.databases.insert(id.clone(), v);
                "database"
            }
            "data_source" => {
                let db_id = v["parent"]["database_id"]
                    .as_str()
                    .and_then(crate::util::parse_id);
                let name = plain_text(&v["title"]);
                if let Some(db) = db_id.and_then(|d| self.databases.get_mut(&d))
                    && let Some(list) = db["data_sources"].as_array_mut()
                    && !list.iter().any(|x| x["id"] == json!(id))
                {
                    list.push(json!({ "id": id, "name": name }));
                }
                self.data_sources.insert(id.clone(), v);
                "data_source"
            }
            "user" => {
                match self.users.iter_mut().find(|u| u["id"] == json!(id)) {
                    Some(u) => *u = v,
                    None => self.users.push(v),
                }
                "user"
            }
            "comment" => {
                match self.comments.iter_mut().find(|c| c["id"] == json!(id)) {
                    Some(c) => *c = v,
                    None => self.comments.push(v),
                }
                "comment"
            }
            _ => return None,
        };
        if !self.order.contains_key(&id) {
            self.record_order(&id);
        }
        Some(kind)
    }

    /// Seeds the `child_page`/`child_database` block standing for the seeded object `v` in its
    /// parent `pid` (none for a workspace-level object, or where the block was seeded itself).
    fn seed_child_block(
        &mut self,
        pid: Option<&str>,
        id: &str,
        v: &Value,
        ty: &str,
        title: String,
    ) {
        let Some(pid) = pid else { return };
        if self.blocks.contains_key(id) {
            return;
        }
        let mut block = json!({
            "object": "block", "id": id, "parent": v["parent"],
            "created_time": minute_of(&v["created_time"]),
            "last_edited_time": minute_of(&v["last_edited_time"]),
            "created_by": v["created_by"], "last_edited_by": v["last_edited_by"],
            "has_children": false, "archived": v["archived"], "in_trash": v["in_trash"],
            "type": ty,
        });
        block[ty] = json!({ "title": title });
        self.blocks.insert(id.to_string(), block);
        self.seed_child(pid, id);
    }

    fn seed_child(&mut self, parent: &str, child: &str) {
        let list = self.children.entry(parent.to_string()).or_default();
        if !list.iter().any(|c| c == child) {
            list.push(child.to_string());
        }
    }

    /// Rows (pages) of a data source in creation order.
    pub fn rows_of(&self, ds_id: &str) -> Vec<&Value> {
        let mut rows: Vec<&Value> = self
            .pages
            .values()
            .filter(|p| p["parent"]["data_source_id"] == json!(ds_id))
            .collect();
        rows.sort_by_key(|p| {
            self.order
                .get(p["id"].as_str().unwrap_or_default())
                .copied()
        });
        rows
    }

    /// Renders a block for a version: computed `has_children`, `archived` and type renames.
    pub fn render_block(&self, id: &str, v: ApiVersion) -> Option<Value> {
        let mut b = self.blocks.get(id)?.clone();
        let has_children = match b["type"].as_str() {
            Some("child_page") | Some("child_database") => !self.visible_children(id).is_empty(),
            _ => !self.visible_children(id).is_empty(),
        };
        b["has_children"] = json!(has_children);
        if let Some(title) = self.pages.get(id).map(page_title)
            && b["type"] == "child_page"
        {
            b["child_page"]["title"] = json!(title);
        }
        if !v.has_archived() {
            strip_archived(&mut b);
        }
        if b["type"] == "meeting_notes"
            && v != ApiVersion::V2026_03_11
            && let Some(obj) = b.as_object_mut()
        {
            let content = obj.shift_remove("meeting_notes").unwrap_or(json!({}));
            obj.insert("type".into(), json!("transcription"));
            obj.insert("transcription".into(), content);
        }
        Some(b)
    }

    /// Renders a page. `truncate` applies GET-page's 25-item truncation; `filter` keeps only
    /// the listed properties (by id, decoded id or name).
    pub fn render_page(
        &self,
        id: &str,
        v: ApiVersion,
        filter: Option<&[String]>,
        truncate: bool,
    ) -> Option<Value> {
        let mut p = self.pages.get(id)?.clone();
        if !v.has_archived() {
            strip_archived(&mut p);
        }
        if v.is_legacy() && p["parent"]["type"] == "data_source_id" {
            let db = p["parent"]["database_id"].clone();
            p["parent"] = json!({ "type": "database_id", "database_id": db });
        }
        if let Some(props) = p["properties"].as_object_mut() {
            if let Some(f) = filter {
                props.retain(|name, val| prop_matches(name, val, f));
            }
            if truncate {
                for val in props.values_mut() {
                    truncate_value(val);
                }
            }
        }
        Some(p)
    }

    /// Renders a database container (2025-09-03+) or the legacy schema-bearing database.
    pub fn render_database(&self, id: &str, v: ApiVersion) -> ApiResult<Value> {
        let db = self
            .databases
            .get(id)
            .ok_or_else(|| ApiError::not_found("database", id))?;
        if v.is_legacy() {
            return self.legacy_database(db);
        }
        let mut d = db.clone();
        if let Some(o) = d.as_object_mut() {
            // Recorded 2025-09-03 containers carry neither `archived` nor the row-level
            // `created_by`/`last_edited_by` (RM/retrieve_database_created.json).
            o.shift_remove("archived");
            o.shift_remove("created_by");
            o.shift_remove("last_edited_by");
        }
        Ok(d)
    }

    fn legacy_database(&self, db: &Value) -> ApiResult<Value> {
        let sources = db["data_sources"].as_array().cloned().unwrap_or_default();
        if sources.len() > 1 {
            return Err(multi_source_error(db["id"].as_str().unwrap_or_default()));
        }
        let props = sources
            .first()
            .and_then(|s| s["id"].as_str())
            .and_then(|sid| self.data_sources.get(sid))
            .map(|ds| legacy_properties(&ds["properties"]))
            .unwrap_or_else(|| json!({}));
        Ok(json!({
            "object": "database",
            "id": db["id"],
            "cover": db["cover"],
            "icon": db["icon"],
            "created_time": minute_of(&db["created_time"]),
            "created_by": db["created_by"],
            "last_edited_by": db["last_edited_by"],
            "last_edited_time": minute_of(&db["last_edited_time"]),
            "title": db["title"],
            "description": db["description"],
            "is_inline": db["is_inline"],
            "properties": props,
            "parent": db["parent"],
            "url": db["url"],
            "public_url": db["public_url"],
            "archived": db["in_trash"],
            "in_trash": db["in_trash"],
        }))
    }

    /// Renders a data source.
    pub fn render_data_source(&self, id: &str, v: ApiVersion) -> Option<Value> {
        let mut d = self.data_sources.get(id)?.clone();
        if !v.has_archived() {
            strip_archived(&mut d);
        }
        Some(d)
    }

    /// Finds a property of a data source schema by name or id.
    pub fn schema_prop<'a>(schema: &'a Value, key: &str) -> Option<(&'a String, &'a Value)> {
        let decoded = percent_decode(key);
        schema.as_object()?.iter().find(|(name, p)| {
            name.as_str() == key || {
                let pid = p["id"].as_str().unwrap_or_default();
                pid == key || percent_decode(pid) == decoded
            }
        })
    }

    /// Resolves the users of a people value.
    fn users_for(&self, arr: &Value, path: &str) -> ApiResult<Value> {
        let a = arr.as_array().ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: {path} should be an array, instead was `{}`.",
                short_json(arr)
            ))
        })?;
        if a.len() > 100 {
            return Err(ApiError::body_le(&format!("{path}.length"), 100, a.len()));
        }
        let mut out = Vec::new();
        for (i, u) in a.iter().enumerate() {
            let id = crate::util::item_id(u, path, i)?;
            out.push(self.user(&id).unwrap_or_else(|| partial_user(&id)));
        }
        Ok(Value::Array(out))
    }

    /// Converts a request property value into its stored response form for the schema entry
    /// `prop` (a data source property config, or a synthetic title config for page parents).
    /// Select/multi-select options unknown by name are added to `schema_prop_mut`.
    pub fn write_value(
        &self,
        prop: &Value,
        value: &Value,
        path: &str,
        new_options: &mut Vec<Value>,
    ) -> ApiResult<Value> {
        let ty = prop["type"].as_str().unwrap_or_default().to_string();
        let pid = prop["id"].clone();
        // Requests may send `{type, <type>: v}` or just `{<type>: v}`.
        let inner = match value.get(&ty) {
            Some(x) => x.clone(),
            None if value.is_array() && (ty == "title" || ty == "rich_text") => value.clone(),
            None => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.{ty} should be defined, instead was `undefined`."
                )));
            }
        };
        let ipath = format!("{path}.{ty}");
        let stored = match ty.as_str() {
            "title" | "rich_text" => normalize_rich_text(&inner, &ipath, self)?,
            "number" => {
                if !(inner.is_number() || inner.is_null()) {
                    return Err(type_err(&ipath, "a number", &inner));
                }
                inner
            }
            "checkbox" => {
                if !inner.is_boolean() {
                    return Err(type_err(&ipath, "a boolean", &inner));
                }
                inner
            }
            "url" | "email" | "phone_number" => {
                let limit = if ty == "url" { 2000 } else { 200 };
                match &inner {
                    Value::Null => inner,
                    Value::String(s) => {
                        let n = s.chars().count();
                        if n > limit {
                            return Err(ApiError::body_le(&format!("{ipath}.length"), limit, n));
                        }
                        inner
                    }
                    _ => return Err(type_err(&ipath, "a string", &inner)),
                }
            }
            "select" | "status" => {
                if inner.is_null() {
                    inner
                } else {
                    self.resolve_option(prop, &ty, &inner, &ipath, ty == "select", new_options)?
                }
            }
            "multi_select" => {
                let arr = capped_array(&inner, &ipath)?;
                let mut out = Vec::new();
                for (i, o) in arr.iter().enumerate() {
                    out.push(self.resolve_option(
                        prop,
                        &ty,
                        o,
                        &format!("{ipath}[{i}]"),
                        true,
                        new_options,
                    )?);
                }
                Value::Array(out)
            }
            "date" => {
                if inner.is_null() {
                    inner
                } else {
                    let start = inner["start"]
                        .as_str()
                        .ok_or_else(|| ApiError::body_undefined(&format!("{ipath}.start")))?;
                    json!({
                        "start": start,
                        "end": inner.get("end").cloned().unwrap_or(Value::Null),
                        "time_zone": inner.get("time_zone").cloned().unwrap_or(Value::Null),
                    })
                }
            }
            "people" => self.users_for(&inner, &ipath)?,
            "relation" => {
                let arr = capped_array(&inner, &ipath)?;
                let mut out = Vec::new();
                for (i, r) in arr.iter().enumerate() {
                    let id = crate::util::item_id(r, &ipath, i)?;
                    out.push(json!({ "id": id }));
                }
                let mut m = Map::new();
                m.insert("id".into(), pid);
                m.insert("type".into(), json!("relation"));
                m.insert("relation".into(), Value::Array(out));
                m.insert("has_more".into(), json!(false));
                return Ok(Value::Object(m));
            }
            "files" => {
                let arr = inner
                    .as_array()
                    .ok_or_else(|| type_err(&ipath, "an array", &inner))?;
                let mut out = Vec::new();
                for f in arr {
                    let name = f["name"].as_str().unwrap_or("file").to_string();
                    if let Some(ext) = f.get("external") {
                        out.push(json!({ "name": name, "type": "external", "external": { "url": ext["url"] } }));
                    } else if let Some(uid) = f["file_upload"]["id"].as_str() {
                        let hosted = self.attach_upload(uid, &format!("{ipath}.file_upload.id"))?;
                        out.push(json!({ "name": name, "type": "file", "file": hosted }));
                    } else {
                        out.push(json!({ "name": name, "type": "file", "file": f.get("file").cloned().unwrap_or(Value::Null) }));
                    }
                }
                Value::Array(out)
            }
            "verification" => {
                let state = inner["state"].as_str().unwrap_or("unverified");
                if state == "verified" {
                    json!({
                        "state": "verified",
                        "verified_by": self.user(&self.bot_id).unwrap_or_else(|| partial_user(&self.bot_id)),
                        "date": inner.get("date").cloned().unwrap_or_else(|| json!({ "start": now_minute(), "end": null, "time_zone": null })),
                    })
                } else {
                    json!({ "state": "unverified", "verified_by": null, "date": null })
                }
            }
            "place" => inner,
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path} cannot be written: properties of type `{other}` are computed by Notion."
                )));
            }
        };
        let mut m = Map::new();
        m.insert("id".into(), pid);
        m.insert("type".into(), json!(ty));
        m.insert(ty, stored);
        Ok(Value::Object(m))
    }

    fn resolve_option(
        &self,
        prop: &Value,
        ty: &str,
        given: &Value,
        path: &str,
        may_create: bool,
        new_options: &mut Vec<Value>,
    ) -> ApiResult<Value> {
        let opts = prop[ty]["options"].as_array().cloned().unwrap_or_default();
        let all: Vec<Value> = opts.iter().chain(new_options.iter()).cloned().collect();
        let name = given["name"].as_str();
        let id = given["id"].as_str();
        if let Some(o) = all.iter().find(|o| {
            (name.is_some() && o["name"].as_str() == name)
                || (id.is_some() && o["id"].as_str() == id)
        }) {
            return Ok(json!({ "id": o["id"], "name": o["name"], "color": o["color"] }));
        }
        match name {
            Some(n) if may_create => {
                let o = json!({ "id": new_id(), "name": n, "color": given.get("color").cloned().unwrap_or(json!("default")), "description": null });
                new_options.push(o.clone());
                Ok(json!({ "id": o["id"], "name": o["name"], "color": o["color"] }))
            }
            _ => Err(ApiError::validation(format!(
                "body failed validation: {path} names an option that does not exist: `{}`.",
                short_json(given)
            ))),
        }
    }

    /// Default (empty) stored value for a property config on a new row.
    pub fn empty_value(&mut self, prop: &Value, ds_id: &str, page: &Value) -> Value {
        let ty = prop["type"].as_str().unwrap_or_default().to_string();
        let val = match ty.as_str() {
            "title" | "rich_text" | "multi_select" | "people" | "files" => json!([]),
            "relation" => {
                return json!({ "id": prop["id"], "type": "relation", "relation": [], "has_more": false });
            }
            "checkbox" => json!(false),
            "created_time" => page["created_time"].clone(),
            "last_edited_time" => page["last_edited_time"].clone(),
            "created_by" | "last_edited_by" => {
                let id = page[&ty]["id"].as_str().unwrap_or_default().to_string();
                self.user(&id).unwrap_or_else(|| partial_user(&id))
            }
            "unique_id" => {
                let n = self.unique_counters.entry(ds_id.to_string()).or_insert(0);
                *n += 1;
                json!({ "prefix": prop["unique_id"]["prefix"], "number": *n })
            }
            "formula" => json!({ "type": "string", "string": null }),
            "rollup" => {
                json!({ "type": "array", "array": [], "function": prop["rollup"]["function"] })
            }
            "verification" => json!({ "state": "unverified", "verified_by": null, "date": null }),
            "button" => json!({}),
            "status" => prop["status"]["options"]
                .as_array()
                .and_then(|o| o.first())
                .map(|o| json!({ "id": o["id"], "name": o["name"], "color": o["color"] }))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let mut m = Map::new();
        m.insert("id".into(), prop["id"].clone());
        m.insert("type".into(), json!(ty));
        m.insert(ty, val);
        Value::Object(m)
    }

    /// Builds a stored page object.
    pub fn make_page(&self, id: &str, parent: Value, properties: Value, by: &str) -> Value {
        let now = now_minute();
        let title = properties
            .as_object()
            .and_then(|p| p.values().find(|v| v["type"] == "title"))
            .map(|t| plain_text(&t["title"]))
            .unwrap_or_default();
        json!({
            "object": "page",
            "id": id,
            "created_time": now,
            "last_edited_time": now,
            "created_by": partial_user(by),
            "last_edited_by": partial_user(by),
            "cover": null,
            "icon": null,
            "parent": parent,
            "archived": false,
            "in_trash": false,
            "is_locked": false,
            "properties": properties,
            "url": page_url(&title, id),
            "public_url": null,
        })
    }

    /// Builds a stored database container.
    pub fn make_database(&self, id: &str, parent: Value, title: Value, by: &str) -> Value {
        let now = now_millis();
        json!({
            "object": "database",
            "id": id,
            "title": title,
            "description": [],
            "parent": parent,
            "is_inline": false,
            "in_trash": false,
            "archived": false,
            "is_locked": false,
            "created_time": now,
            "last_edited_time": now,
            "created_by": partial_user(by),
            "last_edited_by": partial_user(by),
            "data_sources": [],
            "icon": null,
            "cover": null,
            "url": format!("https://www.notion.so/{}", compact(id)),
            "public_url": null,
        })
    }

    /// Builds a stored data source.
    pub fn make_data_source(
        &self,
        id: &str,
        db_id: &str,
        title: Value,
        properties: Value,
        by: &str,
    ) -> Value {
        let now = now_minute();
        let db = self.databases.get(db_id);
        json!({
            "object": "data_source",
            "id": id,
            "cover": null,
            "icon": null,
            "created_time": now,
            "created_by": partial_user(by),
            "last_edited_by": partial_user(by),
            "last_edited_time": now,
            "title": title,
            "description": [],
            "is_inline": db.map(|d| d["is_inline"].clone()).unwrap_or(json!(false)),
            "properties": properties,
            "parent": { "type": "database_id", "database_id": db_id },
            "database_parent": db.map(|d| d["parent"].clone()).unwrap_or(Value::Null),
            "url": format!("https://www.notion.so/{}", compact(db_id)),
            "public_url": null,
            "archived": false,
            "in_trash": false,
        })
    }

    /// Normalises a property configuration from a request (`{<type>: {config}}`, optional
    /// `name`/`description`) into stored form.
    pub fn make_prop_config(&mut self, name: &str, given: &Value, path: &str) -> ApiResult<Value> {
        const TYPES: &[&str] = &[
            "title",
            "rich_text",
            "number",
            "select",
            "multi_select",
            "status",
            "date",
            "people",
            "files",
            "checkbox",
            "url",
            "email",
            "phone_number",
            "formula",
            "relation",
            "rollup",
            "created_time",
            "created_by",
            "last_edited_time",
            "last_edited_by",
            "unique_id",
            "verification",
            "button",
            "place",
        ];
        let ty = given["type"]
            .as_str()
            .map(str::to_string)
            .or_else(|| TYPES.iter().find(|t| given.get(**t).is_some()).map(|t| t.to_string()))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: {path} should define a property type, instead was `{}`.",
                    short_json(given)
                ))
            })?;
        if !TYPES.contains(&ty.as_str()) {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.type should be a property type, instead was `\"{ty}\"`."
            )));
        }
        let cfg = given.get(&ty).cloned().unwrap_or(json!({}));
        let id = if ty == "title" {
            "title".to_string()
        } else {
            self.new_prop_id()
        };
        let config = match ty.as_str() {
            "number" => json!({ "format": cfg.get("format").cloned().unwrap_or(json!("number")) }),
            "select" | "multi_select" | "status" => {
                let opts: Vec<Value> = cfg["options"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|o| json!({ "id": new_id(), "name": o["name"], "color": o.get("color").cloned().unwrap_or(json!("default")), "description": o.get("description").cloned().unwrap_or(Value::Null) }))
                    .collect();
                if ty == "status" {
                    let opts = if opts.is_empty() {
                        vec![
                            json!({ "id": new_id(), "name": "Not started", "color": "default", "description": null }),
                            json!({ "id": new_id(), "name": "In progress", "color": "blue", "description": null }),
                            json!({ "id": new_id(), "name": "Done", "color": "green", "description": null }),
                        ]
                    } else {
                        opts
                    };
                    let ids: Vec<Value> = opts.iter().map(|o| o["id"].clone()).collect();
                    json!({ "options": opts, "groups": [
                        { "id": new_id(), "name": "To-do", "color": "gray", "option_ids": ids.first().cloned().into_iter().collect::<Vec<_>>() },
                        { "id": new_id(), "name": "In progress", "color": "blue", "option_ids": ids.get(1).cloned().into_iter().collect::<Vec<_>>() },
                        { "id": new_id(), "name": "Complete", "color": "green", "option_ids": ids.iter().skip(2).cloned().collect::<Vec<_>>() },
                    ] })
                } else {
                    json!({ "options": opts })
                }
            }
            "formula" => {
                json!({ "expression": cfg.get("expression").cloned().unwrap_or(json!("")) })
            }
            "relation" => {
                let raw = cfg["data_source_id"].as_str().unwrap_or_default();
                let ds = parse_id(raw).ok_or_else(|| {
                    ApiError::body_undefined(&format!("{path}.relation.data_source_id"))
                })?;
                let db = self
                    .data_sources
                    .get(&ds)
                    .map(|d| d["parent"]["database_id"].clone())
                    .ok_or_else(|| ApiError::not_found("database", &ds))?;
                let kind = cfg["type"].as_str().unwrap_or("single_property");
                let mut m = Map::new();
                m.insert("database_id".into(), db);
                m.insert("data_source_id".into(), json!(ds));
                m.insert("type".into(), json!(kind));
                if kind == "dual_property" {
                    m.insert("dual_property".into(), json!({ "synced_property_name": format!("Related to {name}"), "synced_property_id": self.new_prop_id() }));
                } else {
                    m.insert("single_property".into(), json!({}));
                }
                Value::Object(m)
            }
            "rollup" => json!({
                "rollup_property_name": cfg.get("rollup_property_name").cloned().unwrap_or(json!("")),
                "relation_property_name": cfg.get("relation_property_name").cloned().unwrap_or(json!("")),
                "rollup_property_id": cfg.get("rollup_property_id").cloned().unwrap_or(json!("")),
                "relation_property_id": cfg.get("relation_property_id").cloned().unwrap_or(json!("")),
                "function": cfg.get("function").cloned().unwrap_or(json!("show_original")),
            }),
            "unique_id" => json!({ "prefix": cfg.get("prefix").cloned().unwrap_or(Value::Null) }),
            _ => json!({}),
        };
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("name".into(), json!(name));
        m.insert(
            "description".into(),
            given.get("description").cloned().unwrap_or(Value::Null),
        );
        m.insert("type".into(), json!(ty));
        m.insert(ty, config);
        Ok(Value::Object(m))
    }
}

/// A request array of at most 100 items, or Notion's type or length error at `path`.
fn capped_array<'a>(v: &'a Value, path: &str) -> ApiResult<&'a Vec<Value>> {
    let arr = v.as_array().ok_or_else(|| type_err(path, "an array", v))?;
    crate::util::check_len_100(arr, path)?;
    Ok(arr)
}

fn type_err(path: &str, what: &str, v: &Value) -> ApiError {
    ApiError::validation(format!(
        "body failed validation: {path} should be {what}, instead was `{}`.",
        short_json(v)
    ))
}

/// The error for old-version access to a multi-source database **[uncertain wording]**.
pub fn multi_source_error(id: &str) -> ApiError {
    ApiError::validation(format!(
        "Database {id} has multiple data sources, which is not supported by API version 2022-06-28. Use API version 2025-09-03 or later."
    ))
}

/// Removes `archived` from a top-level object.
pub fn strip_archived(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.shift_remove("archived");
    }
}

/// Whether a property (by name and value with `id`) matches a `filter_properties` list.
pub fn prop_matches(name: &str, val: &Value, filter: &[String]) -> bool {
    let id = val["id"].as_str().unwrap_or_default();
    let did = percent_decode(id);
    filter
        .iter()
        .any(|f| f == name || f == id || percent_decode(f) == did)
}

/// GET-page truncation: reference arrays are cut at 25 items; relations get `has_more: true`.
pub fn truncate_value(val: &mut Value) {
    let ty = val["type"].as_str().unwrap_or_default().to_string();
    if !matches!(ty.as_str(), "title" | "rich_text" | "people" | "relation") {
        return;
    }
    if let Some(arr) = val[&ty].as_array_mut()
        && arr.len() > 25
    {
        arr.truncate(25);
        if ty == "relation" {
            val["has_more"] = json!(true);
        }
    }
}

/// Converts a data-source schema into the 2022-06-28 database `properties` form.
pub fn legacy_properties(props: &Value) -> Value {
    let mut out = props.clone();
    if let Some(o) = out.as_object_mut() {
        for p in o.values_mut() {
            if p["type"] == "relation"
                && let Some(r) = p["relation"].as_object_mut()
            {
                r.shift_remove("data_source_id");
            }
            if let Some(po) = p.as_object_mut() {
                po.shift_remove("description");
            }
        }
    }
    out
}

/// A millisecond timestamp cut to the minute (`…T21:29:38.416+00:00` → `…T21:29:00.000Z`).
pub fn minute_of(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if s.len() >= 16 => json!(format!("{}:00.000Z", &s[..16])),
        _ => v.clone(),
    }
}

/// Plain text of a rich-text array (re-exported for handlers).
pub fn plain_text_of(v: &Value) -> String {
    plain_text(v)
}
