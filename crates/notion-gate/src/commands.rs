//! The commands: `export` (a page and its block tree, rendered) and `check` (who the token
//! is).

use std::io::Write;

use anyhow::{Context, Result, anyhow};
use notion_client::models::UserKind;
use notion_client::tree::{TreeOptions, fetch_tree};

use crate::cli::{CheckArgs, ExportArgs, Format};
use crate::connect::{self, explain};
use crate::progress::Progress;
use crate::render;

/// Requests in flight of an export without a client-side rate limit (`--rate 0`).
const UNLIMITED_CONCURRENCY: usize = 64;

/// `notion-gate export PAGE_ID …`.
pub async fn export(args: ExportArgs) -> Result<()> {
    let page_id = connect::page_id(&args.page_id)?;
    if args.concurrency == Some(0) {
        return Err(anyhow!(
            "invalid --concurrency 0: at least 1 request must be in flight"
        ));
    }
    let limiter = crate::config::export_limiter(args.rate.as_deref(), args.burst.as_deref())?;
    // Without a client-side limit, the widest level of the tree is what helps: as many
    // requests in flight as `fetch_tree` takes for an unlimited connection.
    let concurrency = args.concurrency.unwrap_or(match limiter {
        Some(_) => notion_client::tree::DEFAULT_CONCURRENCY,
        None => UNLIMITED_CONCURRENCY,
    });
    let conn = connect::connection_limited(&args.notion, limiter)?;
    let base = args.notion.notion_url.as_str();
    let what = format!("page {}", page_id.canonical());
    let progress = Progress::for_stderr();

    let mut options = TreeOptions::new()
        .max_depth(args.depth)
        .max_blocks(args.max_blocks)
        .concurrency(concurrency)
        .include_child_pages(args.include_child_pages);
    if progress.is_visible() {
        let bar = progress.clone();
        options = options.progress(move |p| bar.update(p));
    }
    // The page object and its block tree do not depend on each other: both are asked at
    // once, one round trip fewer. The page's error, if any, is the one reported.
    progress.phase("fetching the page and its blocks");
    let pages = conn.pages();
    let root = page_id.cast();
    let (page, tree) = tokio::join!(pages.retrieve(&page_id), fetch_tree(&conn, &root, &options));
    progress.finish();
    let page = page.map_err(|e| explain(e, &what, base))?;
    tracing::info!(
        blocks = tree.len(),
        requests = tree.requests,
        retries = tree.stats.retries,
        limiter_wait_ms = tree.stats.limiter_wait.as_millis() as u64,
        "fetched the block tree"
    );
    if let Some(err) = tree.error {
        let fetched = tree.children.values().map(Vec::len).sum::<usize>();
        return Err(explain(err, &what, base).context(format!(
            "fetching the blocks of {what} failed after {fetched} blocks"
        )));
    }

    let rendered = match args.format {
        Format::Blocks => render::json(&page, &tree).context("encode the JSON")?,
        Format::Markdown => render::markdown(&page, &tree),
        Format::Text => render::text(&page, &tree),
    };
    match &args.out {
        Some(path) => std::fs::write(path, rendered.as_bytes())
            .with_context(|| format!("write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(rendered.as_bytes())
                .and_then(|()| stdout.flush())
                .context("write to stdout")?;
        }
    }
    if tree.truncated {
        let reasons: Vec<String> = tree.truncation.iter().map(ToString::to_string).collect();
        eprintln!(
            "note: the export is incomplete ({}): {} block(s) with children were not expanded",
            reasons.join(", "),
            tree.unexpanded.len()
        );
    }
    Ok(())
}

/// `notion-gate check`: `GET /v1/users/me`, then the workspace name and the bot id.
pub async fn check(args: CheckArgs) -> Result<()> {
    let conn = connect::connection(&args.notion)?;
    let me = conn
        .users()
        .me()
        .await
        .map_err(|e| explain(e, "the bot user", &args.notion.notion_url))?;
    let workspace = match &me.kind {
        Some(UserKind::Bot(bot)) => bot.workspace_name.as_ref().cloned(),
        _ => None,
    };
    println!(
        "workspace: {}",
        workspace.as_deref().unwrap_or("(not named in the answer)")
    );
    println!("bot id: {}", me.id.canonical());
    if let Some(name) = me.name.as_ref() {
        println!("bot name: {name}");
    }
    Ok(())
}
