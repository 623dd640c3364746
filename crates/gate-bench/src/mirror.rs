//! `gate-bench mirror`: the local mirror's sync cost and search speed.
//!
//! 1. First sync of the demo workspace and of a generated workspace (N pages under the demo
//!    root, each with a few paragraphs and a toggle), at a rate limit enforced by the client
//!    and the emulator: requests against the minimum (⌈listed/100⌉ searches plus one children
//!    list per page and per descendable block with children, from the emulator's store) and
//!    time against the rate bound `(minimum − burst) / rate`.
//! 2. A second sync with nothing changed, and one after ten pages were edited (requests).
//! 3. `search_local` over a mirror of M pages (synced without a rate limit): p50/p95 of
//!    `MirrorStore::search` for one-word and two-word queries, of the 24-word vocabulary
//!    (every page matches: FTS5's worst case) and of a realistic one (20,000 words drawn
//!    with Zipf's law, queries drawn the same way).
//! 4. Webhooks (`--webhook-edits N`): the real server in process (port 0) with a synced
//!    mirror of the demo workspace, the emulator sending its webhooks to
//!    `POST /webhooks/notion` and enforcing 3 req/s (burst 10) like Notion, the gateway's
//!    limiter at the same rate. N edits one after the other, each a paragraph with a new
//!    word appended to a demo page through the emulator's API; the time from the API's
//!    answer until `MirrorStore::search` finds the word (polled every 5 ms): min,
//!    p50/p95/max, and the Notion requests the refreshes spent per
//!    edit; on a page of three paragraphs and on the demo's page of every block type (one
//!    children list per block with children).
//!
//! Pages are backdated an hour before the syncs (Notion's `last_edited_time` has minute
//! granularity; a page fetched within the minute of its last edit is fetched again by the
//! next sync, see `gate_mirror::EDIT_GRANULARITY_MS`).

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use gate_mirror::{MirrorStore, SyncOptions, sync};
use notion_client::limiter::Unlimited;
use notion_client::{ClientConfig, Connection, LimiterConfig, Notion};
use notion_emulator::{Emulator, EmulatorHandle, Seed};
use serde_json::{Value, json};

const WORDS: [&str; 24] = [
    "river", "granite", "lantern", "orbit", "saffron", "meadow", "quartz", "harbor", "violet",
    "ember", "glacier", "thistle", "copper", "falcon", "juniper", "nebula", "pebble", "tundra",
    "willow", "zephyr", "cobalt", "marble", "canyon", "breeze",
];

fn paragraph(content: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": content}}]}})
}

/// A sentence of pseudo-random words (deterministic in `seed`).
fn sentence(seed: usize, len: usize) -> String {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            WORDS[(x >> 33) % WORDS.len()]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words of the realistic vocabulary, drawn with Zipf's law (the `r`-th most frequent word
/// has weight 1/r), as natural text is.
const ZIPF_WORDS: usize = 20_000;

/// The `r`-th word of the realistic vocabulary: a pronounceable made-up word.
fn zipf_word(r: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "da", "ve", "gu", "bo", "fe", "ji", "ha",
        "zu", "ce", "wy", "ox", "el",
    ];
    let mut n = r;
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    w.push('n');
    w
}

