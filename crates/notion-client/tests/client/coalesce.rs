//! Read coalescing: identical reads on one connection share one request, on a paused tokio
//! clock, with the emulator counting the requests that reach it.

use std::time::Duration;

use futures::future::join_all;
use notion_client::endpoints::QueryDataSource;
use notion_client::ids::DataSourceId;
use notion_client::{
    ClientConfig, CoalesceConfig, Connection, Error, Idempotency, Notion, Paging, RawRequest,
    RawResponse, RetryPolicy,
};
use notion_emulator::{Emulator, ScriptedFault, Seed};
use reqwest::Method;
use serde_json::json;

use crate::support::fast;

const PAGE_ROUTE: &str = "GET /v1/pages/{id}";

/// The demo emulator answering every request after `latency`, and a connection to it.
async fn slow_demo(latency: Duration, coalesce: CoalesceConfig) -> (Emulator, Connection) {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .latency(latency)
        .start()
        .await
        .expect("emulator starts");
    let notion = Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(fast())
            .request_timeout(None)
            .connect_timeout(None)
            .retry(RetryPolicy::default())
            .coalesce(coalesce),
    )
    .expect("client builds");
    let conn = notion.connection("secret_test_token".to_owned().into());
    (emu, conn)
}

fn get_page(id: &str) -> RawRequest {
    RawRequest::new(Method::GET, format!("/v1/pages/{id}"), Idempotency::Safe)
}

