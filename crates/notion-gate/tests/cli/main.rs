//! The `notion-gate` binary end to end: it is spawned with `--notion-url` pointing at an
//! emulator started in this process, and its exit status, stdout and stderr are checked.

mod admin;
mod crash;
mod flows;
mod mcp_stdio;
mod mirror;
mod sandbox;
mod support;
mod tidy;

use std::process::Output;

use assert_cmd::Command;
use notion_emulator::{Emulator, RateLimit, Seed};
use serde_json::Value;

const TOKEN: &str = "secret_cli_token_0123456789";

/// Runs the binary with these arguments and environment (no inherited Notion variables).
async fn notion_gate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::cargo_bin("notion-gate").expect("the binary is built");
        cmd.env_remove("NOTION_API_KEY")
            .env_remove("NOTION_GATE_NOTION_TOKEN")
            .env_remove("NOTION_GATE_LOG")
            .env_remove("NOTION_GATE_RATE")
            .env_remove("NOTION_GATE_BURST")
            .args(&args);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.output().expect("the binary runs")
    })
    .await
    .expect("the runner does not panic")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .workspace_name("Acme CLI")
        .start()
        .await
        .expect("the emulator starts")
}

/// Blocks below `root` as the emulator stores them, child pages and databases not entered.
fn block_count(emu: &Emulator, root: &str) -> usize {
    emu.child_ids(root)
        .iter()
        .map(|id| {
            let obj = emu.get_object(id).unwrap_or_default();
            let enter = obj["object"] == "block"
                && !matches!(obj["type"].as_str(), Some("child_page" | "child_database"));
            1 + if enter { block_count(emu, id) } else { 0 }
        })
        .sum()
}

