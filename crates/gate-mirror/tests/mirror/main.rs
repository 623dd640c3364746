//! The mirror against the emulator: a first sync makes the minimum number of requests (the
//! emulator's own store is the oracle), a second sync of an unchanged workspace costs one
//! search, an edited page is refetched alone, a stopped sync resumes without refetching,
//! reconciliation removes trashed pages, files are readable and the index ranks. No test
//! looks at the wall clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gate_mirror::{MirrorStore, Mirrors, SyncOptions, sync};
use notion_client::{ClientConfig, Connection, LimiterConfig, Notion, RetryPolicy};
use notion_emulator::{Emulator, Seed};
use serde_json::{Value, json};

const CHILDREN: &str = "GET /v1/blocks/{id}/children";
const SEARCH: &str = "POST /v1/search";

async fn demo() -> (Emulator, Connection) {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .expect("emulator starts");
    let notion = Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(LimiterConfig::new(10_000.0, 10_000).expect("limiter"))
            .request_timeout(None)
            .connect_timeout(None)
            .retry(RetryPolicy::default()),
    )
    .expect("client");
    let conn = notion.connection("secret_test_token".to_owned().into());
    (emu, conn)
}

/// Pages the connection can see (not trashed), and objects a search lists.
fn visible(emu: &Emulator) -> (Vec<String>, usize) {
    emu.with_store(|s| {
        let pages: Vec<String> = s
            .pages
            .iter()
            .filter(|(_, p)| p["in_trash"] != json!(true))
            .map(|(id, _)| id.clone())
            .collect();
        let sources = s
            .data_sources
            .values()
            .filter(|d| d["in_trash"] != json!(true))
            .count();
        (pages, sources)
    })
}

fn descendable(emu: &Emulator, id: &str) -> bool {
    let Some(obj) = emu.get_object(id) else {
        return false;
    };
    obj["object"] == "block"
        && !matches!(obj["type"].as_str(), Some("child_page" | "child_database"))
        && !emu.child_ids(id).is_empty()
}

/// The fewest children requests for one page's whole tree.
fn tree_requests(emu: &Emulator, root: &str) -> u64 {
    let mut n = emu.child_ids(root).len().div_ceil(100).max(1) as u64;
    let mut stack = emu.child_ids(root);
    while let Some(id) = stack.pop() {
        if descendable(emu, &id) {
            let kids = emu.child_ids(&id);
            n += kids.len().div_ceil(100) as u64;
            stack.extend(kids);
        }
    }
    n
}

fn set_edited(emu: &Emulator, id: &str, when: &str) {
    emu.with_store(|s| {
        if let Some(p) = s.pages.get_mut(id) {
            p["last_edited_time"] = Value::String(when.to_owned());
        }
    });
}

