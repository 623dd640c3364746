//! Rate limits, injected faults and the shared limiter, timed on a paused tokio clock (never
//! the wall clock).

use std::time::Duration;

use futures::future::join_all;
use notion_client::endpoints::{AppendChildren, CreatePage};
use notion_client::ids::{BlockId, PageId};
use notion_client::models::{NewBlock, RichText};
use notion_client::{
    ClientConfig, CoalesceConfig, Error, LimiterConfig, Notion, ParentRef, RetryPolicy, WriteState,
};
use notion_emulator::{Emulator, RateLimit, ScriptedFault, Seed};
use reqwest::Method;
use tokio::time::Instant;

use crate::support::{client, demo, fast};

fn pid(s: &str) -> PageId {
    PageId::parse(s).unwrap()
}

fn paragraph(text: &str) -> AppendChildren {
    AppendChildren::new([NewBlock::paragraph(vec![RichText::plain(text)])])
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let (emu, conn) = demo().await;
    let page = pid(&emu.demo_ids().root_page);
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(2)
            .times(1),
    );
    let t0 = Instant::now();
    let got = conn.pages().retrieve(&page).await.unwrap();
    assert_eq!(got.id.canonical(), emu.demo_ids().root_page);
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2100),
        "waited {elapsed:?}"
    );
    assert_eq!(emu.counters().route("GET /v1/pages/{id}"), 2);
    let stats = conn.stats();
    assert_eq!(
        (stats.requests, stats.retries, stats.rate_limited),
        (2, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_every_caller_of_the_connection() {
    let (emu, conn) = demo().await;
    let ids = emu.demo_ids().clone();
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(3)
            .times(1),
    );
    let a = {
        let conn = conn.clone();
        let id = pid(&ids.root_page);
        tokio::spawn(async move { conn.pages().retrieve(&id).await })
    };
    let b = {
        let conn = conn.clone();
        let id = BlockId::parse(&ids.child_page).unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            conn.blocks().retrieve(&id).await
        })
    };
    let t0 = Instant::now();
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    let log = emu.request_log();
    let b_sent = log
        .iter()
        .find(|r| r.route == "GET /v1/blocks/{id}")
        .expect("b was sent")
        .at;
    let first = log[0].at;
    assert!(
        b_sent.duration_since(first) >= Duration::from_secs(3),
        "the other caller waited out the pause: {:?}",
        b_sent.duration_since(first)
    );
    assert!(t0.elapsed() >= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_529_is_retried_even_for_a_create() {
    let (emu, conn) = demo().await;
    let root = pid(&emu.demo_ids().root_page);
    emu.push_fault(
        ScriptedFault::new(Method::POST, "/v1/pages")
            .status(529)
            .retry_after(1)
            .times(1),
    );
    let t0 = Instant::now();
    let page = conn
        .pages()
        .create(&CreatePage::new(ParentRef::Page(root.clone())).title("title", "once"))
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(1));
    assert_eq!(emu.counters().route("POST /v1/pages"), 2);
    assert_eq!(emu.counters().status(529), 1);
    // Exactly one page with that title exists: the 529 was refused before any effect.
    let titles: Vec<_> = emu
        .child_ids(root.as_str())
        .iter()
        .filter_map(|id| emu.get_object(id))
        .filter(|o| o["object"] == "page" || o["type"] == "child_page")
        .filter(|o| o.to_string().contains("\"once\""))
        .collect();
    assert_eq!(titles.len(), 1, "{}", page.id);
}

#[tokio::test(start_paused = true)]
async fn server_errors_on_reads_are_retried() {
    let (emu, conn) = demo().await;
    let page = BlockId::parse(&emu.demo_ids().big_page).unwrap();
    for status in [500, 502, 503] {
        emu.push_fault(
            ScriptedFault::new(Method::GET, "/v1/blocks/{id}/children")
                .status(status)
                .times(1),
        );
    }
    let before = emu.counters().route("GET /v1/blocks/{id}/children");
    let list = conn
        .blocks()
        .children(&page, &notion_client::Paging::first())
        .await
        .unwrap();
    assert_eq!(list.results.len(), 100);
    assert_eq!(
        emu.counters().route("GET /v1/blocks/{id}/children") - before,
        4
    );
    assert_eq!(conn.stats().retries, 3);
}

