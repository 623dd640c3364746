//! The console's settings, from the server's configuration.

use std::time::Duration;

/// How the console is reached and what it may offer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsoleConfig {
    /// Where browsers reach the gateway (`--public-url`), without a trailing slash.
    pub public_url: String,
    /// Session cookies get `Secure` (the public URL is https). A request that arrived over
    /// TLS (`X-Forwarded-Proto: https` from a trusted proxy is not trusted) also gets it.
    pub secure_cookies: bool,
    /// How long a sign-in lasts (`--session-ttl`, default 12 h).
    pub session_ttl: Duration,
    /// Notion's base URL: the OAuth consent page lives there, so forms may be sent on to it.
    pub notion_url: String,
    /// The OAuth redirect URI, when Notion OAuth is configured ("Connect with Notion").
    pub oauth_redirect_uri: Option<String>,
    /// Each connection's request budget (requests per second), for the overview.
    pub rate_per_second: f64,
}

impl ConsoleConfig {
    /// Settings for a gateway reachable at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_owned();
        Self {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            session_ttl: gate_core::DEFAULT_SESSION_TTL,
            notion_url: "https://api.notion.com".to_owned(),
            oauth_redirect_uri: None,
            rate_per_second: 3.0,
        }
    }

    /// Sets the session lifetime.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// Sets Notion's base URL.
    pub fn notion_url(mut self, url: impl Into<String>) -> Self {
        self.notion_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Turns on "Connect with Notion" with this redirect URI.
    pub fn oauth_redirect_uri(mut self, uri: Option<String>) -> Self {
        self.oauth_redirect_uri = uri;
        self
    }

    /// Sets the per-connection rate shown on the overview.
    pub fn rate_per_second(mut self, rate: f64) -> Self {
        self.rate_per_second = rate;
        self
    }

    /// The console's absolute URL of `path` (which starts with `/console`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
