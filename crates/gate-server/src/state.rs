//! The application state shared by every handler: the governance gate and the server's
//! settings.

use std::sync::Arc;

use gate_core::Gate;

/// Settings the HTTP surfaces need beyond the gate.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServerSettings {
    /// The public base URL of this gateway (for the OAuth redirect URI), e.g.
    /// `http://127.0.0.1:8787`.
    pub public_url: String,
    /// The OAuth redirect URI registered at Notion (default
    /// `<public_url>/api/v1/notion/oauth/callback`).
    pub oauth_redirect_uri: Option<String>,
    /// The Notion base URL (for the authorization URL), default `https://api.notion.com`.
    pub notion_url: String,
    /// How long a console sign-in lasts (default 12 h).
    pub session_ttl: std::time::Duration,
    /// Each connection's request budget per second (shown by the console).
    pub rate_per_second: f64,
}

impl ServerSettings {
    /// Settings for a gateway reachable at `public_url`, talking to `notion_url`.
    pub fn new(public_url: impl Into<String>, notion_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            oauth_redirect_uri: None,
            notion_url: notion_url.into().trim_end_matches('/').to_owned(),
            session_ttl: gate_core::DEFAULT_SESSION_TTL,
            rate_per_second: 3.0,
        }
    }

    /// Sets how long a console sign-in lasts.
    pub fn session_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// Sets the per-connection rate the console shows.
    pub fn rate_per_second(mut self, rate: f64) -> Self {
        self.rate_per_second = rate;
        self
    }

    /// The console's settings.
    pub fn console(&self, oauth: bool) -> gate_console::ConsoleConfig {
        gate_console::ConsoleConfig::new(self.public_url.clone())
            .session_ttl(self.session_ttl)
            .notion_url(self.notion_url.clone())
            .oauth_redirect_uri(oauth.then(|| self.redirect_uri()))
            .rate_per_second(self.rate_per_second)
    }

    /// Sets the OAuth redirect URI.
    pub fn oauth_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.oauth_redirect_uri = Some(uri.into());
        self
    }

    /// The redirect URI used in authorize URLs and code exchanges.
    pub fn redirect_uri(&self) -> String {
        self.oauth_redirect_uri
            .clone()
            .unwrap_or_else(|| format!("{}/api/v1/notion/oauth/callback", self.public_url))
    }
}

/// What every handler receives.
#[derive(Clone)]
pub struct AppState {
    /// The one governance path.
    pub gate: Gate,
    /// Server settings.
    pub settings: Arc<ServerSettings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State from a gate and settings.
    pub fn new(gate: Gate, settings: ServerSettings) -> Self {
        Self {
            gate,
            settings: Arc::new(settings),
        }
    }
}
