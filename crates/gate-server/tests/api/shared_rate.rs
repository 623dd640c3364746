//! Ten agents sharing one Notion connection through the proxy never see a 429: the gateway's
//! per-connection limiter keeps them under the rate the emulator enforces (3 requests/s, burst
//! 10, as Notion does per integration), and every request reaches Notion exactly once. The same
//! ten clients going to the emulator directly, each with its own SDK and the same token, do
//! see 429s. When the ten read the same page, their identical reads share requests
//! (coalescing). Counts only: no wall-clock assertion.

use gate_core::NewAgentSpec;
use notion_client::ids::PageId;
use notion_client::{ClientConfig, ErrorCode, LimiterConfig, Notion, RetryPolicy};
use notion_emulator::RateLimit;
use secrecy::ExposeSecret;

use crate::test_support::{Gateway, GatewayOpts, spawn_gateway_with};

const AGENTS: usize = 10;
const READS_PER_AGENT: usize = 3;

/// One "SDK" per agent: our Notion client with retries off and no client-side limiter (like
/// Notion's SDKs), so that every 429 it meets surfaces as an error instead of being absorbed.
fn sdk(base: &str, token: &str) -> notion_client::Connection {
    Notion::new(
        ClientConfig::default()
            .base_url(base.to_owned())
            .retry(RetryPolicy::none())
            .limiter(LimiterConfig::new(10_000.0, 10_000).unwrap()),
    )
    .unwrap()
    .connection(token.to_owned().into())
}

async fn ten_agent_keys(gw: &Gateway) -> Vec<String> {
    let alice = gw.gate.authenticate(&gw.alice_key).await.unwrap();
    let mut keys = Vec::new();
    for i in 0..AGENTS {
        let agent = gw
            .gate
            .create_agent(&alice, NewAgentSpec::new(format!("reader-{i}"), "intern"))
            .await
            .unwrap();
        let key = gw
            .gate
            .issue_agent_key(&alice, agent.id, None)
            .await
            .unwrap();
        keys.push(key.key.expose_secret().to_owned());
    }
    keys
}

/// Client `i` reads `pages[i % pages.len()]` `READS_PER_AGENT` times, all clients at once;
/// returns (successes, rate-limited errors, other errors).
async fn run(base: &str, tokens: &[String], pages: &[PageId]) -> (usize, usize, Vec<String>) {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let conn = sdk(base, token);
        let page = pages[i % pages.len()].clone();
        tasks.spawn(async move {
            let mut out = Vec::new();
            for _ in 0..READS_PER_AGENT {
                out.push(conn.pages().retrieve(&page).await.map(|_| ()));
            }
            out
        });
    }
    let (mut ok, mut limited, mut other) = (0, 0, Vec::new());
    while let Some(results) = tasks.join_next().await {
        for r in results.unwrap() {
            match r {
                Ok(()) => ok += 1,
                Err(e) if e.code() == Some(&ErrorCode::RateLimited) => limited += 1,
                Err(e) => other.push(e.to_string()),
            }
        }
    }
    (ok, limited, other)
}

#[tokio::test]
async fn ten_agents_through_the_proxy_never_see_a_429_while_direct_sdks_do() {
    let gw = spawn_gateway_with(GatewayOpts {
        emulator_rate: Some(RateLimit::per_second(3.0, 10)),
        limiter: Some(LimiterConfig::new(3.0, 10).unwrap()),
        ..GatewayOpts::default()
    })
    .await;
    // Each agent reads its own page: no read shares another's request, every one spends
    // budget.
    let root = gw.emu.demo_ids().root_page.clone();
    let pages: Vec<PageId> = (0..AGENTS)
        .map(|i| {
            gw.emu
                .create_page(&root, &format!("page of reader {i}"))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let keys = ten_agent_keys(&gw).await;
    gw.emu.handle().reset_counters();

    // Through the proxy: ten agent keys, one connection behind them.
    let (ok, limited, other) = run(&gw.base, &keys, &pages).await;
    let at_notion = gw.emu.handle().counters();
    assert_eq!(
        other,
        Vec::<String>::new(),
        "no other error through the proxy"
    );
    assert_eq!(limited, 0, "no agent saw a 429 through the proxy");
    assert_eq!(ok, AGENTS * READS_PER_AGENT);
    assert_eq!(
        at_notion.rate_limited, 0,
        "Notion answered no 429: {at_notion:?}"
    );
    assert_eq!(
        at_notion.route("GET /v1/pages/{id}"),
        (AGENTS * READS_PER_AGENT) as u64,
        "each read reached Notion exactly once (no retries spent): {at_notion:?}"
    );

    // The gateway's metrics count every upstream attempt by status and the limiter's waits
    // (the recorder is process-wide, so other tests' series may be there too).
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("notion_upstream_requests_total{status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("notion_limiter_wait_seconds"), "{metrics}");
    // Every read was a policy decision, and every key after the first a cache hit.
    assert!(
        metrics.contains("gate_decisions_total{decision=\"allow\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gate_auth_cache_total{result=\"hit\"}"),
        "{metrics}"
    );

    // Directly: the same ten clients, each with the connection's own token, no gateway. Let
    // the emulator's bucket refill first, so that the direct run starts from a full burst too.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    gw.emu.handle().reset_counters();
    let direct_tokens = vec![gw.notion_token.clone(); AGENTS];
    let (ok, limited, other) = run(&gw.emu.base_url(), &direct_tokens, &pages).await;
    let at_notion = gw.emu.handle().counters();
    assert_eq!(other, Vec::<String>::new(), "only 429s go wrong directly");
    assert!(
        limited > 0,
        "ten direct SDKs sharing a token at 3 req/s are rate limited (ok {ok}, 429 {limited})"
    );
    assert_eq!(at_notion.rate_limited, limited as u64, "{at_notion:?}");
}

/// Ten agents reading the same page through the proxy at once: every read succeeds with no
/// 429, and identical reads waiting together for the connection's limiter share one request.
#[tokio::test]
async fn ten_agents_reading_one_page_share_requests() {
    let gw = spawn_gateway_with(GatewayOpts {
        emulator_rate: Some(RateLimit::per_second(3.0, 10)),
        limiter: Some(LimiterConfig::new(3.0, 10).unwrap()),
        ..GatewayOpts::default()
    })
    .await;
    let page: PageId = gw.emu.demo_ids().root_page.parse().unwrap();
    let keys = ten_agent_keys(&gw).await;
    gw.emu.handle().reset_counters();
    let (ok, limited, other) = run(&gw.base, &keys, &[page]).await;
    let at_notion = gw.emu.handle().counters();
    assert_eq!(other, Vec::<String>::new());
    assert_eq!((ok, limited), (AGENTS * READS_PER_AGENT, 0));
    assert_eq!(at_notion.rate_limited, 0, "{at_notion:?}");
    let sent = at_notion.route("GET /v1/pages/{id}");
    assert!(
        sent < (AGENTS * READS_PER_AGENT) as u64 / 2,
        "identical reads shared requests: {sent} sent for {ok} reads"
    );
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("notion_coalesced_requests_total"),
        "{metrics}"
    );
}
