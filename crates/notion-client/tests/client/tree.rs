//! The tree fetch against the emulator: the minimal number of requests (checked against the
//! emulator's own store), order, caps, 429s and failures mid-way, the concurrency bound, and
//! the Markdown-endpoint alternative. Timing only on a paused tokio clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notion_client::LimiterConfig;
use notion_client::ids::{BlockId, PageId};
use notion_client::tree::{MarkdownOptions, TreeOptions, Truncation, fetch_markdown, fetch_tree};
use notion_emulator::{Emulator, RateLimit, ScriptedFault, Seed};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::support::{client, demo, demo_with, fast};

const CHILDREN_ROUTE: &str = "GET /v1/blocks/{id}/children";

fn bid(s: &str) -> BlockId {
    BlockId::parse(s).expect("emulator ids are valid")
}

/// What the emulator's store says a complete fetch must do: the fewest list requests (one
/// per 100 children of the root and of every descendable block with children) and every
/// block id with its depth, in document order.
struct Oracle {
    requests: u64,
    order: Vec<(usize, String)>,
    /// Descendable blocks that have children, in document order.
    with_children: Vec<String>,
}

fn pages_for(n: usize) -> u64 {
    n.div_ceil(100).max(1) as u64
}

fn descendable(emu: &Emulator, id: &str) -> bool {
    let Some(obj) = emu.get_object(id) else {
        return false;
    };
    obj["object"] == "block"
        && !matches!(obj["type"].as_str(), Some("child_page" | "child_database"))
        && !emu.child_ids(id).is_empty()
}

fn oracle(emu: &Emulator, root: &str, max_depth: Option<usize>) -> Oracle {
    fn walk(emu: &Emulator, id: &str, depth: usize, max: Option<usize>, o: &mut Oracle) {
        for child in emu.child_ids(id) {
            o.order.push((depth, child.clone()));
            if descendable(emu, &child) {
                o.with_children.push(child.clone());
                if max.is_none_or(|m| depth < m) {
                    o.requests += pages_for(emu.child_ids(&child).len());
                    walk(emu, &child, depth + 1, max, o);
                }
            }
        }
    }
    let mut o = Oracle {
        requests: pages_for(emu.child_ids(root).len()),
        order: Vec::new(),
        with_children: Vec::new(),
    };
    walk(emu, root, 1, max_depth, &mut o);
    o
}

fn tree_order(tree: &notion_client::tree::PageTree) -> Vec<(usize, String)> {
    tree.iter()
        .map(|(d, b)| (d, b.id.canonical()))
        .collect::<Vec<_>>()
}

fn text(kind: &str, content: &str) -> Value {
    json!({"type": kind, kind: {"rich_text": [{"type": "text", "text": {"content": content}}]}})
}

/// A 4-level page of exactly 1,000 blocks under the demo root: 150 top-level blocks (two
/// cursor pages) of which 30 toggles hold 10 children each; 60 of those hold 5 each; 50 of
/// those hold 5 each. Minimal requests: 2 + 30 + 60 + 50 = 142.
fn four_level_page(emu: &Emulator) -> String {
    let page = emu
        .create_page(&emu.demo_ids().root_page, "Four levels")
        .unwrap();
    let level1: Vec<Value> = (0..150)
        .map(|i| {
            let kind = if i % 5 == 0 { "toggle" } else { "paragraph" };
            text(kind, &format!("L1 {i}"))
        })
        .collect();
    let l1 = emu.append_children(&page, level1).unwrap();
    let mut l2_toggles = Vec::new();
    for (i, id) in l1.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let kids: Vec<Value> = (0..10)
            .map(|j| {
                let kind = if j < 2 { "toggle" } else { "paragraph" };
                text(kind, &format!("L2 {i}.{j}"))
            })
            .collect();
        let ids = emu.append_children(id, kids).unwrap();
        l2_toggles.extend(ids.into_iter().take(2));
    }
    assert_eq!(l2_toggles.len(), 60);
    let mut l3_toggles = Vec::new();
    for (k, id) in l2_toggles.iter().enumerate() {
        let kids: Vec<Value> = (0..5)
            .map(|j| {
                let kind = if j == 0 && k < 50 {
                    "toggle"
                } else {
                    "paragraph"
                };
                text(kind, &format!("L3 {k}.{j}"))
            })
            .collect();
        let ids = emu.append_children(id, kids).unwrap();
        if k < 50 {
            l3_toggles.push(ids[0].clone());
        }
    }
    for (k, id) in l3_toggles.iter().enumerate() {
        let kids: Vec<Value> = (0..5)
            .map(|j| text("paragraph", &format!("L4 {k}.{j}")))
            .collect();
        emu.append_children(id, kids).unwrap();
    }
    page
}