fn no_secret(o: &Output) {
    assert!(!stdout(o).contains(TOKEN), "the token is never printed");
    assert!(!stderr(o).contains(TOKEN), "the token is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_readable_and_lists_the_commands() {
    let o = notion_gate(&["--help"], &[]).await;
    assert!(o.status.success());
    let help = stdout(&o);
    assert!(help.contains("export") && help.contains("check"), "{help}");

    let o = notion_gate(
        &["export", "--help"],
        &[("NOTION_GATE_NOTION_TOKEN", TOKEN)],
    )
    .await;
    assert!(o.status.success());
    let help = stdout(&o);
    for needle in [
        "PAGE_ID",
        "--token",
        "--notion-url",
        "--notion-version",
        "--format",
        "--depth",
        "--max-blocks",
        "--out",
        "--rate",
        "--burst",
        "NOTION_GATE_RATE",
        "NOTION_API_KEY",
        "NOTION_GATE_NOTION_TOKEN",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
    no_secret(&o);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_json_to_a_file_holds_the_page_and_every_block() {
    let emu = emulator().await;
    let page = emu.demo_ids().blocks_page.clone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("page.json");
    let o = notion_gate(
        &[
            "export",
            &page,
            "--token",
            TOKEN,
            "--notion-url",
            &emu.base_url(),
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "the output went to the file");
    no_secret(&o);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["page"]["id"], page);
    assert_eq!(doc["truncated"], false);
    assert_eq!(doc["block_count"], block_count(&emu, &page));
    // The nesting is kept: some top-level block carries its children.
    let blocks = doc["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), emu.child_ids(&page).len());
    assert!(blocks.iter().any(|b| b["children"].is_array()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_reads_the_token_from_either_environment_variable() {
    let emu = emulator().await;
    let page = emu.demo_ids().big_page.clone();
    for var in ["NOTION_API_KEY", "NOTION_GATE_NOTION_TOKEN"] {
        let o = notion_gate(
            &[
                "export",
                &page,
                "--notion-url",
                &emu.base_url(),
                "--format",
                "json",
            ],
            &[(var, TOKEN)],
        )
        .await;
        assert!(o.status.success(), "{var}: {}", stderr(&o));
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(doc["block_count"], 250);
        no_secret(&o);
    }
    let o = notion_gate(&["export", &page, "--notion-url", &emu.base_url()], &[]).await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no Notion token"), "{}", stderr(&o));

    // The base URL from NOTION_GATE_NOTION_URL, as for every command that talks to Notion.
    let base = emu.base_url();
    let env = [
        ("NOTION_API_KEY", TOKEN),
        ("NOTION_GATE_NOTION_URL", base.as_str()),
    ];
    let o = notion_gate(&["export", &page, "--format", "json"], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["block_count"], 250);
    let o = notion_gate(&["check"], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    no_secret(&o);
}

/// `--rate`/`--burst` (or `NOTION_GATE_RATE`/`NOTION_GATE_BURST`, as for `serve`) set the
/// client-side limiter: paced below the upstream's limit there is no 429; `--rate 0` sends
/// without a limit, and an upstream that allows less answers 429s (waited out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_paces_itself_by_rate_and_burst() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .rate_limit(RateLimit::per_second(5.0, 2))
        .start()
        .await
        .expect("the emulator starts");
    let page = emu.demo_ids().big_page.clone();
    let base = emu.base_url();
    let export = |extra: &'static [&'static str], env: &'static [(&'static str, &'static str)]| {
        let mut args = vec![
            "export".to_owned(),
            page.clone(),
            "--token".to_owned(),
            TOKEN.to_owned(),
            "--notion-url".to_owned(),
            base.clone(),
            "--format".to_owned(),
            "json".to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            notion_gate(&args, env).await
        }
    };
    // Four requests one after the other (the page, three pages of children).
    let o = export(&["--rate", "2", "--burst", "2"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["block_count"], 250);
    assert_eq!(
        emu.counters().rate_limited,
        0,
        "paced below the upstream's limit"
    );

    emu.reset_counters();
    let o = export(&[], &[("NOTION_GATE_RATE", "0")]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["block_count"], 250);
    assert!(
        emu.counters().rate_limited > 0,
        "no client-side limit: the upstream's limit is met"
    );

    for (bad, named) in [
        (&["--rate=-1"][..], "invalid --rate"),
        (&["--rate", "fast"][..], "invalid --rate"),
        (&["--burst", "0"][..], "invalid --burst"),
    ] {
        let o = export(bad, &[]).await;
        assert!(!o.status.success());
        assert!(stderr(&o).contains(named), "{}", stderr(&o));
    }
    let o = export(&[], &[("NOTION_GATE_BURST", "none")]).await;
    assert!(stderr(&o).contains("NOTION_GATE_BURST"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_reports_caps_on_stderr_and_in_the_document() {
    let emu = emulator().await;
    let page = emu.demo_ids().blocks_page.clone();
    let o = notion_gate(
        &[
            "export",
            &page,
            "--token",
            TOKEN,
            "--notion-url",
            &emu.base_url(),
            "--format",
            "json",
            "--depth",
            "1",
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["truncated"], true);
    assert_eq!(doc["block_count"], emu.child_ids(&page).len());
    assert!(!doc["unexpanded"].as_array().unwrap().is_empty());
    assert!(stderr(&o).contains("depth cap of 1"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_what_went_wrong_and_exit_non_zero() {
    let emu = emulator().await;
    let base = emu.base_url();
    let page = emu.demo_ids().root_page.clone();

    let o = notion_gate(
        &[
            "export",
            "not-a-page",
            "--token",
            TOKEN,
            "--notion-url",
            &base,
        ],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("invalid PAGE_ID"), "{}", stderr(&o));

    let wrong = "secret_wrong_token_987";
    let o = notion_gate(
        &["export", &page, "--token", wrong, "--notion-url", &base],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("the token was refused by Notion"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(wrong));

    let o = notion_gate(
        &[
            "export",
            "0123456789abcdef0123456789abcdef",
            "--token",
            TOKEN,
            "--notion-url",
            &base,
        ],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not found or not shared with the integration"),
        "{}",
        stderr(&o)
    );
    no_secret(&o);

    let o = notion_gate(
        &[
            "export",
            &page,
            "--token",
            TOKEN,
            "--notion-url",
            &base,
            "--notion-version",
            "latest",
        ],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--notion-version"), "{}", stderr(&o));

    let o = notion_gate(
        &["export", &page, "--token", TOKEN, "--notion-url", "ftp://x"],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--notion-url"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_prints_the_workspace_and_the_bot() {
    let emu = emulator().await;
    let o = notion_gate(
        &["check", "--token", TOKEN, "--notion-url", &emu.base_url()],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("workspace: Acme CLI"), "{out}");
    assert!(out.contains(&format!("bot id: {}", emu.bot_id())), "{out}");
    no_secret(&o);

    let o = notion_gate(
        &["check", "--token", "nope", "--notion-url", &emu.base_url()],
        &[],
    )
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the token was refused by Notion"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_markdown_by_default_and_text_on_request() {
    let emu = emulator().await;
    let ids = emu.demo_ids().clone();
    let base = emu.base_url();
    let o = notion_gate(
        &[
            "export",
            &ids.blocks_page,
            "--token",
            TOKEN,
            "--notion-url",
            &base,
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with("# "), "a title heading first: {md}");
    // Nested content is there: the text of a nested toggle child.
    let nested = emu
        .get_object(&ids.blocks["toggle_nested"])
        .expect("the demo has a nested toggle child");
    let kind = nested["type"].as_str().unwrap_or_default();
    let first_word = nested[kind]["rich_text"][0]["plain_text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {nested}"));
    assert!(md.contains(first_word), "{first_word:?} in {md}");

    let o = notion_gate(
        &[
            "export",
            &ids.rows[0],
            "--token",
            TOKEN,
            "--notion-url",
            &base,
            "--format",
            "text",
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.starts_with('#'));
    assert!(
        text.lines().nth(2).is_some_and(|l| l.contains(": ")),
        "properties follow the title: {text}"
    );
    no_secret(&o);
}
