//! Every endpoint of the client against the emulator's demo workspace.

use futures::TryStreamExt;
use notion_client::endpoints::{
    AppendChildren, CreateComment, CreateDataSource, CreateDatabase, CreatePage, MarkdownCommand,
    Position, QueryDataSource, Search, SearchFilter, UpdateDataSource, UpdateDatabase, UpdatePage,
};
use notion_client::ids::{BlockId, DataSourceId, DatabaseId, PageId, PropertyId, UserId};
use notion_client::models::{Icon, Maybe, NewBlock, PropertyItemResponse, RichText, SearchResult};
use notion_client::{ErrorCode, NotionVersion, Paging, ParentRef};
use serde_json::{Map, json};

use crate::support::demo;

fn pid(s: &str) -> PageId {
    PageId::parse(s).expect("emulator ids are valid")
}

fn bid(s: &str) -> BlockId {
    BlockId::parse(s).expect("emulator ids are valid")
}

#[tokio::test]
async fn users_me_list_and_retrieve() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let me = conn.users().me().await.unwrap();
    assert_eq!(me.id.canonical(), ids.bot);
    let all: Vec<_> = conn.users().list_stream(None).try_collect().await.unwrap();
    assert!(all.iter().any(|u| u.id.canonical() == ids.user));
    assert!(all.iter().any(|u| u.id.canonical() == ids.bot));
    let one = conn
        .users()
        .retrieve(&UserId::parse(&ids.user).unwrap())
        .await
        .unwrap();
    assert_eq!(one.id.canonical(), ids.user);
}

#[tokio::test]
async fn search_filters_and_paginates() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let search = Search::new().query("Projects Overview");
    let first = conn.search(&search, &Paging::first()).await.unwrap();
    assert!(
        first
            .results
            .iter()
            .any(|r| matches!(r, SearchResult::Page(p) if p.id.canonical() == ids.child_page))
    );

    let sources = Search::new().filter(SearchFilter::DataSource);
    let found: Vec<_> = conn
        .search_stream(&sources, None)
        .try_collect()
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|r| matches!(r, SearchResult::DataSource(_)))
    );

    // Small pages: every result exactly once, in several requests.
    let pages = Search::new().filter(SearchFilter::Page);
    let all: Vec<_> = conn
        .search_stream(&pages, None)
        .try_collect()
        .await
        .unwrap();
    let before = emu.counters().route("POST /v1/search");
    let mut cursor_walk = Vec::new();
    let mut paging = Paging::first().size(3);
    loop {
        let page = conn.search(&pages, &paging).await.unwrap();
        cursor_walk.extend(page.results);
        match page.next_cursor {
            Some(c) if page.has_more => paging = Paging::after(c).size(3),
            _ => break,
        }
    }
    assert_eq!(cursor_walk.len(), all.len());
    let requests = emu.counters().route("POST /v1/search") - before;
    assert_eq!(requests as usize, all.len().div_ceil(3));
    // A cap stops early and asks for no more rows than needed.
    let capped: Vec<_> = conn
        .search_stream(&pages, Some(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(capped.len(), 2);
}

#[tokio::test]
async fn pages_retrieve_create_update_move() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let root = conn.pages().retrieve(&pid(&ids.root_page)).await.unwrap();
    assert_eq!(root.id.canonical(), ids.root_page);
    assert!(!root.title().is_empty());

    let create = CreatePage::new(ParentRef::Page(pid(&ids.root_page)))
        .title("title", "Made by the client")
        .icon(Icon::emoji("🧪"))
        .children([
            NewBlock::paragraph(vec![RichText::plain("first")]),
            NewBlock::to_do(vec![RichText::plain("second")], true),
        ]);
    let page = conn.pages().create(&create).await.unwrap();
    assert_eq!(page.title(), "Made by the client");
    let kids = conn
        .blocks()
        .children(&bid(page.id.as_str()), &Paging::first())
        .await
        .unwrap();
    assert_eq!(kids.results.len(), 2);
    assert_eq!(kids.results[0].kind_name(), "paragraph");
    assert_eq!(kids.results[1].kind_name(), "to_do");

    let updated = conn
        .pages()
        .update(
            &page.id,
            &UpdatePage::new()
                .property(
                    "title",
                    json!({"title": [{"text": {"content": "Renamed"}}]}),
                )
                .icon(None),
        )
        .await
        .unwrap();
    assert_eq!(updated.title(), "Renamed");
    assert!(
        matches!(updated.icon, Maybe::Null),
        "icon cleared: {:?}",
        updated.icon
    );

    let moved = conn
        .pages()
        .move_to(&page.id, &ParentRef::Page(pid(&ids.child_page)))
        .await
        .unwrap();
    assert_eq!(
        moved
            .parent
            .as_ref()
            .and_then(|p| p.page_id())
            .map(|p| p.canonical()),
        Some(ids.child_page.clone())
    );

    let trashed = conn
        .pages()
        .update(&page.id, &UpdatePage::new().in_trash(true))
        .await
        .unwrap();
    assert!(trashed.is_in_trash());
    // 2026-03-11 (the default) has no `archived`.
    assert!(trashed.archived.is_none());

    let filtered = conn
        .pages()
        .retrieve_filtered(&pid(&ids.rows[0]), &[PropertyId::from("title")])
        .await
        .unwrap();
    let props = filtered.properties.unwrap_or_default();
    assert_eq!(props.len(), 1, "only the title: {:?}", props.keys());
}