#[tokio::test(start_paused = true)]
async fn every_block_page_takes_exactly_the_minimal_requests_in_order() {
    let (emu, conn) = demo().await;
    let page = emu.demo_ids().blocks_page.clone();
    let want = oracle(&emu, &page, None);
    assert!(want.requests > 1, "the every-block page has nested blocks");
    emu.reset_counters();
    let tree = fetch_tree(&conn, &bid(&page), &TreeOptions::new()).await;
    assert!(tree.is_complete(), "{:?}", tree.error);
    assert_eq!(tree.requests, want.requests);
    let counters = emu.counters();
    assert_eq!(counters.route(CHILDREN_ROUTE), want.requests);
    assert_eq!(counters.total, want.requests, "no other request was made");
    assert_eq!(tree_order(&tree), want.order);
    assert_eq!(tree.len(), want.order.len());
    // Child pages and databases are listed but not entered, and not reported as unexpanded.
    assert!(
        tree.iter()
            .any(|(_, b)| b.kind_name() == "child_database" || b.kind_name() == "child_page")
    );
    assert!(tree.unexpanded.is_empty());
}

#[tokio::test(start_paused = true)]
async fn big_page_is_three_cursor_pages_concatenated_in_order() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    assert_eq!(ids.big_page_children, 250);
    emu.reset_counters();
    let tree = fetch_tree(&conn, &bid(&ids.big_page), &TreeOptions::new()).await;
    assert!(tree.is_complete());
    assert_eq!(emu.counters().route(CHILDREN_ROUTE), 3);
    assert_eq!(emu.counters().total, 3);
    let got: Vec<String> = tree.top_level().iter().map(|b| b.id.canonical()).collect();
    assert_eq!(got, emu.child_ids(&ids.big_page));
    assert_eq!(tree.len(), 250);
}

#[tokio::test(start_paused = true)]
async fn four_level_thousand_block_page_is_fetched_completely_with_minimal_requests() {
    let (emu, conn) = demo().await;
    let page = four_level_page(&emu);
    let want = oracle(&emu, &page, None);
    assert_eq!(want.order.len(), 1000);
    assert_eq!(want.requests, 142);
    assert_eq!(want.order.iter().map(|(d, _)| *d).max(), Some(4));
    emu.reset_counters();
    let tree = fetch_tree(&conn, &bid(&page), &TreeOptions::new()).await;
    assert!(tree.is_complete(), "{:?}", tree.error);
    assert_eq!(tree.len(), 1000);
    assert_eq!(tree.requests, 142);
    assert_eq!(emu.counters().route(CHILDREN_ROUTE), 142);
    assert_eq!(emu.counters().total, 142);
    assert_eq!(tree_order(&tree), want.order);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_fetch_keeps_the_limiter_busy_without_a_single_429() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(3.0, 10))
        .latency(Duration::from_millis(80))
        .start()
        .await
        .unwrap();
    let conn = client(&emu, LimiterConfig::new(3.0, 10).unwrap())
        .connection("secret_rate".to_owned().into());
    let page = four_level_page(&emu);
    emu.reset_counters();
    let t0 = Instant::now();
    let tree = fetch_tree(&conn, &bid(&page), &TreeOptions::new()).await;
    let secs = t0.elapsed().as_secs_f64();
    assert!(tree.is_complete(), "{:?}", tree.error);
    assert_eq!(emu.counters().total, 142);
    assert_eq!(emu.counters().rate_limited, 0);
    // The client's own floor: (142 − 9) / 3 s (one request of headroom), plus one latency.
    let floor = (142.0 - 9.0) / 3.0;
    let bound = (142.0 - 10.0) / 3.0 + 0.08;
    assert!(secs >= floor, "{secs} s");
    assert!(
        secs <= bound * 1.03,
        "{secs} s against a bound of {bound} s"
    );
}

