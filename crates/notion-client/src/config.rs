//! Client configuration: base URL, Notion-Version, timeouts, limiter and retry policy.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::coalesce::CoalesceConfig;
use crate::limiter::LimiterConfig;
use crate::retry::RetryPolicy;

/// The default base URL of the Notion API.
pub const DEFAULT_BASE_URL: &str = "https://api.notion.com";

/// A `Notion-Version` header value such as `2026-03-11`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotionVersion(String);

impl NotionVersion {
    /// The legacy single-source database model.
    pub const V2022_06_28: &'static str = "2022-06-28";
    /// Databases become containers of data sources; the SDKs' default.
    pub const V2025_09_03: &'static str = "2025-09-03";
    /// No `archived`, `position` instead of `after`, `meeting_notes`.
    pub const V2026_03_11: &'static str = "2026-03-11";

    /// Parses a `YYYY-MM-DD` version string.
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid Notion-Version {s:?}: expected YYYY-MM-DD such as {}",
                Self::V2026_03_11
            ))
        }
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this version models databases as containers of data sources.
    pub fn has_data_sources(&self) -> bool {
        self.0.as_str() >= Self::V2025_09_03
    }

    /// Whether this version still accepts `after` and emits `archived`.
    pub fn has_legacy_after_and_archived(&self) -> bool {
        self.0.as_str() < Self::V2026_03_11
    }
}

impl Default for NotionVersion {
    fn default() -> Self {
        Self(Self::V2026_03_11.to_owned())
    }
}

impl fmt::Display for NotionVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NotionVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotionVersion({})", self.0)
    }
}

/// Everything a [`Notion`](crate::Notion) client needs to know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Base URL, without `/v1` (default `https://api.notion.com`).
    pub base_url: String,
    /// The `Notion-Version` header sent on every request (default `2026-03-11`).
    pub notion_version: NotionVersion,
    /// TCP connect timeout (default 10 s). `None` disables it (tests on a paused clock).
    pub connect_timeout: Option<Duration>,
    /// Timeout of one HTTP attempt, response body included (default 60 s, Notion's own
    /// server-side limit). `None` disables it.
    pub request_timeout: Option<Duration>,
    /// The default limiter of each new connection.
    pub limiter: LimiterConfig,
    /// When to repeat a failed attempt.
    pub retry: RetryPolicy,
    /// Whether and within which bounds identical reads share one request.
    pub coalesce: CoalesceConfig,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            notion_version: NotionVersion::default(),
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(Duration::from_secs(60)),
            limiter: LimiterConfig::default(),
            retry: RetryPolicy::default(),
            coalesce: CoalesceConfig::default(),
            user_agent: concat!("notion-gate/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl ClientConfig {
    /// Sets the base URL (tests and the sandbox point it at the emulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the `Notion-Version`.
    pub fn notion_version(mut self, version: NotionVersion) -> Self {
        self.notion_version = version;
        self
    }

    /// Sets the limiter of new connections.
    pub fn limiter(mut self, limiter: LimiterConfig) -> Self {
        self.limiter = limiter;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets read coalescing for new connections ([`CoalesceConfig::off`] turns it off).
    pub fn coalesce(mut self, coalesce: CoalesceConfig) -> Self {
        self.coalesce = coalesce;
        self
    }

    /// Sets (or, with `None`, disables) the per-attempt timeout.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets (or, with `None`, disables) the connect timeout.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(NotionVersion::default().as_str(), "2026-03-11");
        assert!(
            NotionVersion::parse("2025-09-03")
                .unwrap()
                .has_data_sources()
        );
        assert!(
            !NotionVersion::parse("2022-06-28")
                .unwrap()
                .has_data_sources()
        );
        assert!(
            !NotionVersion::parse("2026-03-11")
                .unwrap()
                .has_legacy_after_and_archived()
        );
        assert!(NotionVersion::parse("2026-3-11").is_err());
        assert!(NotionVersion::parse("latest").is_err());
    }
}