#[tokio::test]
async fn create_row_in_a_data_source_and_query_it() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let ds = DataSourceId::parse(&ids.data_source).unwrap();
    let row = conn
        .pages()
        .create(
            &CreatePage::new(ParentRef::DataSource(ds.clone()))
                .title("Name", "Client row")
                .property("Estimate", json!({"number": 42}))
                .property("Done", json!({"checkbox": true})),
        )
        .await
        .unwrap();
    assert_eq!(row.title(), "Client row");

    let query = QueryDataSource::new()
        .filter(json!({"and": [
            {"property": "Estimate", "number": {"greater_than_or_equal_to": 42}},
            {"or": [
                {"property": "Done", "checkbox": {"equals": true}},
                {"property": "Name", "title": {"contains": "nothing matches this"}}
            ]}
        ]}))
        .sort_by_property("Estimate", false);
    let rows: Vec<_> = conn
        .data_sources()
        .query_stream(&ds, &query, None)
        .try_collect()
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| matches!(r, SearchResult::Page(p) if p.id == row.id))
    );
    for r in &rows {
        let SearchResult::Page(p) = r else {
            panic!("a query returns pages")
        };
        let v = serde_json::to_value(p.property("Estimate").unwrap()).unwrap();
        assert!(v["number"].as_f64().unwrap() >= 42.0, "{v}");
    }

    // Every row of the source, across several small pages.
    let all: Vec<_> = conn
        .data_sources()
        .query_stream(&ds, &QueryDataSource::new(), None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), ids.rows.len() + 1);
    let mut walked = 0;
    let mut paging = Paging::first().size(2);
    loop {
        let page = conn
            .data_sources()
            .query(&ds, &QueryDataSource::new(), &paging)
            .await
            .unwrap();
        walked += page.results.len();
        match page.next_cursor {
            Some(c) if page.has_more => paging = Paging::after(c).size(2),
            _ => break,
        }
    }
    assert_eq!(walked, all.len());
}

#[tokio::test]
async fn property_items_paginate_past_the_25_item_truncation() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let row = pid(&ids.many_relations_row);
    let page = conn.pages().retrieve(&row).await.unwrap();
    let rel = serde_json::to_value(page.property("Projects").unwrap()).unwrap();
    assert_eq!(rel["relation"].as_array().unwrap().len(), 25);
    assert_eq!(rel["has_more"], true);

    let prop = PropertyId::from(rel["id"].as_str().unwrap());
    let mut items = 0;
    let mut paging = Paging::first().size(10);
    loop {
        let PropertyItemResponse::List(list) = conn
            .pages()
            .property_item(&row, &prop, &paging)
            .await
            .unwrap()
        else {
            panic!("a relation answers a list of property items")
        };
        items += list.results.len();
        match list.next_cursor {
            Some(c) if list.has_more => paging = Paging::after(c).size(10),
            _ => break,
        }
    }
    assert_eq!(items, 30);
}