/// A sentence of the realistic vocabulary (deterministic in `seed`): each word's rank drawn
/// from Zipf's law over [`ZIPF_WORDS`] words.
fn zipf_sentence(cumulative: &[f64], seed: usize, len: usize) -> String {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let mut x = seed.wrapping_mul(2_246_822_519).wrapping_add(3_266_489_917);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let u = ((x >> 11) as f64 / (1u64 << 53) as f64) * total;
            zipf_word(cumulative.partition_point(|c| *c < u))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cumulative Zipf weights of the realistic vocabulary.
fn zipf_cumulative() -> Vec<f64> {
    let mut acc = 0.0;
    (1..=ZIPF_WORDS)
        .map(|r| {
            acc += 1.0 / r as f64;
            acc
        })
        .collect()
}

/// Adds `n` pages under the demo root: three paragraphs of the 24-word vocabulary (every
/// query word is in nearly every page: FTS5's worst case), one of 30 words of the realistic
/// vocabulary, and a toggle with one child each.
fn generate(emu: &EmulatorHandle, n: usize) -> Result<()> {
    let root = emu.demo_ids().root_page.clone();
    let zipf = zipf_cumulative();
    for i in 0..n {
        let page = emu.create_page(&root, &format!("Generated {i} {}", sentence(i, 2)))?;
        let ids = emu.append_children(
            &page,
            vec![
                paragraph(&sentence(i * 3, 12)),
                paragraph(&sentence(i * 3 + 1, 12)),
                paragraph(&sentence(i * 3 + 2, 12)),
                paragraph(&zipf_sentence(&zipf, i, 30)),
                json!({"type": "toggle", "toggle": {"rich_text": [{"type": "text", "text": {"content": "more"}}]}}),
            ],
        )?;
        if let Some(toggle) = ids.last() {
            emu.append_children(toggle, vec![paragraph(&sentence(i * 7, 8))])?;
        }
    }
    Ok(())
}

fn minute(t: time::OffsetDateTime) -> String {
    t.replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn set_edited(emu: &EmulatorHandle, ids: &[String], when: &str) {
    emu.with_store(|s| {
        for id in ids {
            if let Some(p) = s.pages.get_mut(id) {
                p["last_edited_time"] = Value::String(when.to_owned());
            }
        }
    });
}

fn visible_pages(emu: &EmulatorHandle) -> (Vec<String>, usize) {
    emu.with_store(|s| {
        let mut pages: Vec<String> = s
            .pages
            .iter()
            .filter(|(_, p)| p["in_trash"] != json!(true))
            .map(|(id, _)| id.clone())
            .collect();
        pages.sort();
        let sources = s
            .data_sources
            .values()
            .filter(|d| d["in_trash"] != json!(true))
            .count();
        (pages, sources)
    })
}

fn descendable(emu: &EmulatorHandle, id: &str) -> bool {
    emu.get_object(id).is_some_and(|o| {
        o["object"] == "block"
            && !matches!(o["type"].as_str(), Some("child_page" | "child_database"))
            && !emu.child_ids(id).is_empty()
    })
}

fn tree_requests(emu: &EmulatorHandle, root: &str) -> u64 {
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

fn connection(emu: &Emulator, rate: Option<(f64, u32)>) -> Result<Connection> {
    let mut config = ClientConfig::default().base_url(emu.base_url());
    if let Some((r, b)) = rate {
        config = config.limiter(LimiterConfig::new(r, b).map_err(anyhow::Error::msg)?);
    }
    let notion = Notion::new(config)?;
    Ok(match rate {
        Some(_) => notion.connection("bench".to_owned().into()),
        None => notion.connection_with_limiter(
            "bench".to_owned().into(),
            std::sync::Arc::new(Unlimited::default()),
        ),
    })
}

/// One workspace: first sync, unchanged sync, ten edits.
async fn workspace(label: &str, extra_pages: usize, rate: f64, burst: u32) -> Result<()> {
    let emu = crate::rated_demo(rate, burst).await?;
    generate(&emu, extra_pages)?;
    let (pages, sources) = visible_pages(&emu);
    let hour_ago = minute(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    set_edited(&emu, &pages, &hour_ago);
    let min_search = (pages.len() + sources).div_ceil(100) as u64;
    let min_trees: u64 = pages.iter().map(|p| tree_requests(&emu, p)).sum();
    let minimum = min_search + min_trees;
    let conn = connection(&emu, Some((rate, burst)))?;
    let dir = tempfile::tempdir()?;
    let store = MirrorStore::open(dir.path().join("bench"))?;
    // Enough pages in flight to keep the limiter busy (the emulator answers at once).
    let options = SyncOptions::new().concurrency(8, 4);
    emu.reset_counters();
    let start = Instant::now();
    let first = sync(&conn, &store, &options).await?;
    let secs = start.elapsed().as_secs_f64();
    ensure!(first.errors == 0, "the first sync had errors: {first:?}");
    let c = emu.counters();
    let bound = (minimum as f64 - f64::from(burst)).max(0.0) / rate;
    println!(
        "| {label}: first sync | {} pages | {} ({minimum}) | {:.3} | {} | {secs:.1} s | {bound:.1} s | {:.3} |",
        pages.len(),
        c.total,
        c.total as f64 / minimum as f64,
        c.rate_limited,
        secs / bound
    );

    emu.reset_counters();
    let start = Instant::now();
    let second = sync(&conn, &store, &options).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| {label}: second sync, nothing changed | {} fetched | {} | | {} | {secs:.2} s | | |",
        second.fetched,
        emu.counters().total,
        emu.counters().rate_limited
    );

    let edited: Vec<String> = pages.iter().take(10).cloned().collect();
    for id in &edited {
        emu.append_children(id, vec![paragraph("edited for the benchmark")])?;
    }
    set_edited(&emu, &edited, &minute(time::OffsetDateTime::now_utc()));
    let own: u64 = edited.iter().map(|p| tree_requests(&emu, p)).sum();
    emu.reset_counters();
    let start = Instant::now();
    let third = sync(&conn, &store, &options).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| {label}: ten pages edited | {} fetched | {} (their trees: {own}) | | {} | {secs:.2} s | | |",
        third.fetched,
        emu.counters().total,
        emu.counters().rate_limited
    );
    emu.shutdown().await;
    Ok(())
}

/// `search_local` over `pages` generated pages; the sync time excludes generating them.
async fn search_speed(pages: usize, iterations: usize) -> Result<()> {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .context("start the emulator")?;
    let start = Instant::now();
    generate(&emu, pages)?;
    let generating = start.elapsed().as_secs_f64();
    let conn = connection(&emu, None)?;
    let dir = tempfile::tempdir()?;
    let store = MirrorStore::open(dir.path().join("bench"))?;
    let start = Instant::now();
    let report = sync(&conn, &store, &SyncOptions::new().concurrency(16, 4)).await?;
    let build = start.elapsed().as_secs_f64();
    ensure!(report.errors == 0, "sync errors: {report:?}");
    let index_bytes = std::fs::metadata(dir.path().join("bench/index.sqlite"))
        .map(|m| m.len())
        .unwrap_or(0);
    let zipf = zipf_cumulative();
    for (label, words, realistic) in [
        ("one word", 1usize, false),
        ("two words", 2, false),
        ("one word, realistic vocabulary", 1, true),
        ("two words, realistic vocabulary", 2, true),
    ] {
        let mut times = Vec::with_capacity(iterations);
        let mut hits = 0usize;
        for i in 0..iterations {
            // Realistic queries draw their words as the text does (frequent words more often).
            let q = if realistic {
                zipf_sentence(&zipf, 1_000_003 + i * 31 + words, words)
            } else {
                sentence(i * 31 + words, words)
            };
            let t = Instant::now();
            let found = store.search(&q, 10)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            hits += found.len();
        }
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "| search_local, {label}, {} pages | {:.2} ms | {:.2} ms | {:.1} | {:.1} s | {generating:.1} s | {:.1} MB |",
            report.fetched,
            p(0.5),
            p(0.95),
            hits as f64 / iterations as f64,
            build,
            index_bytes as f64 / 1e6
        );
    }
    emu.shutdown().await;
    Ok(())
}

/// Edit → searchable through Notion's webhooks, over `edits` edits.
async fn webhook_latency(edits: usize, rate: f64, burst: u32) -> Result<()> {
    use gate_core::{Gate, GateConfig};
    use secrecy::{ExposeSecret as _, SecretString};
    use std::time::Duration;

    const TOKEN: &str = "secret_bench_webhook_verification";
    // The connection's token, and another one for the edits: a person's edit does not spend
    // the connection's rate, which the refreshes spend.
    const CONNECTION: &str = "ntn_bench_webhooks_0123";
    const EDITOR: &str = "ntn_bench_someone_else";
    let dir = tempfile::tempdir()?;
    let (store, vault) = crate::shared_rate::scratch_store(dir.path()).await?;
    let emu = crate::shared_rate::rated_emulator(CONNECTION, rate, burst).await?;
    emu.add_token(EDITOR);
    let gate = Gate::new(
        GateConfig::new(store, vault)
            .notion(ClientConfig::default().base_url(emu.base_url()))
            .limiter(LimiterConfig::new(rate, burst).map_err(anyhow::Error::msg)?)
            .mirrors(gate_mirror::Mirrors::new(dir.path())),
    )?;
    let (_, admin_key) = gate.bootstrap_admin("admin").await?;
    let admin = gate.authenticate(admin_key.key.expose_secret()).await?;
    let conn_id = gate
        .add_token_connection(
            &admin,
            None,
            SecretString::from("ntn_bench_webhooks_0123".to_owned()),
        )
        .await?
        .id;
    let mirror = gate
        .mirrors()
        .context("mirrors configured")?
        .open(&conn_id.to_string())?;
    let conn = gate.mirror_connection(conn_id).await?;
    let root = emu.demo_ids().root_page.clone();
    let typical = emu.create_page(&root, "Webhook bench page")?;
    emu.append_children(
        &typical,
        (0..3).map(|i| paragraph(&sentence(i, 12))).collect(),
    )?;
    let first = sync(&conn, &mirror, &SyncOptions::new()).await?;
    ensure!(first.errors == 0, "the first sync had errors: {first:?}");

    let base = crate::shared_rate::serve(&gate, &emu).await?;
    emu.set_webhook(Some(notion_emulator::WebhookTarget::new(
        format!("{base}/webhooks/notion"),
        TOKEN,
    )));
    let start = Instant::now();
    while gate.notion_webhook_tokens(conn_id).await?.is_none() {
        ensure!(
            start.elapsed() < Duration::from_secs(10),
            "no webhook handshake"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let http = reqwest::Client::new();
    let pages = [
        ("a page of three paragraphs", typical),
        (
            "the demo page of every block type",
            emu.demo_ids().blocks_page.clone(),
        ),
    ];
    for (label, page) in pages {
        let mut times = Vec::with_capacity(edits);
        emu.reset_counters();
        let delivered = emu.webhook_stats().delivered;
        for i in 0..edits {
            let word = format!("webhookword{i}x{}", page.replace('-', ""));
            let resp = http
                .patch(format!("{}/v1/blocks/{page}/children", emu.base_url()))
                .bearer_auth(EDITOR)
                .header("notion-version", "2025-09-03")
                .json(&json!({"children": [paragraph(&format!("edited: {word}"))]}))
                .send()
                .await?;
            ensure!(resp.status().is_success(), "edit {i}: {}", resp.status());
            let t = Instant::now();
            while mirror.search(&word, 1)?.is_empty() {
                ensure!(
                    t.elapsed() < Duration::from_secs(30),
                    "edit {i} not searchable in 30 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            times.push(t.elapsed());
        }
        let c = emu.counters();
        let refresh_requests = c
            .total
            .saturating_sub(c.route("PATCH /v1/blocks/{id}/children"));
        times.sort();
        let p = |q: f64| {
            times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
        };
        println!(
            "| {label}: {edits} edits, one after the other | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} | {} |",
            times[0].as_secs_f64() * 1000.0,
            p(0.5),
            p(0.95),
            times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            refresh_requests as f64 / edits as f64,
            emu.webhook_stats().delivered - delivered,
        );
    }
    gate.shutdown().await;
    emu.shutdown().await;
    Ok(())
}

/// Runs the benchmark and prints Markdown tables.
pub async fn run(
    pages: usize,
    rate: f64,
    burst: u32,
    search_pages: usize,
    iterations: usize,
    webhook_edits: usize,
) -> Result<()> {
    println!("bench: gate-mirror sync at {rate} req/s (burst {burst}) and search_local speed");
    println!(
        "| run | size | requests (minimum) | requests/minimum | 429s | time | rate bound | time/bound |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    workspace("demo workspace", 0, rate, burst).await?;
    if pages > 0 {
        workspace(&format!("generated +{pages} pages"), pages, rate, burst).await?;
    }
    if search_pages > 0 {
        println!();
        println!(
            "| search | p50 | p95 | hits/query | sync (no rate limit) | generating the pages in the emulator | index size |"
        );
        println!("|---|---|---|---|---|---|---|");
        search_speed(search_pages, iterations).await?;
    }
    if webhook_edits > 0 {
        println!();
        println!(
            "| webhooks: edit → searchable in the mirror ({rate} req/s) | min | p50 | p95 | max | Notion requests per edit | events delivered |"
        );
        println!("|---|---|---|---|---|---|---|");
        webhook_latency(webhook_edits, rate, burst).await?;
    }
    Ok(())
}