#[tokio::test(start_paused = true)]
async fn depth_cap_reports_the_blocks_it_did_not_expand() {
    let (emu, conn) = demo().await;
    let page = four_level_page(&emu);
    let want = oracle(&emu, &page, Some(2));
    emu.reset_counters();
    let tree = fetch_tree(&conn, &bid(&page), &TreeOptions::new().max_depth(2)).await;
    assert!(tree.truncated);
    assert_eq!(tree.truncation, vec![Truncation::MaxDepth(2)]);
    assert!(tree.error.is_none());
    assert_eq!(tree.requests, want.requests);
    assert_eq!(want.requests, 2 + 30);
    assert_eq!(emu.counters().total, want.requests);
    assert_eq!(tree_order(&tree), want.order);
    assert_eq!(tree.len(), 150 + 300);
    // Exactly the level-2 blocks with children, in document order.
    let expected: Vec<String> = want
        .order
        .iter()
        .filter(|(d, id)| *d == 2 && want.with_children.contains(id))
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(expected.len(), 60);
    let got: Vec<String> = tree.unexpanded.iter().map(BlockId::canonical).collect();
    assert_eq!(got, expected);

    // Depth 0 fetches nothing and reports the root.
    let none = fetch_tree(&conn, &bid(&page), &TreeOptions::new().max_depth(0)).await;
    assert_eq!((none.requests, none.len()), (0, 0));
    assert_eq!(none.unexpanded, vec![bid(&page)]);
    assert!(none.truncated);
}