#[tokio::test]
async fn blocks_children_paginate_and_append_with_positions() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let big = bid(&ids.big_page);
    let before = emu.counters().route("GET /v1/blocks/{id}/children");
    let all: Vec<_> = conn
        .blocks()
        .children_stream(&big, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), ids.big_page_children);
    let requests = emu.counters().route("GET /v1/blocks/{id}/children") - before;
    assert_eq!(requests as usize, ids.big_page_children.div_ceil(100));
    // Order is kept.
    for (i, block) in all.iter().enumerate() {
        assert_eq!(block.plain_text(), Some(format!("Paragraph {}", i + 1)));
    }

    let capped: Vec<_> = conn
        .blocks()
        .children_stream(&big, Some(150))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(capped.len(), 150);

    let target = bid(&ids.child_page);
    let first = conn
        .blocks()
        .append(
            &target,
            &AppendChildren::new(&[NewBlock::paragraph(vec![RichText::plain("at the start")])])
                .position(Position::Start),
        )
        .await
        .unwrap();
    // As recorded from Notion (RM/append_block_children_start.json), an append that is not
    // at the end answers the new blocks followed by every sibling after them.
    let existing = emu.child_ids(target.as_str()).len() - 1;
    assert_eq!(first.results.len(), 1 + existing);
    assert_eq!(
        first.results[0].plain_text().as_deref(),
        Some("at the start")
    );
    let anchor = first.results[0].id.clone();
    conn.blocks()
        .append(
            &target,
            &AppendChildren::new(&[NewBlock::paragraph(vec![RichText::plain("after it")])])
                .position(Position::AfterBlock(anchor)),
        )
        .await
        .unwrap();
    let kids = conn
        .blocks()
        .children(&target, &Paging::first())
        .await
        .unwrap();
    let texts: Vec<_> = kids.results.iter().filter_map(|b| b.plain_text()).collect();
    assert_eq!(texts[0], "at the start");
    assert_eq!(texts[1], "after it");

    // The same append on 2025-09-03 sends `after`, which that version accepts.
    let legacy = conn.with_version(NotionVersion::parse("2025-09-03").unwrap());
    let anchor2 = kids.results[1].id.clone();
    legacy
        .blocks()
        .append(
            &target,
            &AppendChildren::new(&[NewBlock::divider()]).position(Position::AfterBlock(anchor2)),
        )
        .await
        .unwrap();
    let kids = conn
        .blocks()
        .children(&target, &Paging::first())
        .await
        .unwrap();
    assert_eq!(kids.results[2].kind_name(), "divider");
}

#[tokio::test]
async fn blocks_retrieve_update_delete() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let id = bid(&ids.blocks["to_do"]);
    let block = conn.blocks().retrieve(&id).await.unwrap();
    assert_eq!(block.kind_name(), "to_do");
    let updated = conn
        .blocks()
        .update(&id, &json!({"to_do": {"checked": true}}))
        .await
        .unwrap();
    let v = serde_json::to_value(&updated).unwrap();
    assert_eq!(v["to_do"]["checked"], true);
    let deleted = conn.blocks().delete(&id).await.unwrap();
    assert!(deleted.is_in_trash());
    let err = conn
        .blocks()
        .update(&id, &json!("not an object"))
        .await
        .unwrap_err();
    assert!(matches!(err, notion_client::Error::InvalidRequest(_)));
}

