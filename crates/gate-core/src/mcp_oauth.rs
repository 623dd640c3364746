//! MCP clients by OAuth: the authorization-server side of the MCP authorization spec
//! (2025-06-18 / 2025-11-25), so that a remote MCP client connects to `/mcp` without a pasted
//! key.
//!
//! ```text
//! client ─► POST /oauth/register (RFC 7591)             ─► register_mcp_client
//!        ─► GET /oauth/authorize (code, PKCE S256)        ─► check_mcp_authorize
//!        ─► the console's consent page (signed-in user picks connection + maturity)
//!                                                         ─► grant_mcp_authorization ─► code
//!        ─► POST /oauth/token (code + code_verifier)      ─► exchange_mcp_code
//!           = a new agent of that user and an agent key (`nga_…`) as the access token
//!        ─► /mcp with `Authorization: Bearer nga_…` (authenticated like any agent key)
//!        ─► POST /oauth/revoke                             ─► revoke_mcp_token (key revoked)
//! ```
//!
//! Only public clients with PKCE S256 are accepted (no client secret, no `plain`). Codes are
//! single-use (a conditional update: one exchange wins, even across instances; a failed PKCE
//! check spends the code too), live [`McpOAuthConfig::code_ttl`] and are stored only as
//! their SHA-256. Every registration, code and token expires, and their counts are bounded:
//! [`McpOAuthConfig::max_clients`] live registrations, one code per consent, and
//! [`McpOAuthConfig::max_tokens_per_user`] live tokens per user. An expired token's key is
//! revoked by [`Gate::purge_mcp_oauth`] (the server runs it every minute).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gate_store::{
    ConnectionId, McpClient, NewAgent, NewApiKey, NewMcpClient, NewMcpCode, NewMcpToken, TokenHash,
};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::caller::Caller;
use crate::error::GateError;
use crate::gate::Gate;

/// Where MCP is served, below the public URL: the protected resource.
pub const MCP_PATH: &str = "/mcp";
/// The console page where a signed-in user consents to an MCP client (`gate-console` serves
/// it; `/oauth/authorize` sends the browser there with the request's parameters).
pub const MCP_CONSENT_PATH: &str = "/console/oauth/consent";

/// The resource identifier of `/mcp` (RFC 8707 / RFC 9728): `<public url>/mcp`.
pub fn mcp_resource_url(public_url: &str) -> String {
    format!("{}{MCP_PATH}", public_url.trim_end_matches('/'))
}

/// `BASE64URL(SHA-256(verifier))`, the PKCE S256 transform (RFC 7636).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Bounds of the MCP authorization server.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct McpOAuthConfig {
    /// How long a registration lasts (default 30 days).
    pub client_ttl: Duration,
    /// Live registrations at most (default 1000).
    pub max_clients: u32,
    /// How long a code may wait for its exchange (default 60 s).
    pub code_ttl: Duration,
    /// How long an access token lasts (default 30 days); then its key is revoked.
    pub token_ttl: Duration,
    /// Live tokens per user at most (default 50).
    pub max_tokens_per_user: u64,
}

impl Default for McpOAuthConfig {
    fn default() -> Self {
        Self {
            client_ttl: Duration::from_secs(30 * 24 * 3600),
            max_clients: 1000,
            code_ttl: Duration::from_secs(60),
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            max_tokens_per_user: 50,
        }
    }
}

/// A dynamic client registration request (RFC 7591), the fields the gateway uses.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ClientRegistration {
    /// `client_name`.
    pub client_name: Option<String>,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `token_endpoint_auth_method` (only `none` is supported).
    pub token_endpoint_auth_method: Option<String>,
    /// `grant_types` (must include `authorization_code` when given).
    pub grant_types: Option<Vec<String>>,
    /// `response_types` (must include `code` when given).
    pub response_types: Option<Vec<String>>,
}

