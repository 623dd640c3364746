//! Async tasks: answered 202 by operations sent with `allow_async: true` (Markdown updates),
//! polled with `GET /v1/async_tasks/{id}`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::ids::AsyncTaskId;

string_enum! {
    /// Where a task is.
    pub enum AsyncTaskStatus {
        /// Waiting to run.
        Queued = "queued",
        /// Running.
        Running = "running",
        /// Failed once; will run again.
        Retrying = "retrying",
        /// Done: `result` holds what the synchronous call would have returned.
        Succeeded = "succeeded",
        /// Failed: `error` holds an error envelope.
        Failed = "failed",
    }
}

/// The operation a task runs: `{surface: "rest" | "mcp", name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AsyncOperation {
    /// `rest` or `mcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<String>,
    /// Such as `PATCH /v1/pages/:page_id/markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An async task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AsyncTask {
    /// The task's ID (`task_…`).
    pub id: AsyncTaskId,
    /// Where it is.
    pub status: AsyncTaskStatus,
    /// Where to poll it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    /// When created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// What it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<AsyncOperation>,
    /// How long to wait before polling again (queued, running, retrying).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_after_seconds: Option<serde_json::Number>,
    /// The result, once succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error envelope, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The request ID (top-level responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every other field (`object`, …), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AsyncTask {
    /// Whether the task has finished (succeeded or failed).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            AsyncTaskStatus::Succeeded | AsyncTaskStatus::Failed
        )
    }

    /// The result decoded as `T` (a succeeded task), `None` while it runs, or the task's
    /// error as an [`Error`] (a failed task).
    pub fn result_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        match self.status {
            AsyncTaskStatus::Succeeded => {
                let body = serde_json::to_vec(self.result.as_ref().unwrap_or(&Value::Null))
                    .map_err(|e| Error::InvalidRequest(format!("task result: {e}")))?;
                crate::client::decode(&body, self.request_id.clone()).map(Some)
            }
            AsyncTaskStatus::Failed => {
                let body = serde_json::to_vec(self.error.as_ref().unwrap_or(&Value::Null))
                    .map_err(|e| Error::InvalidRequest(format!("task error: {e}")))?;
                let status = self
                    .error
                    .as_ref()
                    .and_then(|e| e.get("status"))
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(500);
                Err(crate::error::error_from_response(
                    status,
                    &body,
                    self.request_id.clone(),
                    None,
                    1,
                ))
            }
            _ => Ok(None),
        }
    }
}
