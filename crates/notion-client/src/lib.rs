//! A typed async client for the Notion REST API.
//!
//! One pooled HTTP client ([`Notion`]), per-connection handles ([`Connection`]) whose clones
//! share one rate limiter, a retry policy that never repeats an effect
//! ([`retry::decide`]), cursor pagination as streams ([`pagination::paginate`]), typed errors
//! that keep Notion's status, code and request id ([`Error`]), and models that lose nothing
//! on a round trip ([`models`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), notion_client::Error> {
//! use futures::TryStreamExt;
//! use notion_client::{ClientConfig, Notion, ids::BlockId};
//!
//! let notion = Notion::new(ClientConfig::default())?;
//! let conn = notion.connection("ntn_…".to_owned().into());
//! let page = BlockId::parse("59833787-2cf9-4fdf-8782-e53db20768a5")?;
//! let blocks = conn.blocks();
//! let children: Vec<_> = blocks.children_stream(&page, Some(1_000)).try_collect().await?;
//! # Ok(()) }
//! ```

pub mod client;
pub mod coalesce;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod ids;
pub mod limiter;
pub mod models;
pub mod oauth;
pub mod pagination;
pub mod retry;
pub mod tree;

pub use client::{
    Connection, FilePart, MultipartBody, Notion, RawRequest, RawResponse, Reauthorize,
    StatsSnapshot,
};
pub use coalesce::{CoalesceConfig, Coalescer};
pub use config::{ClientConfig, NotionVersion};
pub use endpoints::ParentRef;
pub use error::{ApiError, Error, ErrorCode, Result, WriteState};
pub use limiter::{GovernorLimiter, LimiterConfig, RateLimiter};
pub use oauth::{OAuthClient, OAuthToken};
pub use pagination::Paging;
pub use retry::{Idempotency, RetryPolicy};
pub use secrecy::SecretString;
