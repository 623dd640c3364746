//! Seeding: the empty workspace (users only) and the demo workspace. Every seeded object is
//! shaped after the recorded fixtures (`RM/retrieve_block_<type>.json`,
//! `RM/retrieve_page_*.json`, `RM/retrieve_data_source_*.json`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::{EmulatorConfig, Seed};
use crate::store::{Position, Store, partial_user};
use crate::util::{page_url, rt, rt_link, rt_text};

/// Ids of the demo workspace's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoIds {
    /// Top-level page (workspace parent), three levels deep below it.
    pub root_page: String,
    /// Child of the root page (level 2).
    pub child_page: String,
    /// Child of `child_page` (level 3).
    pub grandchild_page: String,
    /// Page containing every block type.
    pub blocks_page: String,
    /// Page with 250 paragraph children (pagination).
    pub big_page: String,
    /// Number of children of `big_page`.
    pub big_page_children: usize,
    /// The database (inside `blocks_page`) with two data sources.
    pub database: String,
    /// First data source ("Tasks"): every property type.
    pub data_source: String,
    /// Second data source ("Projects"): relation target.
    pub data_source_2: String,
    /// Rows of `data_source` in creation order.
    pub rows: Vec<String>,
    /// Rows of `data_source_2` in creation order.
    pub rows_2: Vec<String>,
    /// A row whose relation has 30 entries and whose rich text has 30 runs (> 25).
    pub many_relations_row: String,
    /// A single-source database (for `database_id` parents and 2022-06-28 queries).
    pub simple_database: String,
    /// The data source of `simple_database`.
    pub simple_data_source: String,
    /// A person user.
    pub user: String,
    /// Another person user.
    pub user_2: String,
    /// The integration bot user that internal tokens act as.
    pub bot: String,
    /// Example block id per block type on `blocks_page` (including nested ones such as
    /// `table_row`, `column`, `synced_block_copy`, `toggle_nested`).
    pub blocks: BTreeMap<String, String>,
    /// The discussion id of the seeded comments on the root page.
    pub discussion: String,
    /// Template ids of `data_source`.
    pub templates: Vec<String>,
    /// Two views of `simple_database` ("All books", a table; "To read", a list filtered on
    /// `Read = false` and sorted by title).
    pub views: Vec<String>,
    /// A page under the root page holding a `file` block of an uploaded file.
    pub file_page: String,
    /// The (uploaded, attached) file upload shown on `file_page`.
    pub file_upload: String,
}

fn did(n: u32) -> String {
    format!("1a2b3c4d-5e6f-8000-a000-{n:012x}")
}

fn ts(n: u32) -> String {
    // Distinct, minute-rounded historical times.
    let day = 1 + (n / 600) % 28;
    let hour = (n / 60) % 10 + 8;
    let minute = n % 60;
    format!("2026-01-{day:02}T{hour:02}:{minute:02}:00.000Z")
}

struct Seeder {
    s: Store,
    n: u32,
    t: u32,
    by: String,
}

impl Seeder {
    fn id(&mut self) -> String {
        self.n += 1;
        did(self.n)
    }

    fn time(&mut self) -> String {
        self.t += 1;
        ts(self.t)
    }

    fn stamp(&mut self, v: &mut Value) {
        let t = self.time();
        v["created_time"] = json!(t);
        v["last_edited_time"] = json!(t);
        v["created_by"] = partial_user(&self.by);
        v["last_edited_by"] = partial_user(&self.by);
    }

    fn block(&mut self, parent: &str, ty: &str, content: Value) -> String {
        let id = self.id();
        let pref = self.s.parent_ref(parent);
        let mut b = self.s.make_block(&id, pref, ty, content, &self.by);
        self.stamp(&mut b);
        self.s.insert_raw_block(parent, b)
    }

    fn page(&mut self, parent: Value, title: &str) -> String {
        let id = self.id();
        let props = json!({ "title": { "id": "title", "type": "title", "title": rt(title) } });
        let mut p = self.s.make_page(&id, parent, props, &self.by);
        self.stamp(&mut p);
        p["url"] = json!(page_url(title, &id));
        self.s.insert_page(p, Position::End).unwrap_or_default();
        id
    }
}