#[tokio::test(start_paused = true)]
async fn an_html_502_on_a_read_is_retried_and_typed_when_it_persists() {
    let (emu, conn) = demo().await;
    let page = pid(&emu.demo_ids().root_page);
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .html_bad_gateway()
            .times(10),
    );
    let err = conn.pages().retrieve(&page).await.unwrap_err();
    match &err {
        Error::UnexpectedResponse {
            status, attempts, ..
        } => {
            assert_eq!(*status, 502);
            assert_eq!(
                *attempts,
                1 + RetryPolicy::default().max_server_error_retries
            );
        }
        other => panic!("expected an unexpected-response error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn server_errors_on_appends_are_never_retried() {
    let (emu, conn) = demo().await;
    let target = BlockId::parse(&emu.demo_ids().child_page).unwrap();
    let children_before = emu.child_ids(target.as_str()).len();

    // Refused before the effect: nothing happened, and the caller is told it may have.
    emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .status(500)
            .times(1),
    );
    let err = conn
        .blocks()
        .append(&target, &paragraph("a"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.write_state(), WriteState::Unknown);
    assert_eq!(emu.counters().route("PATCH /v1/blocks/{id}/children"), 1);

    // Applied, then a 503: the client must not send it again.
    emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .status(503)
            .after_effect()
            .times(1),
    );
    let err = conn
        .blocks()
        .append(&target, &paragraph("b"))
        .await
        .unwrap_err();
    assert_eq!(err.write_state(), WriteState::Unknown);
    assert_eq!(emu.counters().route("PATCH /v1/blocks/{id}/children"), 2);
    assert_eq!(emu.child_ids(target.as_str()).len(), children_before + 1);

    // Applied, then the connection drops: still exactly one copy.
    emu.push_fault(
        ScriptedFault::new(Method::PATCH, "/v1/blocks/{id}/children")
            .drop_connection()
            .after_effect()
            .times(1),
    );
    let err = conn
        .blocks()
        .append(&target, &paragraph("c"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                may_have_reached: true,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("may have reached Notion"), "{err}");
    assert_eq!(emu.counters().route("PATCH /v1/blocks/{id}/children"), 3);
    assert_eq!(emu.child_ids(target.as_str()).len(), children_before + 2);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_connection_on_a_read_is_retried() {
    let (emu, conn) = demo().await;
    let page = pid(&emu.demo_ids().root_page);
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .drop_connection()
            .times(1),
    );
    conn.pages().retrieve(&page).await.unwrap();
    assert_eq!(emu.counters().route("GET /v1/pages/{id}"), 2);
    assert_eq!(emu.counters().dropped, 1);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_budget_runs_out_with_a_typed_429() {
    let (emu, conn) = demo().await;
    let page = pid(&emu.demo_ids().root_page);
    emu.push_fault(
        ScriptedFault::new(Method::GET, "/v1/pages/{id}")
            .status(429)
            .retry_after(1)
            .times(100),
    );
    let err = conn.pages().retrieve(&page).await.unwrap_err();
    assert!(err.is_rate_limited());
    let api = err.api().unwrap();
    assert_eq!(api.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(
        api.attempts,
        1 + RetryPolicy::default().max_rate_limit_retries
    );
    assert_eq!(err.write_state(), WriteState::NotApplied);
}

#[tokio::test]
async fn invalid_ids_never_reach_the_network() {
    let (emu, conn) = demo().await;
    assert!(PageId::parse("not-an-id").is_err());
    assert!(PageId::parse("../../v1/users").is_err());
    // An unchecked ID smuggled in with `From<String>` is still checked before sending.
    let smuggled = PageId::from("../users/me".to_owned());
    let err = conn.pages().retrieve(&smuggled).await.unwrap_err();
    assert!(matches!(err, Error::InvalidId(_)), "{err:?}");
    let bad_block = BlockId::from("zzzz".to_owned());
    assert!(conn.blocks().delete(&bad_block).await.is_err());
    assert!(matches!(
        conn.blocks().append(&bad_block, &paragraph("x")).await,
        Err(Error::InvalidId(_))
    ));
    assert_eq!(emu.counters().total, 0, "no request was sent");
}

#[tokio::test]
async fn oversized_appends_are_refused_before_sending() {
    let (emu, conn) = demo().await;
    let target = BlockId::parse(&emu.demo_ids().child_page).unwrap();
    let many: Vec<_> = (0..101)
        .map(|i| NewBlock::paragraph(vec![RichText::plain(format!("{i}"))]))
        .collect();
    let err = conn
        .blocks()
        .append(&target, &AppendChildren::new(many))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest(ref m) if m.contains("101")),
        "{err}"
    );
    assert_eq!(emu.counters().total, 0);
}

/// Ten tasks share one connection; the emulator enforces the same rate and burst and must
/// never answer 429, and the request log must respect the GCRA envelope.
#[tokio::test(start_paused = true)]
async fn the_limiter_is_shared_by_ten_concurrent_tasks() {
    const RATE: f64 = 5.0;
    const BURST: u32 = 5;
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(RATE, BURST))
        .start()
        .await
        .unwrap();
    let limiter = LimiterConfig::new(RATE, BURST).unwrap();
    let effective = f64::from(limiter.effective_burst());
    // Identical reads would share requests: every read must reach the limiter here.
    let config = client(&emu, limiter)
        .config()
        .clone()
        .coalesce(CoalesceConfig::off());
    let notion = Notion::new(config).unwrap();
    let conn = notion.connection("shared".to_owned().into());
    let page = pid(&emu.demo_ids().root_page);
    let t0 = Instant::now();
    let tasks = (0..10).map(|_| {
        let conn = conn.clone();
        let page = page.clone();
        tokio::spawn(async move {
            for _ in 0..10 {
                conn.pages().retrieve(&page).await.unwrap();
            }
        })
    });
    for t in join_all(tasks).await {
        t.unwrap();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let c = emu.counters();
    assert_eq!(c.total, 100);
    assert_eq!(c.rate_limited, 0, "no 429 from the emulator");
    assert_eq!(conn.stats().requests, 100);
    // (100 - effective burst) / rate: 19.2 s at the earliest (one request of headroom).
    let bound = (100.0 - effective) / RATE;
    assert!(
        elapsed >= bound - 0.01 && elapsed <= bound * 1.02,
        "took {elapsed} s for a bound of {bound} s"
    );
    // In every window of the log, at most burst + rate × window requests.
    let log = emu.request_log();
    let times: Vec<f64> = log
        .iter()
        .map(|r| r.at.duration_since(log[0].at).as_secs_f64())
        .collect();
    for (i, start) in times.iter().enumerate() {
        for (j, end) in times.iter().enumerate().skip(i) {
            let window = end - start;
            let count = (j - i + 1) as f64;
            assert!(
                count <= effective + RATE * window + 1e-6,
                "{count} requests in {window} s"
            );
        }
    }
}

/// Without the shared limiter, the same ten tasks (each its own connection handle on the same
/// token) do hit the emulator's limit: the limiter is what prevents the 429s above.
#[tokio::test(start_paused = true)]
async fn separate_limiters_on_one_token_do_get_429s() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .rate_limit(RateLimit::per_second(5.0, 5))
        .start()
        .await
        .unwrap();
    let notion = Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(LimiterConfig::new(5.0, 5).unwrap())
            .request_timeout(None)
            .connect_timeout(None),
    )
    .unwrap();
    let page = pid(&emu.demo_ids().root_page);
    let tasks = (0..10).map(|_| {
        let conn = notion.connection("shared".to_owned().into());
        let page = page.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                conn.pages().retrieve(&page).await.unwrap();
            }
        })
    });
    for t in join_all(tasks).await {
        t.unwrap();
    }
    assert!(
        emu.counters().rate_limited > 0,
        "independent limiters overrun the token's budget"
    );
    let _ = fast();
}
