//! [`RedisApprovalBus`]: gate-core's [`ApprovalBus`] on Redis pub/sub. Each gateway instance
//! publishes the id of every approval it changes on [`APPROVALS_CHANNEL`] and subscribes to
//! it (from its first wait on), so a wait on one instance answers as soon as another
//! instance decides. Publishing is best effort (an error is logged, the waiters' periodic
//! re-read covers it); a subscription ends when its connection breaks and the gate
//! subscribes again. PostgreSQL stores announce changes themselves, so the bus matters most
//! for several instances on one database whose changes PostgreSQL cannot announce, and it
//! is harmless next to PostgreSQL's own announcements.

use std::fmt;

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use gate_core::{ApprovalBus, BusError};
use gate_store::ApprovalId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{RESPONSE_TIMEOUT, RedisLimitError};

/// The channel approval ids are published on.
pub const APPROVALS_CHANNEL: &str = "notion-gate:approvals";

/// Approval changes over Redis pub/sub.
#[derive(Clone)]
pub struct RedisApprovalBus {
    client: redis::Client,
    publisher: ConnectionManager,
}

impl fmt::Debug for RedisApprovalBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisApprovalBus").finish_non_exhaustive()
    }
}

impl RedisApprovalBus {
    /// A bus on the Redis at `url` (`redis://` or `rediss://`), connecting lazily. Call from
    /// within a tokio runtime.
    pub fn new(url: &str) -> Result<Self, RedisLimitError> {
        let client = redis::Client::open(url)
            .map_err(|e| RedisLimitError::InvalidUrl(format!("{:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self { client, publisher })
    }
}

#[async_trait]
impl ApprovalBus for RedisApprovalBus {
    async fn publish(&self, id: ApprovalId) {
        let mut conn = self.publisher.clone();
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(APPROVALS_CHANNEL)
            .arg(id.to_string())
            .query_async(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "could not publish an approval change on Redis");
        }
    }

    async fn subscribe(&self) -> Result<BoxStream<'static, ApprovalId>, BusError> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(APPROVALS_CHANNEL).await?;
        let ids = pubsub.into_on_message().filter_map(|msg| {
            let id = msg
                .get_payload::<String>()
                .ok()
                .and_then(|s| s.parse::<ApprovalId>().ok());
            std::future::ready(id)
        });
        Ok(ids.boxed())
    }
}
