//! MCP tasks for held calls: the `io.modelcontextprotocol/tasks` extension (SEP-2663, the
//! successor of the 2025-11-25 specification's tasks, as the pinned rmcp implements it:
//! `tasks/get` carries the final result, `tasks/cancel` asks to stop; there is no separate
//! `tasks/result` or `tasks/list`).
//!
//! When the client declares the extension, a write held for a human's approval answers with a
//! task instead of the `approval_required` tool error. The task **is** the approval: its id is
//! the approval id, its status follows the approval, its TTL is the approval's lifetime, and
//! only the agent that asked sees it (someone else's is an unknown task, as for an id that
//! does not exist):
//!
//! | approval | task |
//! |---|---|
//! | `pending`, `approved`, `executing` | `working`, with a message saying what it waits for |
//! | `executed` | `completed`: the call's tool result (Notion's answer in compact form) |
//! | `failed`, `denied`, `expired` | `completed` with a tool error (`isError`): why, with the decider's note |
//! | `withdrawn` | `cancelled` |
//!
//! `tasks/cancel` withdraws a pending approval. Over stdio, a status notification
//! (`notifications/tasks`) is sent when the approval ends; over the stateless HTTP transport
//! the client polls `tasks/get`. Only this module knows both rmcp's task types and the gate's
//! approvals; it decides nothing.

use gate_core::ApprovalView;
use gate_store::ApprovalStatus;
use rmcp::model::{
    CallToolResult, ContentBlock, CreateTaskResult, DetailedTask, Task, TaskPayload, TaskStatus,
};
use serde_json::{Value, json};

use super::results;
use crate::routes::agents::rfc3339;
use crate::routes::notion::compact_result;

/// How often a client should poll `tasks/get`, in milliseconds.
pub const POLL_INTERVAL_MS: u64 = 2_000;

/// The base task of an approval as it stands.
fn task(view: &ApprovalView, status: TaskStatus) -> Task {
    let a = &view.approval;
    let updated = a.finished_at.or(a.decided_at).unwrap_or(a.created_at);
    let ttl = (a.expires_at - a.created_at).whole_milliseconds();
    let mut task = Task::new(
        a.id.to_string(),
        status,
        rfc3339(a.created_at),
        rfc3339(updated),
    )
    .with_ttl_ms(u64::try_from(ttl).unwrap_or(0))
    .with_poll_interval_ms(POLL_INTERVAL_MS);
    if let Some(message) = status_message(view) {
        task = task.with_status_message(message);
    }
    task
}

fn status_message(view: &ApprovalView) -> Option<String> {
    let id = view.id();
    Some(match view.status {
        ApprovalStatus::Pending => format!(
            "a human must approve this call in notion-gate (approval {id}) before it runs; it \
             runs once when approved. Poll tasks/get; tasks/cancel withdraws it"
        ),
        ApprovalStatus::Approved | ApprovalStatus::Executing => {
            "approved by a human; the call is running".to_owned()
        }
        ApprovalStatus::Executed => "approved and run once".to_owned(),
        ApprovalStatus::Failed => "approved, but the run failed".to_owned(),
        ApprovalStatus::Denied => match &view.note {
            Some(note) => format!("denied by a human: {note}"),
            None => "denied by a human".to_owned(),
        },
        ApprovalStatus::Expired => "nobody approved it in time".to_owned(),
        ApprovalStatus::Withdrawn => "withdrawn".to_owned(),
        _ => return None,
    })
}

/// The tool result a finished approval completes its task with.
fn tool_result(view: &ApprovalView) -> CallToolResult {
    let a = &view.approval;
    let refusal = |error: &str, message: &str, extra: Value| {
        let mut reason = json!({
            "error": error,
            "message": message,
            "approval_id": a.id.to_string(),
            "note": view.note,
        });
        if let (Some(obj), Value::Object(more)) = (reason.as_object_mut(), extra) {
            obj.extend(more);
        }
        let text = serde_json::to_string(&reason).unwrap_or_default();
        let mut out = CallToolResult::error(vec![ContentBlock::text(text)]);
        out.structured_content = Some(reason);
        out
    };
    match view.status {
        ApprovalStatus::Executed => {
            let request = serde_json::from_str(&a.request.request_json).unwrap_or(Value::Null);
            let answer = view.result.clone().unwrap_or(Value::Null);
            results::success(
                gate_policy::ToolAction::GetApproval,
                compact_result(&a.request.operation, &request, &answer),
                None,
            )
        }
        ApprovalStatus::Denied => refusal(
            "denied",
            "a human denied this call; it did not run, and repeating it would be denied again",
            Value::Null,
        ),
        ApprovalStatus::Expired => refusal(
            "expired",
            "nobody approved this call in time; it did not run",
            Value::Null,
        ),
        _ => refusal(
            "failed",
            "the call was approved but its run failed",
            json!({"detail": view.error, "notion_status": a.result_status}),
        ),
    }
}

/// The task of an approval with its payload (`tasks/get`, status notifications).
pub fn detailed(view: &ApprovalView) -> DetailedTask {
    let payload = match view.status {
        ApprovalStatus::Withdrawn => TaskPayload::Cancelled,
        s if s.is_final() => {
            let result = serde_json::to_value(tool_result(view))
                .ok()
                .and_then(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .unwrap_or_default();
            TaskPayload::Completed { result }
        }
        _ => TaskPayload::Working,
    };
    DetailedTask::new(task(view, TaskStatus::Working), payload)
}

/// The answer to a `tools/call` that was held: a task seeded with the approval's state.
pub fn created(view: &ApprovalView) -> CreateTaskResult {
    let d = detailed(view);
    CreateTaskResult::new(d.task)
}
