//! Administration beside a running `serve`: an agent bound with `--connection`, a second
//! user's own connection with `connect --user`, held writes approved (run once) and denied
//! from the CLI, `audit tail`, and `NOTION_API_KEY` connecting the first user at start.

use std::path::Path;

use notion_emulator::{Emulator, Seed};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, admin_and_connection, fails, ok, run, stderr};

const TOKEN: &str = "ntn_flows_admin_token_0123456789";
const BOB_TOKEN: &str = "ntn_flows_bob_token_0123456789";

async fn json_of(cwd: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(&run(cwd, args, &[]).await)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_and_the_audit_from_the_cli_beside_a_running_server() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN, BOB_TOKEN])
        .start()
        .await
        .unwrap();
    let url = emu.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let state = cwd.join("state");
    let d = state.to_str().unwrap();
    let conn = ok(&admin_and_connection(cwd, d, TOKEN, &url).await)
        .trim()
        .to_owned();

    // Bob connects his own workspace; his agents use it, an admin's agent the named one.
    ok(&run(cwd, &["user", "add", "bob", "--data-dir", d], &[]).await);
    let out = run(
        cwd,
        &[
            "connect",
            "--token",
            BOB_TOKEN,
            "--user",
            "bob",
            "--data-dir",
            d,
            "--notion-url",
            &url,
        ],
        &[],
    )
    .await;
    let bob_conn = ok(&out).trim().to_owned();
    assert_ne!(bob_conn, conn);
    assert!(stderr(&out).contains("'bob'"), "{}", stderr(&out));
    let writer = ok(&run(
        cwd,
        &[
            "agent",
            "add",
            "writer",
            "--maturity",
            "supervised",
            "--connection",
            &conn,
            "--data-dir",
            d,
        ],
        &[],
    )
    .await)
    .trim()
    .to_owned();
    ok(&run(
        cwd,
        &[
            "agent",
            "add",
            "bobs-bot",
            "--maturity",
            "intern",
            "--user",
            "bob",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await);
    let agents = json_of(cwd, &["agent", "list", "--json", "--data-dir", d]).await;
    let conn_of = |name: &str| {
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| a["connection_id"].as_str().unwrap_or_default().to_owned())
            .unwrap()
    };
    assert_eq!(conn_of("writer"), conn);
    assert_eq!(conn_of("bobs-bot"), bob_conn);

    // Two creates held for approval on the running server.
    let server = Server::start("serve", cwd, &state, &["--notion-url", &url]).await;
    let root = emu.demo_ids().root_page.clone();
    let creates = || emu.counters().route("POST /v1/pages");
    let before = creates();
    let mut held = Vec::new();
    for title in ["approve me", "deny me"] {
        let body = json!({"parent": {"page_id": root}, "properties": {"title": title}});
        let (status, answer) = server
            .call(
                Method::POST,
                "/api/v1/notion/pages",
                &writer,
                Some(body),
                &[],
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        held.push(
            answer["error"]["details"]["approval_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let pending = json_of(cwd, &["approvals", "list", "--json", "--data-dir", d]).await;
    let mut ids: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = held.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(ids, want);
    assert_eq!(creates(), before, "nothing written before a decision");

    // Approved from the CLI: it runs once, from the CLI's process.
    let approve = |id: String| {
        let url = url.clone();
        async move {
            let args = [
                "approvals",
                "approve",
                &id,
                "--data-dir",
                d,
                "--notion-url",
                &url,
            ];
            run(cwd, &args, &[]).await
        }
    };
    let out = approve(held[0].clone()).await;
    ok(&out);
    assert!(
        stderr(&out).contains("approved and run"),
        "{}",
        stderr(&out)
    );
    assert_eq!(creates(), before + 1);
    ok(&run(
        cwd,
        &[
            "approvals",
            "deny",
            &held[1],
            "--note",
            "not in the team space",
            "--data-dir",
            d,
        ],
        &[],
    )
    .await);
    // A second approval of the same call is refused and sends nothing.
    let again = approve(held[0].clone()).await;
    assert!(
        fails(&again).contains("cannot approve"),
        "{}",
        stderr(&again)
    );
    assert_eq!(creates(), before + 1, "run exactly once");

    let all = json_of(
        cwd,
        &["approvals", "list", "--all", "--json", "--data-dir", d],
    )
    .await;
    let status_of = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status_of(&held[0]), "executed");
    assert_eq!(status_of(&held[1]), "denied");
    let denied = all.as_array().unwrap().iter().find(|a| a["id"] == held[1]);
    assert_eq!(
        denied.unwrap()["decision_note"],
        "not in the team space",
        "the agent reads the note with the approval"
    );
    let out = run(cwd, &["approvals", "list", "--data-dir", d], &[]).await;
    assert!(ok(&out).is_empty());
    assert!(
        stderr(&out).contains("no pending approvals"),
        "{}",
        stderr(&out)
    );

    // The audit, newest last: the two held creates and the approved run, by agent name.
    let tail = ok(&run(cwd, &["audit", "tail", "-n", "10", "--data-dir", d], &[]).await);
    let lines: Vec<&str> = tail.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 10, "{tail}");
    assert!(
        lines.iter().filter(|l| l.contains("writer")).count() >= 2,
        "{tail}"
    );
    assert!(!tail.contains(TOKEN) && !tail.contains(&writer), "{tail}");
    server.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notion_api_key_at_start_connects_the_first_user_once() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .tokens([TOKEN])
        .workspace_name("Env Workspace")
        .start()
        .await
        .unwrap();
    let url = emu.base_url();
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let state = cwd.join("state");
    let d = state.to_str().unwrap();
    let admin = ok(&run(
        cwd,
        &["user", "add", "root", "--admin", "--data-dir", d],
        &[],
    )
    .await)
    .trim()
    .to_owned();
    ok(&run(cwd, &["user", "add", "later", "--data-dir", d], &[]).await);

    let env = [("NOTION_API_KEY", TOKEN)];
    for start in 1..=2 {
        let server =
            Server::start_with_env("serve", cwd, &state, &["--notion-url", &url], &env).await;
        let (status, list) = server
            .call(Method::GET, "/api/v1/connections", &admin, None, &[])
            .await;
        assert_eq!(status, 200, "start {start}: {list}");
        let conns = list
            .get("results")
            .unwrap_or(&list)
            .as_array()
            .unwrap_or_else(|| panic!("start {start}: {list}"))
            .clone();
        assert_eq!(conns.len(), 1, "start {start}: one connection, {list}");
        assert_eq!(conns[0]["kind"], "token", "{list}");
        assert_eq!(conns[0]["workspace_name"], "Env Workspace", "{list}");
        assert!(!list.to_string().contains(TOKEN));
        // It is the first user's: the administrator reads through it.
        let (status, _) = server
            .call(
                Method::POST,
                "/api/v1/notion/search",
                &admin,
                Some(json!({"query": ""})),
                &[],
            )
            .await;
        assert_eq!(status, 200, "start {start}");
        let (_, log) = server.terminate().await;
        assert!(!log.contains(TOKEN), "the token is never logged");
    }
}