/// Every page's edit time an hour before now (minute precision), so that a sync that runs
/// now is past Notion's one-minute granularity.
fn settle(emu: &Emulator) {
    let hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let when = hour_ago
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .expect("valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    let (pages, _) = visible(emu);
    for p in pages {
        set_edited(emu, &p, &when);
    }
}

fn now_minute() -> String {
    time::OffsetDateTime::now_utc()
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .expect("valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}

#[tokio::test]
async fn first_sync_is_minimal_and_second_costs_one_search() {
    let (emu, conn) = demo().await;
    settle(&emu);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MirrorStore::open(dir.path().join("c1")).expect("open");
    let (pages, sources) = visible(&emu);
    let minimum_trees: u64 = pages.iter().map(|p| tree_requests(&emu, p)).sum();
    let minimum_search = (pages.len() + sources).div_ceil(100) as u64;
    emu.reset_counters();

    let report = sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    let c = emu.counters();
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.full);
    assert_eq!(report.fetched as usize, pages.len());
    assert_eq!(c.route(SEARCH), minimum_search);
    assert_eq!(c.route(CHILDREN), minimum_trees);
    assert_eq!(c.total, minimum_search + minimum_trees, "{:?}", c.by_route);
    assert_eq!(report.requests, c.total);
    let status = store.status().expect("status");
    assert_eq!(status.pages as usize, pages.len());
    assert_eq!(status.pending, 0);
    assert_eq!(status.data_sources as usize, sources);

    // Nothing changed: one search request, nothing fetched.
    emu.reset_counters();
    let again = sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    assert!(!again.full);
    assert_eq!(again.fetched, 0);
    assert_eq!(emu.counters().total, 1);

    // One page edited: its own tree and the search.
    let ids = emu.demo_ids().clone();
    emu.append_children(
        &ids.child_page,
        vec![json!({"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "zebracorn appears"}}]}})],
    )
    .expect("append");
    set_edited(&emu, &ids.child_page, &now_minute());
    let expected = tree_requests(&emu, &ids.child_page);
    emu.reset_counters();
    let third = sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    assert_eq!(third.fetched, 1, "{third:?}");
    assert_eq!(emu.counters().route(CHILDREN), expected);
    assert_eq!(emu.counters().route(SEARCH), 1);
    let hits = store.search("zebracorn", 5).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        Some(hits[0].id.clone()),
        gate_mirror::dashed_id(&ids.child_page)
    );
    assert!(
        hits[0].snippet.contains("**zebracorn**"),
        "{}",
        hits[0].snippet
    );
}

#[tokio::test]
async fn a_stopped_sync_resumes_without_refetching() {
    let (emu, conn) = demo().await;
    settle(&emu);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MirrorStore::open(dir.path().join("c1")).expect("open");
    let (pages, _) = visible(&emu);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let options = SyncOptions::new()
        .concurrency(1, 2)
        .stop(stop.clone())
        .progress(move |p| {
            if p.fetched >= 3 {
                flag.store(true, Ordering::SeqCst);
            }
        });
    let first = sync(&conn, &store, &options).await.expect("sync");
    assert!(first.stopped);
    assert_eq!(first.fetched, 3);
    let done: Vec<String> = pages
        .iter()
        .filter(|p| store.page(p).expect("read").is_some())
        .cloned()
        .collect();
    assert_eq!(done.len(), 3);

    // A new process (the store reopened) finishes the job without touching the three.
    drop(store);
    let store = MirrorStore::open(dir.path().join("c1")).expect("reopen");
    emu.reset_counters();
    let second = sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    assert!(!second.stopped);
    assert_eq!(second.fetched as usize, pages.len() - 3);
    let log = emu.request_log();
    for d in &done {
        let compact = gate_mirror::compact_id(d).expect("id");
        assert!(
            !log.iter().any(|r| r.route == CHILDREN
                && gate_mirror::compact_id(r.path.split('/').nth(3).unwrap_or_default())
                    .as_deref()
                    == Some(compact.as_str())),
            "{d} was fetched again"
        );
    }
    assert_eq!(store.status().expect("status").pending, 0);
}

#[tokio::test]
async fn reconciliation_removes_trashed_pages_and_files_are_readable() {
    let (emu, conn) = demo().await;
    settle(&emu);
    let dir = tempfile::tempdir().expect("tempdir");
    let mirrors = Mirrors::new(dir.path());
    let store = mirrors.open("conn_1").expect("open");
    sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    let ids = emu.demo_ids().clone();
    let page = store
        .page(&ids.blocks_page)
        .expect("read")
        .expect("mirrored");
    let text = std::fs::read_to_string(&page.file).expect("file");
    assert!(text.starts_with("---\nid: "), "{text}");
    assert!(text.contains("\nlast_edited_time: "), "{text}");
    assert!(
        text.contains(&format!("\n# {}\n", page.page.title())),
        "{text}"
    );
    assert_eq!(mirrors.connections(), vec!["conn_1".to_owned()]);

    emu.with_store(|s| {
        if let Some(p) = s.pages.get_mut(&ids.grandchild_page) {
            p["in_trash"] = json!(true);
        }
    });
    let report = sync(&conn, &store, &SyncOptions::new().reconcile(true))
        .await
        .expect("sync");
    assert!(report.full);
    assert_eq!(report.removed, 1);
    assert!(store.page(&ids.grandchild_page).expect("read").is_none());
    assert!(
        store
            .ancestors(&ids.grandchild_page, 8)
            .expect("read")
            .is_none()
    );
    let child = store
        .ancestors(&ids.child_page, 8)
        .expect("read")
        .expect("known");
    assert_eq!(
        child,
        vec![gate_mirror::dashed_id(&ids.root_page).expect("id")]
    );
}

#[tokio::test]
async fn a_refresh_fetches_named_pages_and_drops_trashed_ones() {
    let (emu, conn) = demo().await;
    settle(&emu);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MirrorStore::open(dir.path().join("c")).expect("open");
    sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    let ids = emu.demo_ids().clone();
    emu.append_children(
        &ids.root_page,
        vec![json!({"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": "quokkafied"}}]}})],
    )
    .expect("append");
    emu.with_store(|s| {
        if let Some(p) = s.pages.get_mut(&ids.grandchild_page) {
            p["in_trash"] = json!(true);
        }
    });
    gate_mirror::refresh_pages(
        &conn,
        &store,
        &[ids.root_page.clone(), ids.grandchild_page.clone()],
        &SyncOptions::new(),
    )
    .await
    .expect("refresh");
    assert_eq!(store.search("quokkafied", 3).expect("search").len(), 1);
    assert!(store.page(&ids.grandchild_page).expect("read").is_none());
}

