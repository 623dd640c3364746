//! `notion-gate sandbox`: port 0, the admin key file, the three HTTP surfaces, a clean
//! shutdown on SIGTERM with the audit flushed, a restart that creates no second admin, and
//! `agent set-maturity` taking effect on a running server.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Server, fails, ok, run, search};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serves_every_surface_and_flushes_the_audit_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start("sandbox", tmp.path(), &data, &[]).await;
    let log = server.log();
    assert!(log.contains("First start"), "{log}");

    // The admin key file: 0600, and the key in the startup log.
    let key_file = data.join("sandbox-admin.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let admin = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_owned();
    assert!(admin.starts_with("ngu_"), "{admin}");
    assert!(log.contains(&admin), "the key is printed at start");

    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // An agent for the admin's demo connection, made while the server runs.
    let data_arg = data.to_str().unwrap();
    let out = run(
        tmp.path(),
        &[
            "agent",
            "add",
            "bot",
            "--maturity",
            "intern",
            "--data-dir",
            data_arg,
        ],
        &[],
    )
    .await;
    let agent = ok(&out);
    assert_eq!(agent.lines().count(), 1, "only the key: {agent:?}");
    let agent = agent.trim();
    assert!(agent.starts_with("nga_"), "{agent}");

    // REST, the tool endpoint and the Notion-compatible proxy.
    assert_eq!(search(&server, agent).await, 200);
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/tools/notion",
            agent,
            Some(json!({"action": "search", "params": {"query": "Launch"}})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/search",
            agent,
            Some(json!({"page_size": 2})),
            &[("Notion-Version", "2026-03-11")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "list", "Notion's own shape: {body}");
    // The admin key works too (a user's own key).
    let (status, body) = server
        .call(Method::GET, "/api/v1/me", &admin, None, &[])
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, log) = server.terminate().await;
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("audit flushed"), "{log}");
    assert!(!data.join("sandbox-notion.url").exists());

    // Every call is in the audit, written before the exit.
    let out = run(
        tmp.path(),
        &["audit", "export", "--data-dir", data_arg],
        &[],
    )
    .await;
    let lines: Vec<Value> = ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let surfaces: Vec<&str> = lines.iter().filter_map(|l| l["surface"].as_str()).collect();
    assert_eq!(surfaces, ["rest", "tool", "proxy"]);

    // A restart: no second administrator, the same admin key, the agent still works.
    let server = Server::start("sandbox", tmp.path(), &data, &[]).await;
    assert!(!server.log().contains("First start"), "{}", server.log());
    let again = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(again.trim(), admin);
    assert_eq!(search(&server, agent).await, 200);
    let (status, _) = server.terminate().await;
    assert!(status.success());
    let out = run(
        tmp.path(),
        &["user", "list", "--json", "--data-dir", data_arg],
        &[],
    )
    .await;
    let users: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_maturity_and_disable_change_what_a_running_server_allows() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_str().unwrap();
    // `sandbox` ignores --notion-url (nothing listens on port 9): the reads below reach its
    // in-process emulator.
    let server = Server::start(
        "sandbox",
        tmp.path(),
        &data,
        &["--cache-ttl", "0.2", "--notion-url", "http://127.0.0.1:9"],
    )
    .await;
    let out = run(
        tmp.path(),
        &[
            "agent",
            "add",
            "learner",
            "--maturity",
            "student",
            "--data-dir",
            data_arg,
        ],
        &[],
    )
    .await;
    let key = ok(&out).trim().to_owned();
    assert_eq!(search(&server, &key).await, 403, "a student may not read");

    let out = run(
        tmp.path(),
        &[
            "agent",
            "set-maturity",
            "learner",
            "intern",
            "--data-dir",
            data_arg,
        ],
        &[],
    )
    .await;
    ok(&out);
    assert!(crate::support::stderr(&out).contains("now intern"));
    assert!(
        eventually(&server, &key, 200).await,
        "an intern may read once the server's cache has expired"
    );

    // By id as well; a bad level names itself.
    let out = run(
        tmp.path(),
        &["agent", "list", "--json", "--data-dir", data_arg],
        &[],
    )
    .await;
    let agents: Value = serde_json::from_str(&ok(&out)).unwrap();
    let id = agents[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(agents[0]["maturity"], "intern");
    let out = run(
        tmp.path(),
        &[
            "agent",
            "set-maturity",
            &id,
            "wizard",
            "--data-dir",
            data_arg,
        ],
        &[],
    )
    .await;
    assert!(
        fails(&out).contains("invalid LEVEL"),
        "{}",
        crate::support::stderr(&out)
    );

    let out = run(
        tmp.path(),
        &["agent", "disable", &id, "--data-dir", data_arg],
        &[],
    )
    .await;
    ok(&out);
    assert!(
        eventually(&server, &key, 403).await,
        "a disabled agent is refused"
    );
    let (status, _) = server.terminate().await;
    assert!(status.success());
}

/// Whether a search as `key` answers `want` within a few seconds.
async fn eventually(server: &Server, key: &str, want: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if search(server, key).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_only_sandbox_starts_and_refuses_every_notion_call() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start("sandbox", tmp.path(), &data, &["--local-only"]).await;
    let admin = std::fs::read_to_string(data.join("sandbox-admin.key")).unwrap();
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/notion/search",
            admin.trim(),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "local_only", "{body}");
    let (status, _) = server.terminate().await;
    assert!(status.success());
}
