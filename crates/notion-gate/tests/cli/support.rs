//! Helpers for the gateway commands: run the binary in a scratch folder with a clean
//! environment, start `sandbox` on port 0 and read its address from the log, stop it with
//! SIGTERM.
#![allow(dead_code)] // Each test module uses a different part of it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_notion-gate");

/// The binary with no inherited configuration, run in `cwd`.
pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("NOTION_") || name.starts_with("ATOM_") || name == "RUST_LOG" {
            cmd.env_remove(&name);
        }
    }
    cmd.current_dir(cwd);
    cmd
}

/// Runs the binary to completion (off the async runtime's threads).
pub async fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(cwd);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .expect("the runner does not panic")
}

/// Adds the first administrator (`root`) to the data folder `data`, then connects it with
/// `token` to the Notion at `notion_url`; returns `connect`'s output (the connection id on
/// stdout).
pub async fn admin_and_connection(cwd: &Path, data: &str, token: &str, notion_url: &str) -> Output {
    ok(&run(
        cwd,
        &["user", "add", "root", "--admin", "--data-dir", data],
        &[],
    )
    .await);
    run(
        cwd,
        &[
            "connect",
            "--token",
            token,
            "--notion-url",
            notion_url,
            "--data-dir",
            data,
        ],
        &[],
    )
    .await
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Asserts failure and returns stderr.
pub fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure\nstdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    stderr(o)
}

/// A running `notion-gate sandbox` (or `serve`).
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `notion-gate <command> --listen 127.0.0.1:0 --data-dir DIR <extra…>` and waits
    /// for "listening on http://…" in its log.
    pub async fn start(command: &str, cwd: &Path, data_dir: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(command, cwd, data_dir, extra, &[]).await
    }

    /// [`Server::start`] with these environment variables set.
    pub async fn start_with_env(
        command: &str,
        cwd: &Path,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut cmd = self::command(cwd);
        cmd.envs(env.iter().copied());
        cmd.arg(command)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..].trim().to_owned();
                    let _ = tx.send(url);
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap();
        let base = match base {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", log.lock().unwrap());
            }
        };
        Server {
            child,
            base,
            data_dir: data_dir.to_owned(),
            log,
        }
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (at most `timeout`) for the process to exit on its own, and reaps it.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return (status, self.log());
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `METHOD base+path` with a bearer key and an optional JSON body: status and body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A REST search as `key`: the status.
pub async fn search(server: &Server, key: &str) -> u16 {
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/api/v1/notion/search",
            key,
            Some(serde_json::json!({"query": ""})),
            &[],
        )
        .await;
    if status >= 500 {
        eprintln!("search answered {status}: {body}\n{}", server.log());
    }
    status
}