/// The query of an authorization request.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct AuthorizeParams {
    /// `response_type` (`code`).
    pub response_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method` (`S256`).
    pub code_challenge_method: Option<String>,
    /// `state`, returned unchanged.
    pub state: Option<String>,
    /// `scope` (informational).
    pub scope: Option<String>,
    /// `resource` (RFC 8707).
    pub resource: Option<String>,
}

/// A checked authorization request, ready for the consent page.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    /// The client.
    pub client: McpClient,
    /// The redirect URI (one of the client's).
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: String,
    /// `state`.
    pub state: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `resource`.
    pub resource: Option<String>,
}

/// The token endpoint's form fields.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct TokenParams {
    /// `grant_type` (`authorization_code`).
    pub grant_type: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// `resource`.
    pub resource: Option<String>,
}

/// An issued access token.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The token: an agent key (`nga_…`).
    pub access_token: SecretString,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The agent created for the client.
    pub agent_id: gate_store::AgentId,
}

fn oauth(error: &'static str, description: impl Into<String>) -> GateError {
    GateError::OAuth {
        error,
        description: description.into(),
        redirect_to: None,
    }
}

/// An error for the client, sent to its redirect URI (RFC 6749 §4.1.2.1).
fn redirect_error(
    req_uri: &str,
    state: Option<&str>,
    error: &'static str,
    description: &str,
) -> GateError {
    GateError::OAuth {
        error,
        description: description.to_owned(),
        redirect_to: Some(with_query(
            req_uri,
            &[
                ("error", Some(error)),
                ("error_description", Some(description)),
                ("state", state),
            ],
        )),
    }
}

/// `uri` with query parameters added (after any it has).
fn with_query(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    if let Some(v) = v {
                        q.append_pair(k, v);
                    }
                }
            }
            u.into()
        }
        Err(_) => uri.to_owned(),
    }
}

/// Schemes a redirect URI may never use.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "ftp",
    "ws",
    "wss",
];

/// A redirect URI a client may register: `https://…`, `http://` on a loopback host, or a
/// private-use scheme of a native app (`com.example.app:/cb`, RFC 8252); no fragment.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("a redirect URI is longer than 2000 characters".to_owned());
    }
    let u = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URI"))?;
    if u.fragment().is_some() {
        return Err(format!("{uri:?} has a fragment"));
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" => match u.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err(format!(
                "{uri:?}: http is allowed only on a loopback host (localhost, 127.0.0.1, [::1])"
            )),
        },
        s if FORBIDDEN_SCHEMES.contains(&s) => Err(format!("{uri:?}: scheme {s} is not allowed")),
        _ => Ok(()),
    }
}