fn users(bot_id: &str, bot_name: &str, workspace: &str) -> Vec<Value> {
    vec![
        json!({
            "object": "user", "id": did(0xa1), "name": "Ada Lovelace",
            "avatar_url": "https://example.com/avatars/ada.png",
            "type": "person", "person": { "email": "ada@example.com" }
        }),
        json!({
            "object": "user", "id": did(0xa2), "name": "Grace Hopper",
            "avatar_url": null,
            "type": "person", "person": { "email": "grace@example.com" }
        }),
        json!({
            "object": "user", "id": bot_id, "name": bot_name,
            "avatar_url": null,
            "type": "bot",
            "bot": {
                "owner": { "type": "workspace", "workspace": true },
                "workspace_name": workspace,
                "workspace_limits": { "max_file_upload_size_in_bytes": 5_368_709_120u64 }
            }
        }),
    ]
}

/// Builds the store for a configuration.
pub(crate) fn build(config: &EmulatorConfig) -> (Store, Option<DemoIds>) {
    let bot = did(0xb07);
    let mut s = Store::new(bot.clone(), did(0xeeee), config.workspace_name.clone());
    s.max_file_upload_size = config.max_file_upload_size;
    s.users = users(&bot, "notion-gate emulator", &config.workspace_name);
    match config.seed {
        Seed::Empty => (s, None),
        Seed::Demo => {
            let mut sd = Seeder {
                s,
                n: 0x100,
                t: 0,
                by: did(0xa1),
            };
            let ids = demo(&mut sd, &bot);
            (sd.s, Some(ids))
        }
    }
}

fn opt(id: &str, name: &str, color: &str) -> Value {
    json!({ "id": id, "name": name, "color": color, "description": null })
}

fn prop(id: &str, name: &str, ty: &str, cfg: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("name".into(), json!(name));
    m.insert("description".into(), Value::Null);
    m.insert("type".into(), json!(ty));
    m.insert(ty.into(), cfg);
    Value::Object(m)
}

/// An option as a page value (`{id, name, color}`, no `description`).
fn optv(o: &Value) -> Value {
    json!({ "id": o["id"], "name": o["name"], "color": o["color"] })
}

fn val(id: &str, ty: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("type".into(), json!(ty));
    m.insert(ty.into(), v);
    Value::Object(m)
}

