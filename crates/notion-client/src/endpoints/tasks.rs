//! Async tasks (`GET /v1/async_tasks/{id}`) and custom emojis (`GET /v1/custom_emojis`).

use std::time::Duration;

use reqwest::Method;

use crate::client::{Connection, RawRequest};
use crate::error::{Error, Result};
use crate::ids::AsyncTaskId;
use crate::models::{AsyncTask, CustomEmoji, ListResponse};
use crate::pagination::Paging;
use crate::retry::Idempotency;

/// Async task endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct AsyncTasks<'a> {
    pub(crate) conn: &'a Connection,
}

/// The longest pause between two polls of [`AsyncTasks::wait`], whatever Notion asks.
const MAX_POLL_PAUSE: Duration = Duration::from_secs(30);

impl AsyncTasks<'_> {
    /// `GET /v1/async_tasks/{id}`.
    pub async fn retrieve(&self, id: &AsyncTaskId) -> Result<AsyncTask> {
        let id = AsyncTaskId::parse(id.as_str())?;
        self.conn
            .send(RawRequest::new(
                Method::GET,
                format!("/v1/async_tasks/{}", id.as_str()),
                Idempotency::Safe,
            ))
            .await
    }

    /// Polls a task until it has finished, waiting `poll_after_seconds` (at most 30 s)
    /// between polls, at most `max_polls` times; answers the finished task.
    pub async fn wait(&self, task: &AsyncTask, max_polls: u32) -> Result<AsyncTask> {
        let mut current = task.clone();
        for _ in 0..max_polls {
            if current.is_finished() {
                return Ok(current);
            }
            let secs = current
                .poll_after_seconds
                .as_ref()
                .and_then(serde_json::Number::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .unwrap_or(1.0);
            tokio::time::sleep(Duration::from_secs_f64(secs).min(MAX_POLL_PAUSE)).await;
            current = self.retrieve(&current.id).await?;
        }
        if current.is_finished() {
            Ok(current)
        } else {
            Err(Error::InvalidRequest(format!(
                "async task {} still {} after {max_polls} polls",
                current.id,
                current.status.as_str()
            )))
        }
    }
}

/// Custom emoji endpoints of one connection.
#[derive(Debug, Clone, Copy)]
pub struct CustomEmojis<'a> {
    pub(crate) conn: &'a Connection,
}

impl CustomEmojis<'_> {
    /// One page of `GET /v1/custom_emojis`, optionally only the emoji named exactly `name`.
    pub async fn list(
        &self,
        name: Option<&str>,
        paging: &Paging,
    ) -> Result<ListResponse<CustomEmoji>> {
        let mut req = RawRequest::new(Method::GET, "/v1/custom_emojis", Idempotency::Safe);
        if let Some(n) = name {
            req = req.query("name", n);
        }
        req.query.extend(paging.to_query());
        self.conn.send(req).await
    }

    paged_stream! {
        /// Every custom emoji, following cursors, up to `cap`.
        list_stream<'a>(name: Option<&'a str>) -> CustomEmoji = list
    }
}