/// PKCE values are 43 to 128 characters of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1).
fn pkce_shaped(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a `resource` parameter names this gateway's `/mcp` (or the gateway itself).
fn resource_matches(resource: &str, expected: &str) -> bool {
    let r = resource.trim_end_matches('/');
    r == expected || Some(r) == expected.strip_suffix(MCP_PATH)
}

impl Gate {
    /// Registers a public client (RFC 7591). Refusals are [`GateError::OAuth`]
    /// (`invalid_redirect_uri`, `invalid_client_metadata`); too many live registrations is a
    /// `Conflict`.
    pub async fn register_mcp_client(
        &self,
        reg: ClientRegistration,
    ) -> Result<McpClient, GateError> {
        let cfg = &self.inner.mcp_oauth;
        if reg.redirect_uris.is_empty() || reg.redirect_uris.len() > 10 {
            return Err(oauth(
                "invalid_redirect_uri",
                "redirect_uris: give 1 to 10 redirect URIs",
            ));
        }
        for uri in &reg.redirect_uris {
            check_redirect_uri(uri).map_err(|m| oauth("invalid_redirect_uri", m))?;
        }
        if reg
            .token_endpoint_auth_method
            .as_deref()
            .is_some_and(|m| m != "none")
        {
            return Err(oauth(
                "invalid_client_metadata",
                "token_endpoint_auth_method: only \"none\" (a public client with PKCE) is supported",
            ));
        }
        if reg
            .grant_types
            .as_ref()
            .is_some_and(|g| !g.iter().any(|g| g == "authorization_code"))
        {
            return Err(oauth(
                "invalid_client_metadata",
                "grant_types: only authorization_code is supported",
            ));
        }
        if reg
            .response_types
            .as_ref()
            .is_some_and(|r| !r.iter().any(|r| r == "code"))
        {
            return Err(oauth(
                "invalid_client_metadata",
                "response_types: only code is supported",
            ));
        }
        let name: String = reg
            .client_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("MCP client")
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let client = self
            .inner
            .store
            .create_mcp_client(
                NewMcpClient::new(name, reg.redirect_uris, cfg.client_ttl),
                cfg.max_clients,
            )
            .await?;
        tracing::info!(client_id = %client.client_id, client_name = %client.name, "MCP client registered");
        Ok(client)
    }

    /// Checks an authorization request. A bad or unknown client or redirect URI is an
    /// [`GateError::OAuth`] without `redirect_to` (show it; never redirect to an unchecked
    /// URI); any other problem has `redirect_to` set: the error for the client at its
    /// redirect URI. `public_url` is the gateway's, for the `resource` check.
    pub async fn check_mcp_authorize(
        &self,
        p: &AuthorizeParams,
        public_url: &str,
    ) -> Result<AuthorizeRequest, GateError> {
        let client_id = p
            .client_id
            .as_deref()
            .ok_or_else(|| oauth("invalid_request", "client_id is missing"))?;
        let client = match self.inner.store.get_mcp_client(client_id).await {
            Ok(c) if c.expires_at > time::OffsetDateTime::now_utc() => c,
            Ok(_) => {
                return Err(oauth(
                    "invalid_client",
                    "the client's registration expired; register again",
                ));
            }
            Err(e) if e.is_not_found() => return Err(oauth("invalid_client", "unknown client_id")),
            Err(e) => return Err(e.into()),
        };
        let redirect_uri = match p.redirect_uri.as_deref() {
            Some(u) if client.redirect_uris.iter().any(|r| r == u) => u.to_owned(),
            Some(_) => {
                return Err(oauth(
                    "invalid_request",
                    "redirect_uri is not one the client registered",
                ));
            }
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(oauth("invalid_request", "redirect_uri is missing")),
        };
        let state = p.state.as_deref();
        let fail =
            |error, description: &str| redirect_error(&redirect_uri, state, error, description);
        if p.response_type.as_deref() != Some("code") {
            return Err(fail(
                "unsupported_response_type",
                "response_type must be code",
            ));
        }
        let challenge = match p.code_challenge.as_deref() {
            Some(c) if pkce_shaped(c) => c.to_owned(),
            Some(_) => return Err(fail("invalid_request", "code_challenge is malformed")),
            None => return Err(fail("invalid_request", "code_challenge is required (PKCE)")),
        };
        if p.code_challenge_method.as_deref() != Some("S256") {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        let expected = mcp_resource_url(public_url);
        if p.resource
            .as_deref()
            .is_some_and(|r| !resource_matches(r, &expected))
        {
            return Err(fail(
                "invalid_target",
                "resource is not this gateway's /mcp",
            ));
        }
        Ok(AuthorizeRequest {
            client,
            redirect_uri,
            code_challenge: challenge,
            state: p.state.clone(),
            scope: p.scope.clone(),
            resource: p.resource.clone(),
        })
    }

    /// The signed-in user consents: a code bound to the request, the user, the connection and
    /// the maturity. Returns the URL to send the browser to (the client's redirect URI with
    /// `code` and `state`). Agents may not consent; the connection must be the user's own
    /// (default: their first).
    pub async fn grant_mcp_authorization(
        &self,
        user: &Caller,
        req: &AuthorizeRequest,
        connection: Option<ConnectionId>,
        maturity: &str,
    ) -> Result<String, GateError> {
        if user.is_agent() {
            return Err(GateError::not_permitted(
                "agents cannot authorise MCP clients",
            ));
        }
        let maturity = maturity
            .trim()
            .to_ascii_lowercase()
            .parse::<gate_policy::Maturity>()
            .map_err(|_| GateError::invalid("maturity", "not a maturity level"))?;
        let connection = self
            .owned_or_default_connection(user.user_id, connection)
            .await?;
        let cfg = &self.inner.mcp_oauth;
        if self.inner.store.count_mcp_tokens(user.user_id).await? >= cfg.max_tokens_per_user {
            return Err(GateError::Conflict {
                what: format!(
                    "at most {} MCP clients may be authorised per user; revoke one first",
                    cfg.max_tokens_per_user
                ),
            });
        }
        let created = self
            .inner
            .store
            .create_mcp_code(
                NewMcpCode::new(
                    &req.client.client_id,
                    user.user_id,
                    maturity.as_str(),
                    &req.redirect_uri,
                    &req.code_challenge,
                    cfg.code_ttl,
                )
                .connection(Some(connection))
                .resource(req.resource.clone()),
            )
            .await?;
        tracing::info!(client_id = %req.client.client_id, user_id = %user.user_id, maturity = %maturity.as_str(), "MCP client authorised");
        Ok(with_query(
            &req.redirect_uri,
            &[
                ("code", Some(created.code.expose_secret())),
                ("state", req.state.as_deref()),
            ],
        ))
    }

    /// The user refused: the client's redirect URI with `error=access_denied`.
    pub fn deny_mcp_authorization(req: &AuthorizeRequest) -> String {
        with_query(
            &req.redirect_uri,
            &[
                ("error", Some("access_denied")),
                ("error_description", Some("the user refused")),
                ("state", req.state.as_deref()),
            ],
        )
    }

    async fn owned_or_default_connection(
        &self,
        user: gate_store::UserId,
        connection: Option<ConnectionId>,
    ) -> Result<ConnectionId, GateError> {
        match connection {
            Some(id) => match self.inner.store.get_connection(id).await {
                Ok(c) if c.owner_id == user && !c.revoked => Ok(c.id),
                Ok(_) => Err(GateError::NotFound { what: "connection" }),
                Err(e) => Err(e.into()),
            },
            None => self.default_connection(user).await?.ok_or_else(|| {
                GateError::invalid("connection", "connect a Notion workspace first")
            }),
        }
    }

    /// The token endpoint: exchanges a code (once) for an access token, checking the client,
    /// the redirect URI and the PKCE verifier. Creates the agent (owned by the consenting user,
    /// on the chosen connection, at the chosen maturity) and its key, which is the token.
    pub async fn exchange_mcp_code(
        &self,
        p: &TokenParams,
        public_url: &str,
    ) -> Result<IssuedToken, GateError> {
        let store = &self.inner.store;
        match p.grant_type.as_deref() {
            Some("authorization_code") => {}
            Some(_) => {
                return Err(oauth(
                    "unsupported_grant_type",
                    "only authorization_code is supported",
                ));
            }
            None => return Err(oauth("invalid_request", "grant_type is missing")),
        }
        let code = p
            .code
            .as_deref()
            .ok_or_else(|| oauth("invalid_request", "code is missing"))?;
        let client_id = p
            .client_id
            .as_deref()
            .ok_or_else(|| oauth("invalid_request", "client_id is missing"))?;
        let verifier = p
            .code_verifier
            .as_deref()
            .ok_or_else(|| oauth("invalid_request", "code_verifier is missing (PKCE)"))?;
        // Spent whatever follows: a code is tried once.
        let Some(row) = store.consume_mcp_code(&TokenHash::of(code)).await? else {
            return Err(oauth(
                "invalid_grant",
                "the code is unknown, used or expired",
            ));
        };
        let client = match store.get_mcp_client(client_id).await {
            Ok(c) if c.client_id == row.consent.client_id => c,
            Ok(_) => {
                return Err(oauth(
                    "invalid_grant",
                    "the code was issued to another client",
                ));
            }
            Err(e) if e.is_not_found() => return Err(oauth("invalid_client", "unknown client_id")),
            Err(e) => return Err(e.into()),
        };
        if p.redirect_uri
            .as_deref()
            .is_some_and(|u| u != row.consent.redirect_uri)
        {
            return Err(oauth(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        let computed = pkce_s256(verifier);
        if !pkce_shaped(verifier)
            || !bool::from(
                computed
                    .as_bytes()
                    .ct_eq(row.consent.code_challenge.as_bytes()),
            )
        {
            return Err(oauth("invalid_grant", "PKCE verification failed"));
        }
        if let Some(r) = p.resource.as_deref()
            && !resource_matches(r, &mcp_resource_url(public_url))
        {
            return Err(oauth(
                "invalid_target",
                "resource is not this gateway's /mcp",
            ));
        }
        let user = store.get_user(row.consent.user_id).await?;
        if user.disabled {
            return Err(oauth("invalid_grant", "the consenting user is disabled"));
        }
        let connection = self
            .owned_or_default_connection(user.id, row.consent.connection_id)
            .await
            .map_err(|_| oauth("invalid_grant", "the chosen connection is gone"))?;
        let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
        let base: String = client.name.chars().take(80).collect();
        let agent = store
            .create_agent(
                NewAgent::new(
                    user.id,
                    format!("{base} (MCP {suffix})"),
                    &row.consent.maturity,
                )
                .connection(connection),
            )
            .await?;
        let label = format!("mcp-oauth {}", client.client_id);
        let key = store
            .create_api_key(NewApiKey::for_agent(agent.id).label(label))
            .await?;
        let cfg = &self.inner.mcp_oauth;
        store
            .create_mcp_token(NewMcpToken::new(
                key.info.id,
                &client.client_id,
                agent.id,
                user.id,
                cfg.token_ttl,
            ))
            .await?;
        tracing::info!(client_id = %client.client_id, agent_id = %agent.id, "MCP access token issued");
        Ok(IssuedToken {
            access_token: key.key,
            expires_in: cfg.token_ttl.as_secs(),
            agent_id: agent.id,
        })
    }

    /// Revokes an access token (RFC 7009): its agent key is revoked at once in this process
    /// (other instances within the cache TTL). A token that is not an OAuth-issued key, or was
    /// issued to another client than `client_id` (when given), is left alone; the answer is
    /// the same either way.
    pub async fn revoke_mcp_token(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<(), GateError> {
        let store = &self.inner.store;
        let Some(key) = store.find_api_key(token.trim()).await? else {
            return Ok(());
        };
        let Some(t) = store.get_mcp_token(key.id).await? else {
            return Ok(());
        };
        if client_id.is_some_and(|c| c != t.client_id) {
            return Ok(());
        }
        store.revoke_api_key(key.id).await?;
        self.inner.cache.invalidate_key(key.id);
        store.delete_mcp_token(key.id).await?;
        tracing::info!(client_id = %t.client_id, agent_id = %t.agent_id, "MCP access token revoked");
        Ok(())
    }

    /// Revokes the keys of expired tokens and deletes expired registrations and spent codes;
    /// returns how many rows went.
    pub async fn purge_mcp_oauth(&self) -> Result<u64, GateError> {
        let store = &self.inner.store;
        let mut n = 0;
        loop {
            let expired = store.expired_mcp_tokens(100).await?;
            if expired.is_empty() {
                break;
            }
            for t in expired {
                match store.revoke_api_key(t.api_key_id).await {
                    Ok(_) => {
                        self.inner.cache.invalidate_key(t.api_key_id);
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
                store.delete_mcp_token(t.api_key_id).await?;
                n += 1;
            }
        }
        Ok(n + store.purge_mcp_oauth().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://localhost:6274/oauth/callback",
            "http://127.0.0.1:33418/cb",
            "http://[::1]:8080/cb",
            "cursor://anysphere.cursor-retrieval/oauth/callback",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "javascript:alert(1)",
            "https://a.example/cb#frag",
            "/relative",
            "data:text/html,x",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resources() {
        let r = mcp_resource_url("https://g.example/");
        assert_eq!(r, "https://g.example/mcp");
        assert!(resource_matches("https://g.example/mcp", &r));
        assert!(resource_matches("https://g.example/mcp/", &r));
        assert!(resource_matches("https://g.example", &r));
        assert!(!resource_matches("https://other.example/mcp", &r));
    }

    #[test]
    fn query_is_appended() {
        assert_eq!(
            with_query(
                "http://localhost:1/cb?x=1",
                &[("code", Some("a b")), ("state", None)]
            ),
            "http://localhost:1/cb?x=1&code=a+b"
        );
    }
}
