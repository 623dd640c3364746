//! MCP tasks for held calls, with rmcp's client declaring the tasks extension: a held write
//! answers with a task (working, a message that a human must approve, the approval's
//! lifetime as TTL); `tasks/get` follows it to the created page or to the denial with its
//! note; `tasks/cancel` withdraws the approval; nobody else sees the task; over stdio a
//! status notification arrives when the approval ends.

use std::time::Duration;

use crate::mcp::serve_io;
use crate::{AppState, ServerSettings};
use reqwest::Method;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, ClientCapabilities, ClientConfig,
    CreateTaskResult, GetTaskParams, Implementation, ProtocolVersion, TaskPayload, TaskStatus,
    TaskStatusNotificationParams,
};
use rmcp::service::{
    ClientLifecycleMode, ClientServiceExt as _, NotificationContext, RunningService,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::test_support::{Gateway, spawn_gateway};

fn with_tasks() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::builder().enable_tasks().build(),
        Implementation::new("tasks-test", "1.0"),
    )
}

/// A client over the stateless HTTP transport. It uses the per-request lifecycle
/// (`server/discover`, capabilities in each request's `_meta`): a stateless server keeps
/// nothing of an `initialize` handshake, so only this way can it know, per request, that the
/// client takes tasks.
async fn task_client(gw: &Gateway, key: &str) -> RunningService<RoleClient, ClientConfig> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", gw.base)).auth_header(key);
    with_tasks()
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap()
}

fn create(gw: &Gateway, title: &str) -> CallToolRequestParams {
    let root = gw.emu.demo_ids().root_page.clone();
    CallToolRequestParams::new("create_page").with_arguments(
        json!({"parent": {"page_id": root}, "title": title})
            .as_object()
            .cloned()
            .unwrap(),
    )
}

fn task_of(resp: CallToolResponse) -> CreateTaskResult {
    match resp {
        CallToolResponse::Task(t) => t,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// The completed payload's tool result.
fn completed(payload: &TaskPayload) -> Value {
    match payload {
        TaskPayload::Completed { result } => Value::Object(result.clone()),
        other => panic!("expected a completed task, got {other:?}"),
    }
}

#[tokio::test]
async fn a_held_write_is_a_task_followed_to_its_result() {
    let gw = spawn_gateway().await;
    let client = task_client(&gw, gw.agent("supervised")).await;
    let before = gw.emu.counters().route("POST /v1/pages");

    let task = task_of(
        client
            .call_tool_once(create(&gw, "Task page"))
            .await
            .unwrap(),
    )
    .task;
    assert_eq!(task.status, TaskStatus::Working);
    assert!(
        task.status_message
            .as_deref()
            .unwrap()
            .contains("a human must approve"),
        "{task:?}"
    );
    assert_eq!(
        task.ttl_ms,
        Some(24 * 3600 * 1000),
        "the approval's lifetime"
    );
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before);
    let id = task.task_id.clone();

    // The task is the approval: pending for the owner's REST view, unknown to other agents.
    let (status, approval) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(
        (status, approval["status"].as_str()),
        (200, Some("pending"))
    );
    let stranger = task_client(&gw, gw.agent("autonomous")).await;
    assert!(stranger.get_task(GetTaskParams::new(&id)).await.is_err());
    assert!(
        stranger
            .cancel_task(CancelTaskParams::new(&id))
            .await
            .is_err()
    );

    let polled = client.get_task(GetTaskParams::new(&id)).await.unwrap();
    assert_eq!(polled.task.status(), TaskStatus::Working);

    // Approved in the console (REST here): the task completes with the created page.
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/approve"),
            Some(&gw.alice_key),
            Some(json!({"note": "go"})),
        )
        .await;
    assert_eq!(status, 200);
    let done = client.get_task(GetTaskParams::new(&id)).await.unwrap();
    assert_eq!(done.task.status(), TaskStatus::Completed);
    let result = completed(&done.task.payload);
    assert_eq!(result["isError"], false, "{result}");
    let page_id = result["structuredContent"]["id"].as_str().unwrap();
    assert_eq!(result["structuredContent"]["title"], "Task page");
    assert!(gw.emu.get_object(page_id).is_some());
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before + 1);
    // Cancelling a finished task is refused; nothing changes.
    assert!(
        client
            .cancel_task(CancelTaskParams::new(&id))
            .await
            .is_err()
    );

    // Denied: completed with a tool error carrying the note.
    let id = task_of(client.call_tool_once(create(&gw, "Denied")).await.unwrap())
        .task
        .task_id;
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/deny"),
            Some(&gw.alice_key),
            Some(json!({"note": "wrong space"})),
        )
        .await;
    assert_eq!(status, 200);
    let denied = client.get_task(GetTaskParams::new(&id)).await.unwrap();
    let result = completed(&denied.task.payload);
    assert_eq!(result["isError"], true);
    assert_eq!(result["structuredContent"]["error"], "denied");
    assert_eq!(result["structuredContent"]["note"], "wrong space");

    // Cancelled: the approval is withdrawn and can no longer be approved.
    let id = task_of(
        client
            .call_tool_once(create(&gw, "Cancelled"))
            .await
            .unwrap(),
    )
    .task
    .task_id;
    client
        .cancel_task(CancelTaskParams::new(&id))
        .await
        .unwrap();
    let cancelled = client.get_task(GetTaskParams::new(&id)).await.unwrap();
    assert_eq!(cancelled.task.status(), TaskStatus::Cancelled);
    let (status, approval) = gw
        .call(
            Method::GET,
            &format!("/approvals/{id}"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(
        (status, approval["status"].as_str()),
        (200, Some("withdrawn"))
    );
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{id}/approve"),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(gw.emu.counters().route("POST /v1/pages"), before + 1);

    // A client without task support gets today's tool error, naming get_approval.
    let plain = crate::test_support::http_client(&gw, gw.agent("supervised"))
        .await
        .unwrap();
    let r = plain.call_tool(create(&gw, "Plain")).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let reason = r.structured_content.unwrap();
    assert_eq!(reason["error"], "approval_required");
    assert!(reason["message"].as_str().unwrap().contains("get_approval"));
}

/// A client that records task status notifications.
#[derive(Clone)]
struct Notified {
    tx: tokio::sync::mpsc::UnboundedSender<TaskStatusNotificationParams>,
}

impl ClientHandler for Notified {
    fn get_info(&self) -> ClientConfig {
        with_tasks()
    }

    async fn on_task_status(
        &self,
        params: TaskStatusNotificationParams,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.tx.send(params);
    }
}

#[tokio::test]
async fn over_stdio_the_task_ends_with_a_status_notification() {
    let gw = spawn_gateway().await;
    let state = AppState::new(
        gw.gate.clone(),
        ServerSettings::new(gw.base.clone(), gw.emu.base_url()),
    );
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (r, w) = tokio::io::split(server_io);
    let key = SecretString::from(gw.agent("supervised").to_owned());
    let server = tokio::spawn(serve_io(state, key, r, w));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = Notified { tx }.serve(client_io).await.unwrap();

    let task = task_of(
        client
            .call_tool_once(create(&gw, "Stdio page"))
            .await
            .unwrap(),
    )
    .task;
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/approvals/{}/approve", task.task_id),
            Some(&gw.alice_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let note = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("notified")
        .expect("open");
    assert_eq!(note.task.task.task_id, task.task_id);
    assert_eq!(note.task.status(), TaskStatus::Completed);
    let result = completed(&note.task.payload);
    assert!(result["structuredContent"]["id"].is_string(), "{result}");

    client.cancel().await.unwrap();
    server.await.unwrap().unwrap();
}