#[tokio::test]
async fn databases_and_data_sources() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let db = conn
        .databases()
        .retrieve(&DatabaseId::parse(&ids.database).unwrap())
        .await
        .unwrap();
    let sources = db.data_sources.clone().unwrap();
    assert_eq!(sources.len(), 2);
    assert!(
        db.properties.is_none(),
        "containers carry no schema since 2025-09-03"
    );

    let ds = conn.data_sources().retrieve(&sources[0].id).await.unwrap();
    let schema = ds.properties.unwrap();
    assert!(schema.len() >= 20, "every property type: {}", schema.len());

    let mut props = Map::new();
    props.insert("Name".into(), json!({"title": {}}));
    props.insert("Size".into(), json!({"number": {"format": "number"}}));
    let created = conn
        .databases()
        .create(
            &CreateDatabase::new(ParentRef::Page(pid(&ids.root_page)), props).title("Inventory"),
        )
        .await
        .unwrap();
    assert_eq!(created.title(), "Inventory");
    let new_ds = created.data_sources.clone().unwrap()[0].id.clone();

    let renamed = conn
        .databases()
        .update(
            &created.id,
            &UpdateDatabase::new().field("title", json!([{"text": {"content": "Stock"}}])),
        )
        .await
        .unwrap();
    assert_eq!(renamed.title(), "Stock");

    let changed = conn
        .data_sources()
        .update(
            &new_ds,
            &UpdateDataSource::new()
                .property("Size", serde_json::Value::Null)
                .property("Colour", json!({"rich_text": {}})),
        )
        .await
        .unwrap();
    let names: Vec<_> = changed.properties.unwrap().keys().cloned().collect();
    assert!(names.contains(&"Colour".to_owned()) && !names.contains(&"Size".to_owned()));

    let mut props2 = Map::new();
    props2.insert("Title".into(), json!({"title": {}}));
    let second = conn
        .data_sources()
        .create(&CreateDataSource::new(&created.id, props2))
        .await
        .unwrap();
    let db_again = conn.databases().retrieve(&created.id).await.unwrap();
    assert!(
        db_again
            .data_sources
            .unwrap()
            .iter()
            .any(|s| s.id == second.id)
    );

    let templates = conn
        .data_sources()
        .templates(&sources[0].id, None, &Paging::first())
        .await
        .unwrap();
    assert_eq!(templates.templates.len(), ids.templates.len());
}

#[tokio::test]
async fn legacy_database_query_only_on_2022() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let db = DatabaseId::parse(&ids.simple_database).unwrap();
    let err = conn
        .databases()
        .query_legacy(&db, &QueryDataSource::new(), &Paging::first())
        .await
        .unwrap_err();
    assert!(matches!(err, notion_client::Error::InvalidRequest(_)));
    let old = conn.with_version(NotionVersion::parse("2022-06-28").unwrap());
    let rows = old
        .databases()
        .query_legacy(&db, &QueryDataSource::new(), &Paging::first())
        .await
        .unwrap();
    assert!(!rows.results.is_empty());
    assert_eq!(rows.list_type.as_deref(), Some("page_or_database"));
}

#[tokio::test]
async fn comments_list_and_create() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let page = bid(&ids.root_page);
    let before: Vec<_> = conn
        .comments()
        .list_stream(&page, None)
        .try_collect()
        .await
        .unwrap();
    let created = conn
        .comments()
        .create(&CreateComment::on(ParentRef::Page(pid(&ids.root_page)), "Looks good").unwrap())
        .await
        .unwrap();
    assert_eq!(created.plain_text(), "Looks good");
    let after: Vec<_> = conn
        .comments()
        .list_stream(&page, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 1);
}

#[tokio::test]
async fn markdown_endpoints_reach_their_routes_and_errors_are_typed() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let page = pid(&ids.root_page);
    // The emulator gains its Markdown converter with the content work; until then it answers
    // Notion's "unsupported request" error, which must arrive typed with its request id.
    match conn.pages().markdown(&page, false).await {
        Ok(md) => assert_eq!(md.id.canonical(), ids.root_page),
        Err(e) => {
            let api = e.api().expect("a Notion error envelope");
            assert_eq!(api.status, 400);
            assert!(api.request_id.is_some());
        }
    }
    let cmd = MarkdownCommand::InsertContent {
        content: "more".into(),
        after: None,
    };
    let _ = conn.pages().update_markdown(&page, &cmd).await;
    let c = emu.counters();
    assert_eq!(c.route("GET /v1/pages/{id}/markdown"), 1);
    assert_eq!(c.route("PATCH /v1/pages/{id}/markdown"), 1);
}

#[tokio::test]
async fn not_found_and_validation_errors_keep_notion_details() {
    let (emu, conn) = demo().await;
    let missing = pid("0000000000000000000000000000beef");
    let err = conn.pages().retrieve(&missing).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 404);
    assert_eq!(api.code, ErrorCode::ObjectNotFound);
    assert!(api.request_id.is_some());
    assert_eq!(api.attempts, 1, "a 404 is never retried");

    let too_long = "x".repeat(2001);
    let root = pid(&emu.demo_ids().root_page);
    let err = conn
        .pages()
        .create(&CreatePage::new(ParentRef::Page(root)).title("title", &too_long))
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.code, ErrorCode::ValidationError);
    assert!(api.message.contains("2000"), "{}", api.message);
}