#[tokio::test(start_paused = true)]
async fn block_cap_stops_at_the_cap_and_reports_what_was_not_expanded() {
    let (emu, conn) = demo().await;
    let big = emu.demo_ids().big_page.clone();
    emu.reset_counters();
    let tree = fetch_tree(&conn, &bid(&big), &TreeOptions::new().max_blocks(150)).await;
    assert_eq!(
        tree.len(),
        150,
        "the last page asked only for what the cap allows"
    );
    assert_eq!(tree.requests, 2);
    assert_eq!(emu.counters().total, 2);
    assert!(tree.truncated);
    assert_eq!(tree.truncation, vec![Truncation::MaxBlocks(150)]);
    assert_eq!(
        tree.unexpanded,
        vec![bid(&big)],
        "the root's children are incomplete"
    );
    let got: Vec<String> = tree.top_level().iter().map(|b| b.id.canonical()).collect();
    assert_eq!(got, emu.child_ids(&big)[..150].to_vec());

    // On a nested page: never more than the cap, every block kept is in document order, and
    // every block with children whose children are missing is listed.
    let page = four_level_page(&emu);
    let want = oracle(&emu, &page, None);
    let tree = fetch_tree(&conn, &bid(&page), &TreeOptions::new().max_blocks(400)).await;
    assert_eq!(tree.len(), 400);
    assert!(tree.truncated && tree.error.is_none());
    let positions: HashMap<&str, usize> = want
        .order
        .iter()
        .enumerate()
        .map(|(i, (_, id))| (id.as_str(), i))
        .collect();
    let got = tree_order(&tree);
    assert!(
        got.windows(2)
            .all(|w| positions[w[0].1.as_str()] < positions[w[1].1.as_str()])
    );
    for (_, id) in &got {
        if want.with_children.contains(id) {
            let full = tree.children_of(&bid(id)).len() == emu.child_ids(id).len();
            assert!(
                full || tree.unexpanded.contains(&bid(id)),
                "{id} is either complete or reported"
            );
        }
    }
    assert!(!tree.unexpanded.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_429_mid_way_is_waited_out_and_nothing_is_lost() {
    let (emu, conn) = demo().await;
    let page = four_level_page(&emu);
    let want = oracle(&emu, &page, None);
    emu.reset_counters();
    let handle = emu.handle();
    let pushed = Arc::new(AtomicBool::new(false));
    let flag = pushed.clone();
    let options = TreeOptions::new().progress(move |p| {
        if p.requests >= 20 && !flag.swap(true, Ordering::SeqCst) {
            handle.push_fault(
                ScriptedFault::new(Method::GET, "/v1/blocks/{id}/children")
                    .status(429)
                    .retry_after(2)
                    .times(1),
            );
        }
    });
    let t0 = Instant::now();
    let tree = fetch_tree(&conn, &bid(&page), &options).await;
    assert!(pushed.load(Ordering::SeqCst));
    assert!(tree.is_complete(), "{:?}", tree.error);
    assert!(
        t0.elapsed() >= Duration::from_secs(2),
        "the 429 was waited out"
    );
    assert_eq!(tree_order(&tree), want.order);
    assert_eq!(tree.requests, want.requests);
    let counters = emu.counters();
    assert_eq!(counters.status(429), 1);
    assert_eq!(counters.route(CHILDREN_ROUTE), want.requests + 1);
    assert_eq!((tree.stats.rate_limited, tree.stats.retries), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_persistent_failure_returns_the_partial_tree_and_the_error() {
    let (emu, conn) = demo().await;
    let page = four_level_page(&emu);
    emu.reset_counters();
    let handle = emu.handle();
    let pushed = Arc::new(AtomicBool::new(false));
    let flag = pushed.clone();
    let options = TreeOptions::new().concurrency(4).progress(move |p| {
        if p.requests >= 10 && !flag.swap(true, Ordering::SeqCst) {
            handle.push_fault(
                ScriptedFault::new(Method::GET, "/v1/blocks/{id}/children")
                    .status(503)
                    .times(10_000),
            );
        }
    });
    let tree = fetch_tree(&conn, &bid(&page), &options).await;
    let error = tree.error.as_ref().expect("the fetch reports the error");
    assert_eq!(error.status(), Some(503));
    assert!(!tree.truncated, "an error is not a cap");
    assert!(!tree.is_complete());
    assert!(
        tree.len() >= 100,
        "what was fetched is kept: {}",
        tree.len()
    );
    assert!(!tree.unexpanded.is_empty());
    // Every list kept is exactly the emulator's, and every block whose children are missing
    // is reported.
    for (parent, kids) in &tree.children {
        let all = emu.child_ids(parent.as_str());
        let got: Vec<String> = kids.iter().map(|b| b.id.canonical()).collect();
        if got.len() != all.len() {
            assert!(tree.unexpanded.contains(parent));
        }
        assert_eq!(got, all[..got.len()].to_vec());
    }
    for (_, block) in tree.iter() {
        if descendable(&emu, block.id.as_str()) && tree.get(&block.id).is_none() {
            assert!(tree.unexpanded.contains(&block.id), "{:?}", block.id);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn concurrency_stays_within_the_configured_bound() {
    let (emu, conn) = demo_with(Emulator::builder().latency(Duration::from_millis(80))).await;
    let page = four_level_page(&emu);
    for bound in [1usize, 4, 12] {
        emu.reset_counters();
        let max_seen = Arc::new(AtomicUsize::new(0));
        let seen = max_seen.clone();
        let options = TreeOptions::new().concurrency(bound).progress(move |p| {
            // After a response is taken, the rest are still in flight.
            seen.fetch_max(p.in_flight + 1, Ordering::SeqCst);
        });
        let tree = fetch_tree(&conn, &bid(&page), &options).await;
        assert!(tree.is_complete());
        assert_eq!(tree.requests, 142);
        assert_eq!(max_seen.load(Ordering::SeqCst), bound, "the bound is used");
        // At the emulator: each request is served for exactly the latency after it arrives.
        let arrivals: Vec<Instant> = emu.request_log().iter().map(|r| r.at).collect();
        let overlap = arrivals
            .iter()
            .map(|a| {
                arrivals
                    .iter()
                    .filter(|b| **b >= *a && **b < *a + Duration::from_millis(80))
                    .count()
            })
            .max()
            .unwrap_or(0);
        assert!(
            overlap <= bound,
            "{overlap} in flight with a bound of {bound}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn child_pages_are_entered_only_when_asked() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    let plain = fetch_tree(&conn, &bid(&ids.root_page), &TreeOptions::new()).await;
    assert!(plain.is_complete());
    let child = bid(&ids.child_page);
    assert!(plain.top_level().iter().any(|b| b.id == child));
    assert!(plain.get(&child).is_none());

    let deep = fetch_tree(
        &conn,
        &bid(&ids.root_page),
        &TreeOptions::new().include_child_pages(true),
    )
    .await;
    assert!(deep.is_complete());
    assert!(
        deep.children_of(&child)
            .iter()
            .any(|b| b.id == bid(&ids.grandchild_page))
    );
    assert!(deep.requests > plain.requests);
}

#[tokio::test(start_paused = true)]
async fn a_missing_root_is_an_error_with_the_root_unexpanded() {
    let (emu, conn) = demo().await;
    let missing = bid("0123456789abcdef0123456789abcdef");
    let tree = fetch_tree(&conn, &missing, &TreeOptions::new()).await;
    assert_eq!(tree.error.as_ref().and_then(|e| e.status()), Some(404));
    assert_eq!(tree.unexpanded, vec![missing]);
    assert!(tree.is_empty());
    assert!(tree.into_result().is_err());
    emu.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// The Markdown endpoint, against scripted answers (a minimal HTTP server that answers
// `GET /v1/pages/{id}/markdown` from a table), until the emulator renders Markdown.

async fn markdown_server(answers: HashMap<String, Value>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answers = answers.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let id = path
                    .trim_start_matches("/v1/pages/")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push(id.clone());
                let (status, body) = match answers.get(&id) {
                    Some(v) => ("200 OK", v.to_string()),
                    None => (
                        "404 Not Found",
                        json!({"object": "error", "status": 404, "code": "object_not_found",
                               "message": "Could not find block"})
                        .to_string(),
                    ),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(resp.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (base, log)
}

fn client_at(base: &str) -> notion_client::Notion {
    notion_client::Notion::new(
        notion_client::ClientConfig::default()
            .base_url(base)
            .limiter(fast()),
    )
    .unwrap()
}

fn md(id: &str, text: &str, unknown: &[&str]) -> Value {
    json!({"object": "page_markdown", "id": id, "markdown": text, "truncated": false,
           "unknown_block_ids": unknown})
}

const PAGE: &str = "11111111-1111-4111-8111-111111111111";
const A: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const B: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const C: &str = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

#[tokio::test]
async fn markdown_fetches_every_unknown_subtree_recursively() {
    let answers = HashMap::from([
        (
            PAGE.to_owned(),
            md(PAGE, "# Page\n<unknown id=a/>\n<unknown id=b/>", &[A, B]),
        ),
        (A.to_owned(), md(A, "A\n<unknown id=c/>", &[C])),
        (B.to_owned(), md(B, "B", &[])),
        (C.to_owned(), md(C, "C", &[A])),
    ]);
    let (base, log) = markdown_server(answers).await;
    let conn = client_at(&base).connection("t".to_owned().into());
    let got = fetch_markdown(
        &conn,
        &PageId::parse(PAGE).unwrap(),
        &MarkdownOptions::new(),
    )
    .await
    .unwrap();
    assert!(got.is_complete());
    assert_eq!(got.requests, 4, "A is named twice and fetched once");
    let ids: Vec<String> = got.pieces.iter().map(|p| p.id.canonical()).collect();
    assert_eq!(ids, [A, B, C]);
    assert_eq!(got.piece(&bid(C)).unwrap().parent, bid(A));
    assert_eq!(got.piece(&bid(B)).unwrap().markdown.markdown, "B");
    assert_eq!(log.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn markdown_keeps_the_pieces_fetched_before_a_failure() {
    let answers = HashMap::from([
        (PAGE.to_owned(), md(PAGE, "page", &[A, B])),
        (A.to_owned(), md(A, "A", &[C])),
        (C.to_owned(), md(C, "C", &[])),
    ]);
    let (base, _) = markdown_server(answers).await;
    let conn = client_at(&base).connection("t".to_owned().into());
    let got = fetch_markdown(
        &conn,
        &PageId::parse(PAGE).unwrap(),
        &MarkdownOptions::new().concurrency(1),
    )
    .await
    .unwrap();
    assert_eq!(got.error.as_ref().and_then(|e| e.status()), Some(404));
    let ids: Vec<String> = got.pieces.iter().map(|p| p.id.canonical()).collect();
    assert_eq!(ids, [A]);
    assert_eq!(got.unfetched, vec![bid(B), bid(C)]);
    assert!(!got.is_complete());

    // The page's own failure fails the call.
    let missing = PageId::parse("0123456789abcdef0123456789abcdef").unwrap();
    let err = fetch_markdown(&conn, &missing, &MarkdownOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test(start_paused = true)]
async fn markdown_from_the_emulator_fetches_the_unknown_blocks_as_pieces() {
    let (emu, conn) = demo().await;
    let page = PageId::parse(&emu.demo_ids().blocks_page).unwrap();
    emu.reset_counters();
    let got = fetch_markdown(&conn, &page, &MarkdownOptions::new())
        .await
        .unwrap();
    assert!(got.error.is_none(), "{:?}", got.error);
    assert!(!got.page.markdown.is_empty());
    assert!(got.unfetched.is_empty());
    // The every-block page has an `unsupported` block, which Notion cannot render inline.
    assert!(!got.page.unknown_block_ids.is_empty());
    // Every unknown block the page names is fetched once, as a piece.
    for id in &got.page.unknown_block_ids {
        assert_eq!(got.piece(id).map(|p| &p.parent), Some(&page.cast()));
    }
    assert_eq!(got.requests, 1 + got.pieces.len() as u64);
    assert_eq!(
        emu.counters().route("GET /v1/pages/{id}/markdown"),
        got.requests
    );

    // A version without the endpoint fails before any request.
    let old = conn.with_version(notion_client::NotionVersion::parse("2022-06-28").unwrap());
    emu.reset_counters();
    let err = fetch_markdown(&old, &page, &MarkdownOptions::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2025-09-03"), "{err}");
    assert_eq!(emu.counters().total, 0);
}