fn paragraph(text: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
}

#[tokio::test]
async fn search_ranks_titles_over_bodies_with_snippets_and_pages_by_offset() {
    let (emu, conn) = demo().await;
    let root = emu.demo_ids().root_page.clone();
    // Many pages with the word in their content only (repeated), one with it in its title.
    let mut body_only = Vec::new();
    for i in 0..30 {
        let id = emu
            .create_page(&root, &format!("Plain page {i}"))
            .expect("page");
        emu.append_children(
            &id,
            vec![paragraph(&format!(
                "okapiary okapiary okapiary notes number {i}"
            ))],
        )
        .expect("children");
        body_only.push(gate_mirror::dashed_id(&id).expect("id"));
    }
    let titled = emu.create_page(&root, "Okapiary handbook").expect("page");
    emu.append_children(&titled, vec![paragraph("nothing about the word here")])
        .expect("children");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MirrorStore::open(dir.path().join("c1")).expect("open");
    let report = sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    assert_eq!(report.errors, 0, "{report:?}");

    let hits = store.search("okapiary", 10).expect("search");
    assert_eq!(hits.len(), 10);
    assert_eq!(
        Some(hits[0].id.clone()),
        gate_mirror::dashed_id(&titled),
        "the title match ranks first: {hits:?}"
    );
    assert!(
        hits[0].snippet.contains("**Okapiary**"),
        "{}",
        hits[0].snippet
    );
    for h in &hits[1..] {
        assert!(body_only.contains(&h.id), "{h:?}");
        assert!(h.snippet.contains("**okapiary**"), "{}", h.snippet);
    }
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    // A prefix of the last word matches too.
    assert_eq!(store.search("okapi", 10).expect("search").len(), 10);

    // Batches by offset cover the ranking once, without snippets until asked.
    // (The root page's text names its child pages, so it matches too.)
    let every = store.search("okapiary", 100).expect("search").len();
    assert!(every > 31, "{every}");
    let mut batched = Vec::new();
    loop {
        let batch = store
            .search_ranked("okapiary", batched.len(), 7)
            .expect("batch");
        assert!(batch.iter().all(|h| h.snippet.is_empty()));
        if batch.is_empty() {
            break;
        }
        batched.extend(batch);
    }
    assert_eq!(batched.len(), every);
    let mut ids: Vec<&str> = batched.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids[0], hits[0].id);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), every, "every hit once");
    store
        .snippets("okapiary", &mut batched[..3])
        .expect("snippets");
    assert!(batched[..3].iter().all(|h| h.snippet.contains("**")));
}

#[tokio::test]
async fn stored_children_answer_block_reads() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = MirrorStore::open(dir.path().join("c1")).expect("open");
    sync(&conn, &store, &SyncOptions::new())
        .await
        .expect("sync");
    let big = store
        .block_children(&ids.big_page)
        .expect("read")
        .expect("the big page's children are stored");
    let expected: Vec<String> = emu.child_ids(&ids.big_page);
    let got: Vec<String> = big
        .children
        .iter()
        .map(|b| b.id.as_str().replace('-', ""))
        .collect();
    let expected: Vec<String> = expected.iter().map(|i| i.replace('-', "")).collect();
    assert_eq!(got, expected);
    // A leaf block lists no children; an unknown block is not answered.
    let leaf = big.children.iter().find(|b| !b.has_children).expect("leaf");
    let none = store
        .block_children(leaf.id.as_str())
        .expect("read")
        .expect("a leaf is known");
    assert!(none.children.is_empty());
    assert!(
        store
            .block_children("0123456789abcdef0123456789abcdef")
            .expect("read")
            .is_none()
    );
    // A block's parent (for root checks) is the page holding it.
    assert_eq!(
        store.parents(leaf.id.as_str()).expect("parents"),
        Some(vec![gate_mirror::dashed_id(&ids.big_page).expect("id")])
    );
    // Reopening an existing mirror keeps the index.
    drop(store);
    let store = MirrorStore::open(dir.path().join("c1")).expect("reopen");
    assert!(store.block_children(&ids.big_page).expect("read").is_some());
}
