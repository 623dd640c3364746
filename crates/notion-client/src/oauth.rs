//! OAuth for public connections: the authorization URL, code exchange, refresh (rotating
//! refresh tokens), introspection and revocation. These endpoints use Basic auth with the
//! client id and secret, not a bearer token.

use std::fmt;

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Connection, Notion, RawRequest};
use crate::error::Result;
use crate::retry::Idempotency;

/// The answer of `POST /v1/oauth/token` (both grants). Tokens are secrets: they never appear
/// in `Debug` output.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct OAuthToken {
    /// The bearer token for API calls.
    pub access_token: SecretString,
    /// Always `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// The refresh token; it rotates on every refresh.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// The bot user of this authorization; the natural key of a connection.
    pub bot_id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The workspace's name.
    #[serde(default)]
    pub workspace_name: Option<String>,
    /// The workspace's icon (URL or emoji).
    #[serde(default)]
    pub workspace_icon: Option<String>,
    /// `{type: "user", user}` or `{type: "workspace", workspace: true}`.
    #[serde(default)]
    pub owner: Value,
    /// The page duplicated from the connection's template, if any.
    #[serde(default)]
    pub duplicated_template_id: Option<String>,
    /// Lifetime in seconds, if Notion ever sends one (it does not document any).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Notion's request id.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("bot_id", &self.bot_id)
            .field("workspace_id", &self.workspace_id)
            .field("workspace_name", &self.workspace_name)
            .finish_non_exhaustive()
    }
}

/// The answer of `POST /v1/oauth/introspect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is valid.
    pub active: bool,
    /// Scope, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Issued-at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The OAuth endpoints for one public connection (client id and secret).
#[derive(Clone)]
pub struct OAuthClient {
    conn: Connection,
    client_id: String,
    base_url: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

impl Notion {
    /// The OAuth endpoints for this client id and secret.
    pub fn oauth(&self, client_id: impl Into<String>, client_secret: SecretString) -> OAuthClient {
        let client_id = client_id.into();
        OAuthClient {
            conn: self.basic_connection(client_id.clone(), client_secret),
            client_id,
            base_url: self.config().base_url.clone(),
        }
    }
}

impl OAuthClient {
    /// The browser URL of the consent screen: `…/v1/oauth/authorize?client_id=…&
    /// response_type=code&owner=user&redirect_uri=…&state=…`, properly encoded.
    pub fn authorize_url(&self, redirect_uri: Option<&str>, state: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/v1/oauth/authorize", self.base_url))
            .unwrap_or_else(|_| {
                url::Url::parse("https://api.notion.com/v1/oauth/authorize")
                    .expect("a constant URL parses")
            });
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.client_id);
            q.append_pair("response_type", "code");
            q.append_pair("owner", "user");
            if let Some(uri) = redirect_uri {
                q.append_pair("redirect_uri", uri);
            }
            q.append_pair("state", state);
        }
        url.into()
    }

    /// Exchanges an authorization code (single-use: never retried after it may have reached
    /// Notion). `redirect_uri` must be the one of the authorize URL, if it had one.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<OAuthToken> {
        let mut body = json!({"grant_type": "authorization_code", "code": code});
        if let Some(uri) = redirect_uri {
            body["redirect_uri"] = Value::String(uri.to_owned());
        }
        let req =
            RawRequest::new(Method::POST, "/v1/oauth/token", Idempotency::Unsafe).json(&body)?;
        self.conn.send(req).await
    }

    /// Refreshes an access token. The answer carries a new refresh token: store it and drop
    /// the old one. Never retried after it may have reached Notion.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<OAuthToken> {
        use secrecy::ExposeSecret;
        let body =
            json!({"grant_type": "refresh_token", "refresh_token": refresh_token.expose_secret()});
        let req =
            RawRequest::new(Method::POST, "/v1/oauth/token", Idempotency::Unsafe).json(&body)?;
        self.conn.send(req).await
    }

    /// Whether a token is active.
    pub async fn introspect(&self, token: &SecretString) -> Result<Introspection> {
        use secrecy::ExposeSecret;
        let req = RawRequest::new(Method::POST, "/v1/oauth/introspect", Idempotency::Safe)
            .json(&json!({"token": token.expose_secret()}))?;
        self.conn.send(req).await
    }

    /// Revokes a token; later calls with it get 401.
    pub async fn revoke(&self, token: &SecretString) -> Result<()> {
        use secrecy::ExposeSecret;
        let req = RawRequest::new(Method::POST, "/v1/oauth/revoke", Idempotency::Safe)
            .json(&json!({"token": token.expose_secret()}))?;
        let _: Value = self.conn.send(req).await?;
        Ok(())
    }
}
