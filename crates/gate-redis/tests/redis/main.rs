//! The Redis limiter against a real Redis (`TEST_REDIS_URL`, set by `.ci/run`; every test is
//! skipped with a notice when it is unset): burst and wait values computed by the script,
//! one budget shared by two instances under concurrency, the rate over a run measured on
//! Redis's own clock, shared pauses, and the local fallback when Redis is unreachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gate_redis::{RedisLimiter, RedisLimiters};
use notion_client::{LimiterConfig, RateLimiter};

fn redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok();
    if url.is_none() {
        eprintln!("\nNOTICE: TEST_REDIS_URL is not set: the Redis limiter test is SKIPPED.\n");
    }
    url
}

/// A key no other test (or run) uses.
fn fresh_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn config(rate: f64, burst: u32, headroom: u32) -> LimiterConfig {
    LimiterConfig::new(rate, burst)
        .unwrap()
        .with_headroom(headroom)
}

/// Redis's clock in µs.
async fn redis_now_us(url: &str) -> u64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let (s, us): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
    s * 1_000_000 + us
}

#[tokio::test]
async fn burst_minus_headroom_goes_at_once_then_the_script_computes_the_wait() {
    let Some(url) = redis_url() else { return };
    // 1 request/s, burst 10, headroom 1: nine at once, the tenth waits up to one second.
    let limiters = RedisLimiters::new(&url, config(1.0, 10, 1)).unwrap();
    limiters.check().await.unwrap();
    let limiter = limiters.limiter(&fresh_key());
    for i in 0..9 {
        assert_eq!(
            limiter.try_acquire().await.unwrap(),
            None,
            "request {i} of the burst"
        );
    }
    let wait = limiter
        .try_acquire()
        .await
        .unwrap()
        .expect("the tenth must wait");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(1),
        "one period at most: {wait:?}"
    );
    // A refused attempt consumes nothing: asking again gives (about) the same wait.
    let again = limiter.try_acquire().await.unwrap().expect("still waiting");
    assert!(again <= wait, "{again:?} > {wait:?}");
    assert!(!limiter.degraded());
}

#[tokio::test]
async fn two_instances_share_one_budget_under_concurrency() {
    let Some(url) = redis_url() else { return };
    // Two "instances": separate connections, same key. 0.5 request/s, burst 5, no headroom.
    let key = fresh_key();
    let a = Arc::new(
        RedisLimiters::new(&url, config(0.5, 5, 0))
            .unwrap()
            .limiter(&key),
    );
    let b = Arc::new(
        RedisLimiters::new(&url, config(0.5, 5, 0))
            .unwrap()
            .limiter(&key),
    );
    let t0 = redis_now_us(&url).await;
    let admitted = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let l: Arc<RedisLimiter> = if i % 2 == 0 { a.clone() } else { b.clone() };
        let admitted = admitted.clone();
        tasks.push(tokio::spawn(async move {
            if l.try_acquire().await.unwrap().is_none() {
                admitted.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed_s = (redis_now_us(&url).await - t0) as f64 / 1e6;
    let admitted = admitted.load(Ordering::Relaxed);
    // Exactly the burst, plus whatever the rate earned meanwhile (Redis's clock).
    let bound = 5 + (elapsed_s * 0.5).floor() as u32;
    assert!(
        (5..=bound).contains(&admitted),
        "admitted {admitted} of 40, bound {bound} after {elapsed_s:.3} s"
    );
}

#[tokio::test]
async fn acquirers_on_two_instances_keep_the_rate_on_redis_clock() {
    let Some(url) = redis_url() else { return };
    // 20 request/s, burst 4, no headroom; 34 acquisitions from 6 tasks on two instances.
    let key = fresh_key();
    let a = Arc::new(
        RedisLimiters::new(&url, config(20.0, 4, 0))
            .unwrap()
            .limiter(&key),
    );
    let b = Arc::new(
        RedisLimiters::new(&url, config(20.0, 4, 0))
            .unwrap()
            .limiter(&key),
    );
    let t0 = redis_now_us(&url).await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let l: Arc<RedisLimiter> = if i % 2 == 0 { a.clone() } else { b.clone() };
        let n = if i < 4 { 6 } else { 5 };
        tasks.push(tokio::spawn(async move {
            for _ in 0..n {
                l.acquire().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed_s = (redis_now_us(&url).await - t0) as f64 / 1e6;
    // GCRA: 34 admissions need at least (34 - 4) intervals of 50 ms.
    assert!(
        elapsed_s >= 30.0 * 0.05 - 0.01,
        "34 admissions at 20/s burst 4 finished after {elapsed_s:.3} s"
    );
    assert!(!a.degraded() && !b.degraded());
}

#[tokio::test]
async fn a_pause_on_one_instance_stops_the_other() {
    let Some(url) = redis_url() else { return };
    let key = fresh_key();
    let a = RedisLimiters::new(&url, config(100.0, 100, 0))
        .unwrap()
        .limiter(&key);
    let b = RedisLimiters::new(&url, config(100.0, 100, 0))
        .unwrap()
        .limiter(&key);
    assert_eq!(b.try_acquire().await.unwrap(), None);
    a.pause(Duration::from_secs(30)).await;
    a.pause(Duration::from_secs(2)).await; // shorter: does not shorten the first
    let wait = b.try_acquire().await.unwrap().expect("paused");
    assert!(
        wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
}

#[tokio::test]
async fn unreachable_redis_falls_back_to_the_local_limiter() {
    // Needs no Redis: port 1 refuses connections.
    let limiters = RedisLimiters::new("redis://:hunter2@127.0.0.1:1", config(0.1, 3, 0)).unwrap();
    let err = limiters.check().await.unwrap_err().to_string();
    assert!(!err.contains("hunter2"), "the password leaked: {err}");
    let limiter = limiters.limiter(&fresh_key());
    assert!(!limiter.degraded());
    // The burst of 3 goes through the fallback; the fourth waits ten seconds locally.
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(5), limiter.acquire())
            .await
            .expect("the fallback admits the burst");
    }
    assert!(limiter.degraded(), "the fallback is in use");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), limiter.acquire())
            .await
            .is_err(),
        "the fallback still limits"
    );
    assert!(format!("{limiter:?}").contains("degraded: true"));
}

#[test]
fn a_bad_url_is_a_clear_error_without_the_url() {
    let err = RedisLimiters::new("http://user:hunter2@x", LimiterConfig::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("NOTION_GATE_REDIS_URL"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[tokio::test]
async fn approval_changes_published_by_one_instance_reach_the_other() {
    use futures::StreamExt as _;
    use gate_core::ApprovalBus as _;
    let Some(url) = redis_url() else { return };
    let here = gate_redis::RedisApprovalBus::new(&url).unwrap();
    let there = gate_redis::RedisApprovalBus::new(&url).unwrap();
    let mut changes = here.subscribe().await.unwrap();
    let id = gate_store::ApprovalId::new();
    // Published until seen (a subscription may take a moment to be active on the server).
    let seen = async {
        loop {
            there.publish(id).await;
            match tokio::time::timeout(Duration::from_millis(200), changes.next()).await {
                Ok(Some(got)) if got == id => return,
                Ok(None) => panic!("the subscription ended"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), seen)
        .await
        .expect("the change arrived");
    assert!(gate_redis::RedisApprovalBus::new("http://nope").is_err());
}