/// `n` identical requests at once, each on its own task (and its own clone of `conn`).
async fn at_once(conn: &Connection, n: usize, req: RawRequest) -> Vec<RawResponse> {
    let tasks = (0..n).map(|_| {
        let (conn, req) = (conn.clone(), req.clone());
        tokio::spawn(async move { conn.execute(req).await })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.expect("task ends").expect("request answered"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn identical_reads_share_one_request_and_one_answer() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    let answers = at_once(&conn, 10, get_page(&page)).await;
    assert_eq!(
        emu.counters().route(PAGE_ROUTE),
        1,
        "one request for ten reads"
    );
    assert_eq!(conn.stats().requests, 1);
    assert_eq!(conn.stats().coalesced, 9);
    assert_eq!(answers.iter().filter(|a| a.shared).count(), 9);
    let first = &answers[0];
    assert_eq!(first.status, 200);
    assert!(first.request_id().is_some());
    for a in &answers {
        assert_eq!(a.status, first.status);
        assert_eq!(a.body, first.body, "every caller gets the same bytes");
        assert_eq!(a.headers, first.headers, "and the same headers");
        assert_eq!(a.attempts, 1);
    }
    // Once answered, the flight is gone: the next read sends its own request.
    assert_eq!(conn.coalescer().in_flight(), 0);
    let again = conn.execute(get_page(&page)).await.unwrap();
    assert!(!again.shared);
    assert_eq!(emu.counters().route(PAGE_ROUTE), 2);
}

#[tokio::test(start_paused = true)]
async fn different_reads_do_not_share() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let ids = emu.demo_ids().clone();
    let pages = [&ids.root_page, &ids.child_page, &ids.grandchild_page];
    let mut tasks = Vec::new();
    for page in pages {
        let conn = conn.clone();
        let req = get_page(page);
        tasks.push(tokio::spawn(async move { conn.execute(req).await }));
    }
    // The same path with another query, and another Notion-Version, are other reads.
    let conn2 = conn.clone();
    let req = get_page(&ids.root_page).query("filter_properties", "title");
    tasks.push(tokio::spawn(async move { conn2.execute(req).await }));
    let older = conn.with_version(notion_client::NotionVersion::parse("2025-09-03").unwrap());
    let req = get_page(&ids.root_page);
    tasks.push(tokio::spawn(async move { older.execute(req).await }));
    for t in join_all(tasks).await {
        let a = t.unwrap().unwrap();
        assert_eq!(a.status, 200);
        assert!(!a.shared);
    }
    assert_eq!(emu.counters().route(PAGE_ROUTE), 5);
    assert_eq!(conn.stats().coalesced, 0);
}

#[tokio::test(start_paused = true)]
async fn other_tokens_do_not_share() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    // Another token's handle given the same coalescer still sends its own request.
    let other = conn
        .notion()
        .connection("secret_other_token".to_owned().into())
        .with_coalescer(conn.coalescer().clone());
    let (a, b) = tokio::join!(
        conn.execute(get_page(&page)),
        other.execute(get_page(&page))
    );
    assert!(!a.unwrap().shared && !b.unwrap().shared);
    assert_eq!(emu.counters().route(PAGE_ROUTE), 2);
}

/// A read asked after a write ended does not join a read sent before the write: it would get
/// an answer older than the write.
#[tokio::test(start_paused = true)]
async fn a_read_after_a_completed_write_does_not_join_an_older_read() {
    let (emu, conn) = slow_demo(Duration::ZERO, CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    // The first read is answered from the state it found, half a second later.
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .delay(Duration::from_millis(500))
            .after_effect(),
    );
    let old_read = {
        let (conn, req) = (conn.clone(), get_page(&page));
        tokio::spawn(async move { conn.execute(req).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A read asked now (nothing written yet) joins the first one.
    let joiner = {
        let (conn, req) = (conn.clone(), get_page(&page));
        tokio::spawn(async move { conn.execute(req).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let epoch = conn.coalescer().write_epoch();
    let write = RawRequest::new(
        Method::PATCH,
        format!("/v1/pages/{page}"),
        Idempotency::Safe,
    )
    .json(&json!({"icon": {"type": "emoji", "emoji": "🚀"}}))
    .unwrap();
    let written = conn.execute(write).await.unwrap();
    assert_eq!(written.status, 200);
    assert_eq!(conn.coalescer().write_epoch(), epoch + 1);
    // Asked after the write ended: its own request, and it sees the write.
    let fresh = conn.execute(get_page(&page)).await.unwrap();
    assert!(!fresh.shared);
    assert!(String::from_utf8_lossy(&fresh.body).contains("🚀"));
    let old = old_read.await.unwrap().unwrap();
    let joined = joiner.await.unwrap().unwrap();
    assert!(!old.shared && joined.shared);
    assert!(!String::from_utf8_lossy(&old.body).contains("🚀"));
    assert_eq!(joined.body, old.body);
    assert_eq!(emu.counters().route(PAGE_ROUTE), 2);
}

/// A read still waiting for the limiter may be joined after a write: it is sent later.
#[tokio::test(start_paused = true)]
async fn a_read_waiting_for_the_limiter_is_joined_after_a_write() {
    let emu = Emulator::builder().seed(Seed::Demo).start().await.unwrap();
    let notion = crate::support::client(&emu, notion_client::LimiterConfig::new(1.0, 2).unwrap());
    let conn = notion.connection("secret_test_token".to_owned().into());
    let page = emu.demo_ids().root_page.clone();
    // Spend the burst (one request: the other is headroom).
    conn.execute(get_page(&emu.demo_ids().child_page))
        .await
        .unwrap();
    let waiting = {
        let (conn, req) = (conn.clone(), get_page(&page));
        tokio::spawn(async move { conn.execute(req).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    // A write ends (on another connection handle sharing the coalescer, unlimited)…
    let writer = crate::support::client(&emu, fast())
        .connection("secret_test_token".to_owned().into())
        .with_coalescer(conn.coalescer().clone());
    let write = RawRequest::new(
        Method::PATCH,
        format!("/v1/pages/{page}"),
        Idempotency::Safe,
    )
    .json(&json!({"icon": {"type": "emoji", "emoji": "🚀"}}))
    .unwrap();
    writer.execute(write).await.unwrap();
    // …and a read asked now joins the one still waiting: it will be sent after the write.
    let joined = conn.execute(get_page(&page)).await.unwrap();
    let first = waiting.await.unwrap().unwrap();
    assert!(joined.shared && !first.shared);
    assert!(String::from_utf8_lossy(&joined.body).contains("🚀"));
    assert_eq!(emu.counters().route(PAGE_ROUTE), 2);
}

#[tokio::test(start_paused = true)]
async fn writes_never_coalesce() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    let update = RawRequest::new(
        Method::PATCH,
        format!("/v1/pages/{page}"),
        Idempotency::Safe,
    )
    .json(&json!({"icon": {"type": "emoji", "emoji": "🚀"}}))
    .unwrap();
    let answers = at_once(&conn, 5, update.clone()).await;
    assert!(answers.iter().all(|a| a.status == 200 && !a.shared));
    assert_eq!(emu.counters().route("PATCH /v1/pages/{id}"), 5);
    // Marked as a read, a PATCH still does not coalesce.
    let answers = at_once(&conn, 3, update.read(true)).await;
    assert!(answers.iter().all(|a| !a.shared));
    assert_eq!(emu.counters().route("PATCH /v1/pages/{id}"), 8);
    // A POST that is not marked as a read (a create) does not either.
    let create = RawRequest::new(Method::POST, "/v1/pages", Idempotency::Unsafe)
        .json(&json!({
            "parent": {"page_id": page},
            "properties": {"title": {"title": [{"text": {"content": "twin"}}]}}
        }))
        .unwrap();
    let answers = at_once(&conn, 3, create).await;
    assert!(answers.iter().all(|a| a.status == 200 && !a.shared));
    assert_eq!(emu.counters().route("POST /v1/pages"), 3);
    assert_eq!(conn.stats().coalesced, 0);
    assert_eq!(conn.coalescer().write_epoch(), 11);
}

#[tokio::test(start_paused = true)]
async fn read_only_posts_coalesce() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let ds = DataSourceId::parse(&emu.demo_ids().data_source).unwrap();
    let query = QueryDataSource::new();
    let paging = Paging::default();
    let sources = conn.data_sources();
    let runs = (0..4).map(|_| sources.query(&ds, &query, &paging));
    for r in join_all(runs).await {
        assert!(!r.unwrap().results.is_empty());
    }
    assert_eq!(emu.counters().route("POST /v1/data_sources/{id}/query"), 1);
    // The same query with another body is another read.
    let other = QueryDataSource::new().sort_by_timestamp("created_time", true);
    let (a, b) = tokio::join!(
        sources.query(&ds, &query, &paging),
        sources.query(&ds, &other, &paging)
    );
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(emu.counters().route("POST /v1/data_sources/{id}/query"), 3);
    let search = notion_client::endpoints::Search::new().query("Tasks");
    let (a, b) = tokio::join!(conn.search(&search, &paging), conn.search(&search, &paging));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(emu.counters().route("POST /v1/search"), 1);
    assert_eq!(conn.stats().coalesced, 4);
}

#[tokio::test(start_paused = true)]
async fn the_number_of_joiners_is_bounded() {
    let config = CoalesceConfig::default().with_max_joiners(3);
    let (emu, conn) = slow_demo(Duration::from_millis(80), config).await;
    let page = emu.demo_ids().root_page.clone();
    let answers = at_once(&conn, 10, get_page(&page)).await;
    // Flights of 1 + 3, 1 + 3 and 1 + 1.
    assert_eq!(emu.counters().route(PAGE_ROUTE), 3);
    assert_eq!(answers.iter().filter(|a| a.shared).count(), 7);
    assert_eq!(conn.stats().coalesced, 7);
}

#[tokio::test(start_paused = true)]
async fn an_answer_too_large_to_keep_is_sent_again_by_each_joiner() {
    let config = CoalesceConfig::default().with_max_shared_bytes(64);
    let (emu, conn) = slow_demo(Duration::from_millis(80), config).await;
    let page = emu.demo_ids().root_page.clone();
    let answers = at_once(&conn, 4, get_page(&page)).await;
    assert!(answers.iter().all(|a| a.status == 200 && !a.shared));
    assert_eq!(emu.counters().route(PAGE_ROUTE), 4);
    assert_eq!(conn.stats().coalesced, 0);
}

#[tokio::test(start_paused = true)]
async fn coalescing_can_be_turned_off() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::off()).await;
    let page = emu.demo_ids().root_page.clone();
    let answers = at_once(&conn, 5, get_page(&page)).await;
    assert!(answers.iter().all(|a| !a.shared));
    assert_eq!(emu.counters().route(PAGE_ROUTE), 5);
}

/// Errors are answers too: a 404, and a 429 that outlived the retries, are the same for
/// every caller of the same read, and sending them again would only spend more budget.
#[tokio::test(start_paused = true)]
async fn an_error_answer_is_shared() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let missing = "0badc0de-0000-4000-8000-000000000000";
    let answers = at_once(&conn, 4, get_page(missing)).await;
    assert!(answers.iter().all(|a| a.status == 404));
    assert_eq!(emu.counters().route(PAGE_ROUTE), 1);

    let page = emu.demo_ids().root_page.clone();
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(1)
            .times(100),
    );
    let tasks = (0..3).map(|_| {
        let conn = conn.clone();
        let page = notion_client::ids::PageId::parse(&page).unwrap();
        tokio::spawn(async move { conn.pages().retrieve(&page).await })
    });
    for t in join_all(tasks).await {
        match t.unwrap() {
            Err(e @ Error::Api(_)) => assert!(e.is_rate_limited(), "{e}"),
            other => panic!("expected a 429, got {other:?}"),
        }
    }
    // One flight: the first attempt and the policy's five retries.
    assert_eq!(emu.counters().route(PAGE_ROUTE), 1 + 6);
}

/// A caller that goes away does not take the answer from the others who joined it.
#[tokio::test(start_paused = true)]
async fn the_first_caller_going_away_does_not_cancel_the_others() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    let leader = {
        let (conn, req) = (conn.clone(), get_page(&page));
        tokio::spawn(async move { conn.execute(req).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let joiners: Vec<_> = (0..3)
        .map(|_| {
            let (conn, req) = (conn.clone(), get_page(&page));
            tokio::spawn(async move { conn.execute(req).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    leader.abort();
    for t in join_all(joiners).await {
        let a = t.unwrap().unwrap();
        assert!(a.status == 200 && a.shared);
    }
    assert_eq!(emu.counters().route(PAGE_ROUTE), 1);
    assert_eq!(conn.coalescer().in_flight(), 0);
}

/// When every caller of a flight goes away, the flight is forgotten.
#[tokio::test(start_paused = true)]
async fn a_flight_nobody_waits_for_is_forgotten() {
    let (emu, conn) = slow_demo(Duration::from_millis(80), CoalesceConfig::default()).await;
    let page = emu.demo_ids().root_page.clone();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (conn, req) = (conn.clone(), get_page(&page));
            tokio::spawn(async move { conn.execute(req).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(conn.coalescer().in_flight(), 1);
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        assert!(t.await.unwrap_err().is_cancelled());
    }
    assert_eq!(conn.coalescer().in_flight(), 0);
    let a = conn.execute(get_page(&page)).await.unwrap();
    assert!(a.status == 200 && !a.shared);
}