fn demo(sd: &mut Seeder, bot: &str) -> DemoIds {
    let ada = did(0xa1);
    let grace = did(0xa2);
    let ada_full = sd.s.users[0].clone();
    let grace_full = sd.s.users[1].clone();

    // Pages, three levels.
    let root = sd.page(
        json!({ "type": "workspace", "workspace": true }),
        "Demo Root",
    );
    if let Some(p) = sd.s.pages.get_mut(&root) {
        p["icon"] = json!({ "type": "emoji", "emoji": "🏠" });
        p["cover"] =
            json!({ "type": "external", "external": { "url": "https://example.com/cover.png" } });
    }
    sd.block(
        &root,
        "paragraph",
        json!({ "rich_text": rt("Welcome to the demo workspace."), "color": "default" }),
    );
    let child = sd.page(
        json!({ "type": "page_id", "page_id": root }),
        "Projects Overview",
    );
    sd.block(
        &child,
        "paragraph",
        json!({ "rich_text": rt("Level two."), "color": "default" }),
    );
    let grandchild = sd.page(json!({ "type": "page_id", "page_id": child }), "Deep Notes");
    sd.block(
        &grandchild,
        "paragraph",
        json!({ "rich_text": rt("Level three."), "color": "default" }),
    );
    let blocks_page = sd.page(
        json!({ "type": "page_id", "page_id": root }),
        "Block Showcase",
    );
    if let Some(p) = sd.s.pages.get_mut(&blocks_page) {
        p["icon"] = json!({ "type": "emoji", "emoji": "🧱" });
    }
    let big = sd.page(json!({ "type": "page_id", "page_id": root }), "Big Page");
    let big_n = 250;
    for i in 1..=big_n {
        sd.block(
            &big,
            "paragraph",
            json!({ "rich_text": rt(&format!("Paragraph {i}")), "color": "default" }),
        );
    }

    // Every block type on the showcase page.
    let mut blocks = BTreeMap::new();
    let bp = blocks_page.clone();
    let text = |t: &str| json!({ "rich_text": rt(t), "color": "default" });
    let mention_para = json!({
        "rich_text": [
            rt_text("Hello "),
            { "type": "mention", "mention": { "type": "user", "user": ada_full },
              "annotations": crate::util::default_annotations(), "plain_text": "@Ada Lovelace", "href": null },
            rt_text(" see "),
            rt_link("the docs", "https://developers.notion.com/"),
            { "type": "equation", "equation": { "expression": "E = mc^2" },
              "annotations": crate::util::default_annotations(), "plain_text": "E = mc^2", "href": null }
        ],
        "color": "default"
    });
    blocks.insert("paragraph".into(), sd.block(&bp, "paragraph", mention_para));
    for (i, h) in ["heading_1", "heading_2", "heading_3", "heading_4"]
        .iter()
        .enumerate()
    {
        let id = sd.block(&bp, h, json!({ "rich_text": rt(&format!("Heading {}", i + 1)), "is_toggleable": false, "color": "default" }));
        blocks.insert((*h).into(), id);
    }
    let th = sd.block(
        &bp,
        "heading_2",
        json!({ "rich_text": rt("Toggle heading"), "is_toggleable": true, "color": "default" }),
    );
    sd.block(&th, "paragraph", text("Inside the toggle heading"));
    blocks.insert("toggle_heading".into(), th);
    let bl = sd.block(&bp, "bulleted_list_item", text("Bullet"));
    sd.block(&bl, "bulleted_list_item", text("Nested bullet"));
    blocks.insert("bulleted_list_item".into(), bl);
    blocks.insert(
        "numbered_list_item".into(),
        sd.block(&bp, "numbered_list_item", text("Numbered")),
    );
    blocks.insert("quote".into(), sd.block(&bp, "quote", text("A quote")));
    blocks.insert(
        "to_do".into(),
        sd.block(
            &bp,
            "to_do",
            json!({ "rich_text": rt("Something to do"), "checked": false, "color": "default" }),
        ),
    );
    let tg = sd.block(&bp, "toggle", text("Outer toggle"));
    let tg2 = sd.block(&tg, "toggle", text("Inner toggle"));
    let tg3 = sd.block(&tg2, "toggle", text("Innermost toggle"));
    sd.block(&tg3, "paragraph", text("Deep inside"));
    blocks.insert("toggle".into(), tg);
    blocks.insert("toggle_nested".into(), tg2);
    blocks.insert("callout".into(), sd.block(&bp, "callout", json!({ "rich_text": rt("Callout"), "icon": { "type": "emoji", "emoji": "✅" }, "color": "gray_background" })));
    blocks.insert(
        "code".into(),
        sd.block(
            &bp,
            "code",
            json!({ "caption": [], "rich_text": rt("fn main() {}"), "language": "rust" }),
        ),
    );
    blocks.insert(
        "equation".into(),
        sd.block(
            &bp,
            "equation",
            json!({ "expression": "x = \\frac{-b\\pm\\sqrt{b^2-4ac}}{2a}" }),
        ),
    );
    blocks.insert("divider".into(), sd.block(&bp, "divider", json!({})));
    blocks.insert("breadcrumb".into(), sd.block(&bp, "breadcrumb", json!({})));
    blocks.insert(
        "table_of_contents".into(),
        sd.block(&bp, "table_of_contents", json!({ "color": "gray" })),
    );
    let table = sd.block(
        &bp,
        "table",
        json!({ "table_width": 2, "has_column_header": true, "has_row_header": true }),
    );
    let mut first_row = String::new();
    for (a, b) in [
        ("Title", "Contents"),
        ("Title 1", "Contents 1"),
        ("Title 2", "Contents 2"),
    ] {
        let r = sd.block(&table, "table_row", json!({ "cells": [rt(a), rt(b)] }));
        if first_row.is_empty() {
            first_row = r;
        }
    }
    blocks.insert("table".into(), table);
    blocks.insert("table_row".into(), first_row);
    let cl = sd.block(&bp, "column_list", json!({}));
    let c1 = sd.block(&cl, "column", json!({ "width_ratio": 0.5 }));
    sd.block(&c1, "paragraph", text("Left column"));
    let c2 = sd.block(&cl, "column", json!({ "width_ratio": 0.5 }));
    sd.block(&c2, "paragraph", text("Right column"));
    blocks.insert("column_list".into(), cl);
    blocks.insert("column".into(), c1);
    let so = sd.block(&bp, "synced_block", json!({ "synced_from": null }));
    sd.block(&so, "paragraph", text("Synced content"));
    let sc = sd.block(
        &bp,
        "synced_block",
        json!({ "synced_from": { "type": "block_id", "block_id": so } }),
    );
    blocks.insert("synced_block".into(), so.clone());
    blocks.insert("synced_block_copy".into(), sc);
    let cp = sd.page(json!({ "type": "page_id", "page_id": bp }), "Child Page");
    blocks.insert("child_page".into(), cp);
    blocks.insert(
        "link_to_page".into(),
        sd.block(
            &bp,
            "link_to_page",
            json!({ "type": "page_id", "page_id": root }),
        ),
    );
    blocks.insert(
        "link_preview".into(),
        sd.block(
            &bp,
            "link_preview",
            json!({ "url": "https://github.com/makenotion/notion-sdk-js/pull/1" }),
        ),
    );
    blocks.insert(
        "embed".into(),
        sd.block(
            &bp,
            "embed",
            json!({ "caption": [], "url": "https://example.com/embed" }),
        ),
    );
    blocks.insert(
        "bookmark".into(),
        sd.block(
            &bp,
            "bookmark",
            json!({ "caption": [], "url": "https://example.com/" }),
        ),
    );
    blocks.insert("image".into(), sd.block(&bp, "image", json!({ "caption": [], "type": "external", "external": { "url": "https://example.com/image.png" } })));
    blocks.insert("video".into(), sd.block(&bp, "video", json!({ "caption": [], "type": "external", "external": { "url": "https://youtu.be/example" } })));
    blocks.insert("pdf".into(), sd.block(&bp, "pdf", json!({ "caption": [], "type": "external", "external": { "url": "https://example.com/doc.pdf" } })));
    blocks.insert("file".into(), sd.block(&bp, "file", json!({ "caption": [], "type": "file", "file": { "url": "https://prod-files-secure.s3.us-west-2.amazonaws.com/emulator/sample.txt", "expiry_time": "2099-01-01T00:00:00.000Z" }, "name": "sample.txt" })));
    blocks.insert("audio".into(), sd.block(&bp, "audio", json!({ "caption": [], "type": "external", "external": { "url": "https://example.com/sample.mp3" } })));
    blocks.insert(
        "template".into(),
        sd.block(
            &bp,
            "template",
            json!({ "rich_text": rt("Template button") }),
        ),
    );
    let tab = sd.block(&bp, "tab", json!({}));
    sd.block(&tab, "paragraph", json!({ "rich_text": rt("Tab one"), "color": "default", "icon": { "type": "emoji", "emoji": "1️⃣" } }));
    sd.block(&tab, "paragraph", json!({ "rich_text": rt("Tab two"), "color": "default", "icon": { "type": "emoji", "emoji": "2️⃣" } }));
    blocks.insert("tab".into(), tab);
    blocks.insert("meeting_notes".into(), sd.block(&bp, "meeting_notes", json!({
        "title": rt("Team Sync"),
        "status": "notes_ready",
        "children": { "summary_block_id": did(0xf1), "notes_block_id": did(0xf2), "transcript_block_id": did(0xf3) },
        "calendar_event": { "attendees": [ada], "start_time": "2026-02-24T10:00:00.000Z", "end_time": "2026-02-24T10:45:00.000Z" },
        "recording": { "start_time": "2026-02-24T10:00:00.000Z", "end_time": "2026-02-24T10:45:00.000Z" }
    })));
    blocks.insert(
        "unsupported".into(),
        sd.block(&bp, "unsupported", json!({ "block_type": "form" })),
    );

    // Database with two data sources, inside the showcase page.
    let db = sd.id();
    let mut dbv = sd.s.make_database(
        &db,
        json!({ "type": "page_id", "page_id": bp }),
        rt("Demo Database"),
        &sd.by,
    );
    dbv["created_time"] = json!("2026-01-02T09:00:12.345+00:00");
    dbv["last_edited_time"] = json!("2026-01-03T09:00:12.345+00:00");
    dbv["is_inline"] = json!(true);
    sd.s.insert_database(dbv);
    blocks.insert("child_database".into(), db.clone());

    let ds2 = sd.id();
    let ds1 = sd.id();
    let prio = [
        opt(&did(0x5e1), "High", "red"),
        opt(&did(0x5e2), "Medium", "yellow"),
        opt(&did(0x5e3), "Low", "green"),
    ];
    let tags = [
        opt(&did(0x7a1), "backend", "blue"),
        opt(&did(0x7a2), "frontend", "purple"),
        opt(&did(0x7a3), "docs", "gray"),
    ];
    let st = [
        opt(&did(0x57a), "Not started", "default"),
        opt(&did(0x57b), "In progress", "blue"),
        opt(&did(0x57c), "Done", "green"),
    ];
    let mut schema = Map::new();
    let mut add = |v: Value| {
        schema.insert(v["name"].as_str().unwrap_or_default().to_string(), v);
    };
    add(prop(
        "%3CnJT",
        "Projects",
        "relation",
        json!({ "database_id": db, "data_source_id": ds2, "type": "dual_property", "dual_property": { "synced_property_name": "Tasks", "synced_property_id": "jZZ%3E" } }),
    ));
    add(prop(
        "Kjx%7D",
        "Tags",
        "multi_select",
        json!({ "options": tags }),
    ));
    add(prop("LQGa", "Editor", "last_edited_by", json!({})));
    add(prop("Lbi%5D", "Done", "checkbox", json!({})));
    add(prop(
        "MNV~",
        "Status",
        "status",
        json!({ "options": st, "groups": [
        { "id": did(0x6a1), "name": "To-do", "color": "gray", "option_ids": [st[0]["id"]] },
        { "id": did(0x6a2), "name": "In progress", "color": "blue", "option_ids": [st[1]["id"]] },
        { "id": did(0x6a3), "name": "Complete", "color": "green", "option_ids": [st[2]["id"]] } ] }),
    ));
    add(prop("SPrp", "Due", "date", json!({})));
    add(prop(
        "STe_",
        "Project count",
        "rollup",
        json!({ "rollup_property_name": "Name", "relation_property_name": "Projects", "rollup_property_id": "title", "relation_property_id": "<nJT", "function": "count" }),
    ));
    add(prop("WsEj", "Created", "created_time", json!({})));
    add(prop("X%3E%40X", "Edited", "last_edited_time", json!({})));
    add(prop(
        "%5D~iZ",
        "Score",
        "formula",
        json!({ "expression": "prop(\"Estimate\") * 10" }),
    ));
    add(prop("_x%3E%3D", "Assignees", "people", json!({})));
    add(prop("eR%3D~", "Creator", "created_by", json!({})));
    add(prop("flUp", "Notes", "rich_text", json!({})));
    add(prop("p%7Ci%3F", "Contact", "email", json!({})));
    add(prop("qEdK", "Attachments", "files", json!({})));
    add(prop(
        "swq%5C",
        "Estimate",
        "number",
        json!({ "format": "number_with_commas" }),
    ));
    add(prop("tvis", "Link", "url", json!({})));
    add(prop(
        "zE%7C%3F",
        "Priority",
        "select",
        json!({ "options": prio }),
    ));
    add(prop(
        "%7BGE%7C",
        "ID",
        "unique_id",
        json!({ "prefix": "TSK" }),
    ));
    add(prop("%7CNHO", "Phone", "phone_number", json!({})));
    add(prop(
        "verification",
        "Verification",
        "verification",
        json!({}),
    ));
    add(prop("%7CyVi", "Action", "button", json!({})));
    add(prop("AmdZ", "Location", "place", json!({})));
    add(prop("title", "Name", "title", json!({})));
    let mut ds1v =
        sd.s.make_data_source(&ds1, &db, rt("Tasks"), Value::Object(schema), &sd.by);
    sd.stamp(&mut ds1v);
    let mut schema2 = Map::new();
    schema2.insert(
        "Budget".into(),
        prop("Bd%3Fq", "Budget", "number", json!({ "format": "dollar" })),
    );
    schema2.insert("Phase".into(), prop("Ph%5Ba", "Phase", "select", json!({ "options": [opt(&did(0x9a1), "Plan", "orange"), opt(&did(0x9a2), "Build", "pink")] })));
    schema2.insert("Tasks".into(), prop("jZZ%3E", "Tasks", "relation", json!({ "database_id": db, "data_source_id": ds1, "type": "dual_property", "dual_property": { "synced_property_name": "Projects", "synced_property_id": "%3CnJT" } })));
    schema2.insert("Name".into(), prop("title", "Name", "title", json!({})));
    let mut ds2v =
        sd.s.make_data_source(&ds2, &db, rt("Projects"), Value::Object(schema2), &sd.by);
    sd.stamp(&mut ds2v);
    sd.s.insert_data_source(ds1v);
    sd.s.insert_data_source(ds2v);

    // Projects rows (relation targets).
    let mut rows_2 = Vec::new();
    for i in 1..=30u32 {
        let id = sd.id();
        let mut p = sd.s.make_page(
            &id,
            json!({ "type": "data_source_id", "data_source_id": ds2, "database_id": db }),
            Value::Null,
            &sd.by,
        );
        sd.stamp(&mut p);
        let title = format!("Project {i}");
        p["properties"] = json!({
            "Budget": val("Bd%3Fq", "number", json!(i * 1000)),
            "Phase": val("Ph%5Ba", "select", if i % 2 == 0 { json!({ "id": did(0x9a1), "name": "Plan", "color": "orange" }) } else { json!({ "id": did(0x9a2), "name": "Build", "color": "pink" }) }),
            "Tasks": { "id": "jZZ%3E", "type": "relation", "relation": [], "has_more": false },
            "Name": val("title", "title", rt(&title)),
        });
        p["url"] = json!(page_url(&title, &id));
        sd.s.insert_page(p, Position::End).unwrap_or_default();
        rows_2.push(id);
    }

    // Tasks rows with every property type.
    let mut rows = Vec::new();
    let names = [
        "Write the spec",
        "Build the emulator",
        "Review the client",
        "Fix the flaky test",
        "Ship version one",
        "Plan the sprint",
        "Update the docs",
        "Refactor storage",
        "Add rate limits",
        "Benchmark queries",
        "Triage issues",
        "Celebrate",
    ];
    for (i, name) in names.iter().enumerate() {
        let i = i as u32 + 1;
        let id = sd.id();
        let mut p = sd.s.make_page(
            &id,
            json!({ "type": "data_source_id", "data_source_id": ds1, "database_id": db }),
            Value::Null,
            &sd.by,
        );
        sd.stamp(&mut p);
        let created = p["created_time"].clone();
        let many = i == 1;
        let rel: Vec<Value> = if many {
            rows_2.iter().map(|r| json!({ "id": r })).collect()
        } else if i.is_multiple_of(3) {
            vec![json!({ "id": rows_2[i as usize % 30] })]
        } else {
            vec![]
        };
        let notes = if many {
            Value::Array((1..=30).map(|k| rt_text(&format!("run {k} "))).collect())
        } else if i.is_multiple_of(2) {
            rt(&format!("Notes for task {i}"))
        } else {
            json!([])
        };
        let estimate = if i.is_multiple_of(4) {
            Value::Null
        } else {
            json!(i as f64 * 1.5)
        };
        let est_num = estimate.as_f64();
        let people = match i % 3 {
            0 => json!([ada_full.clone()]),
            1 => json!([grace_full.clone()]),
            _ => json!([ada_full.clone(), grace_full.clone()]),
        };
        p["properties"] = json!({
            "Projects": { "id": "%3CnJT", "type": "relation", "relation": rel, "has_more": false },
            "Tags": val("Kjx%7D", "multi_select", match i % 3 { 0 => json!([optv(&tags[0])]), 1 => json!([optv(&tags[1]), optv(&tags[2])]), _ => json!([]) }),
            "Editor": val("LQGa", "last_edited_by", ada_full.clone()),
            "Done": val("Lbi%5D", "checkbox", json!(i.is_multiple_of(3))),
            "Status": val("MNV~", "status", { let o = &st[(i % 3) as usize]; json!({ "id": o["id"], "name": o["name"], "color": o["color"] }) }),
            "Due": val("SPrp", "date", if i == 12 { Value::Null } else { json!({ "start": format!("2026-03-{:02}", i), "end": null, "time_zone": null }) }),
            "Project count": val("STe_", "rollup", json!({ "type": "number", "number": if many { 30 } else { i.is_multiple_of(3) as u32 }, "function": "count" })),
            "Created": val("WsEj", "created_time", created.clone()),
            "Edited": val("X%3E%40X", "last_edited_time", created.clone()),
            "Score": val("%5D~iZ", "formula", json!({ "type": "number", "number": est_num.map(|e| e * 10.0) })),
            "Assignees": val("_x%3E%3D", "people", people),
            "Creator": val("eR%3D~", "created_by", ada_full.clone()),
            "Notes": val("flUp", "rich_text", notes),
            "Contact": val("p%7Ci%3F", "email", if i % 2 == 1 { json!(format!("task{i}@example.com")) } else { Value::Null }),
            "Attachments": val("qEdK", "files", if i == 2 { json!([{ "name": "spec.pdf", "type": "external", "external": { "url": "https://example.com/spec.pdf" } }]) } else { json!([]) }),
            "Estimate": val("swq%5C", "number", estimate),
            "Link": val("tvis", "url", if i.is_multiple_of(2) { json!(format!("https://example.com/tasks/{i}")) } else { Value::Null }),
            "Priority": val("zE%7C%3F", "select", if i % 4 == 3 { Value::Null } else { let o = &prio[(i % 3) as usize]; json!({ "id": o["id"], "name": o["name"], "color": o["color"] }) }),
            "ID": val("%7BGE%7C", "unique_id", json!({ "prefix": "TSK", "number": i })),
            "Phone": val("%7CNHO", "phone_number", if i.is_multiple_of(5) { json!("+1-555-0100") } else { Value::Null }),
            "Verification": val("verification", "verification", if i == 1 { json!({ "state": "verified", "verified_by": ada_full.clone(), "date": { "start": "2026-01-01T00:00:00.000Z", "end": null, "time_zone": null } }) } else { json!({ "state": "unverified", "verified_by": null, "date": null }) }),
            "Action": val("%7CyVi", "button", json!({})),
            "Location": val("AmdZ", "place", if i == 1 { json!({ "lat": 48.8584, "lon": 2.2945, "name": "Eiffel Tower", "address": "Paris", "aws_place_id": null, "google_place_id": null }) } else { Value::Null }),
            "Name": val("title", "title", rt(name)),
        });
        p["url"] = json!(page_url(name, &id));
        sd.s.insert_page(p, Position::End).unwrap_or_default();
        rows.push(id);
    }
    sd.s.unique_counters.insert(ds1.clone(), names.len() as u64);
    // Back-relations on the projects.
    for r in &rows {
        let rels = sd.s.pages[r]["properties"]["Projects"]["relation"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for target in rels {
            let t = target["id"].as_str().unwrap_or_default().to_string();
            if let Some(list) =
                sd.s.pages
                    .get_mut(&t)
                    .and_then(|p| p["properties"]["Tasks"]["relation"].as_array_mut())
            {
                list.push(json!({ "id": r }));
            }
        }
    }
    let templates = vec![did(0x7e1), did(0x7e2)];
    sd.s.templates.insert(
        ds1.clone(),
        vec![
            json!({ "id": templates[0], "name": "Bug report", "is_default": true }),
            json!({ "id": templates[1], "name": "Feature", "is_default": false }),
        ],
    );

    // A single-source database under the root page.
    let sdb = sd.id();
    let mut sdbv = sd.s.make_database(
        &sdb,
        json!({ "type": "page_id", "page_id": root }),
        rt("Reading List"),
        &sd.by,
    );
    sdbv["created_time"] = json!("2026-01-04T09:00:00.000+00:00");
    sdbv["last_edited_time"] = json!("2026-01-04T09:30:00.000+00:00");
    sd.s.insert_database(sdbv);
    let sds = sd.id();
    let mut sschema = Map::new();
    sschema.insert(
        "Author".into(),
        prop("Au%3Dx", "Author", "rich_text", json!({})),
    );
    sschema.insert("Read".into(), prop("Rd%40d", "Read", "checkbox", json!({})));
    sschema.insert("Title".into(), prop("title", "Title", "title", json!({})));
    let mut sdsv = sd.s.make_data_source(
        &sds,
        &sdb,
        rt("Reading List"),
        Value::Object(sschema),
        &sd.by,
    );
    sd.stamp(&mut sdsv);
    sd.s.insert_data_source(sdsv);
    for (t, a, r) in [
        ("Dune", "Frank Herbert", true),
        ("Neuromancer", "William Gibson", false),
        ("Snow Crash", "Neal Stephenson", true),
    ] {
        let id = sd.id();
        let mut p = sd.s.make_page(
            &id,
            json!({ "type": "data_source_id", "data_source_id": sds, "database_id": sdb }),
            Value::Null,
            &sd.by,
        );
        sd.stamp(&mut p);
        p["properties"] = json!({
            "Author": val("Au%3Dx", "rich_text", rt(a)),
            "Read": val("Rd%40d", "checkbox", json!(r)),
            "Title": val("title", "title", rt(t)),
        });
        p["url"] = json!(page_url(t, &id));
        sd.s.insert_page(p, Position::End).unwrap_or_default();
    }

    // Two views of the books database.
    let views = vec![
        crate::handlers::views::insert_view(
            &mut sd.s,
            &sdb,
            &sds,
            "All books",
            "table",
            &json!({}),
            bot,
        ),
        crate::handlers::views::insert_view(
            &mut sd.s,
            &sdb,
            &sds,
            "To read",
            "list",
            &json!({
                "filter": { "property": "Read", "checkbox": { "equals": false } },
                "sorts": [{ "property": "Title", "direction": "ascending" }],
            }),
            bot,
        ),
    ]
    .into_iter()
    .map(|v| v["id"].as_str().unwrap_or_default().to_string())
    .collect();

    // A page with an uploaded file (attached, so it never expires).
    let file_upload = sd.id();
    let t = sd.time();
    sd.s.file_uploads.insert(
        file_upload.clone(),
        crate::handlers::uploads::Upload {
            object: json!({
                "object": "file_upload", "id": file_upload, "created_time": t,
                "created_by": { "id": bot, "type": "bot" }, "last_edited_time": t,
                "expiry_time": null, "archived": false, "in_trash": false,
                "status": "uploaded", "filename": "report.pdf",
                "content_type": "application/pdf", "content_length": 13264,
            }),
            mode: "single_part".into(),
            expires: tokio::time::Instant::now(),
            parts: [(1, 13264)].into_iter().collect(),
            attached: true,
            seq: 0,
        },
    );
    let file_page = sd.page(
        json!({ "type": "page_id", "page_id": root }),
        "Quarterly Report",
    );
    sd.block(
        &file_page,
        "file",
        json!({
            "caption": rt("The report as a PDF."),
            "type": "file",
            "file": crate::util::hosted_file(&file_upload, "report.pdf"),
            "name": "report.pdf",
        }),
    );
    for (n, name) in ["bufo", "shipit"].into_iter().enumerate() {
        sd.s.custom_emojis.push(json!({
            "id": did(0xe30 + n as u32),
            "name": name,
            "url": format!("https://files.notion.com/custom_emoji/{name}.png"),
        }));
    }

    // Comments on the root page.
    let discussion = did(0xd15);
    for (k, (text, who)) in [
        ("First comment on the root page", ada.clone()),
        ("A reply", grace.clone()),
    ]
    .into_iter()
    .enumerate()
    {
        let t = sd.time();
        sd.s.comments.push(json!({
            "object": "comment",
            "id": did(0xc00 + k as u32),
            "parent": { "type": "page_id", "page_id": root },
            "discussion_id": discussion,
            "created_time": t,
            "last_edited_time": t,
            "created_by": partial_user(&who),
            "rich_text": rt(text),
            "display_name": { "type": "user", "resolved_name": if k == 0 { "Ada Lovelace" } else { "Grace Hopper" } },
        }));
    }

    DemoIds {
        root_page: root,
        child_page: child,
        grandchild_page: grandchild,
        blocks_page,
        big_page: big,
        big_page_children: big_n,
        database: db,
        data_source: ds1,
        data_source_2: ds2,
        many_relations_row: rows[0].clone(),
        rows,
        rows_2,
        simple_database: sdb,
        simple_data_source: sds,
        user: ada,
        user_2: grace,
        bot: bot.to_string(),
        blocks,
        discussion,
        templates,
        views,
        file_page,
        file_upload,
    }
}
