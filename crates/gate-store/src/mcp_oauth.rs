//! MCP clients by OAuth: dynamically registered clients, single-use authorization codes (only
//! their SHA-256 is stored) and the access tokens issued (each an agent key, recorded here
//! with its client and its expiry). Every row expires.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use time::OffsetDateTime;

use crate::ids::{AgentId, ApiKeyId, ConnectionId, TokenHash, UserId};

/// Input for [`Store::create_mcp_client`](crate::Store::create_mcp_client).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewMcpClient {
    /// What the client calls itself (shown on the consent page).
    pub name: String,
    /// The exact redirect URIs it may use.
    pub redirect_uris: Vec<String>,
    /// How long the registration lasts.
    pub ttl: Duration,
}

impl NewMcpClient {
    /// A registration.
    pub fn new(name: impl Into<String>, redirect_uris: Vec<String>, ttl: Duration) -> Self {
        Self {
            name: name.into(),
            redirect_uris,
            ttl,
        }
    }
}

/// A registered client (public: PKCE, no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct McpClient {
    /// The `client_id` (random, not a secret).
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Its redirect URIs.
    pub redirect_uris: Vec<String>,
    /// When it registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the registration ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// What the signed-in user granted a client on the consent page, and what the token endpoint
/// checks again: held by a code to create ([`NewMcpCode`]) and by a stored one ([`McpCode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpConsent {
    /// The client.
    pub client_id: String,
    /// The user who consented (the agent's owner).
    pub user_id: UserId,
    /// The connection the agent will use (`None`: the user's default).
    pub connection_id: Option<ConnectionId>,
    /// The agent's maturity.
    pub maturity: String,
    /// The redirect URI of the request (checked again at the token endpoint).
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The resource indicator, when the client sent one.
    pub resource: Option<String>,
}

/// Input for [`Store::create_mcp_code`](crate::Store::create_mcp_code): what the signed-in user
/// granted on the consent page.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewMcpCode {
    /// The consent.
    pub consent: McpConsent,
    /// How long the code lives.
    pub ttl: Duration,
}

impl NewMcpCode {
    /// A code for `user_id`'s consent to `client_id`.
    pub fn new(
        client_id: impl Into<String>,
        user_id: UserId,
        maturity: impl Into<String>,
        redirect_uri: impl Into<String>,
        code_challenge: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            consent: McpConsent {
                client_id: client_id.into(),
                user_id,
                connection_id: None,
                maturity: maturity.into(),
                redirect_uri: redirect_uri.into(),
                code_challenge: code_challenge.into(),
                resource: None,
            },
            ttl,
        }
    }

    /// Sets the connection.
    pub fn connection(mut self, id: Option<ConnectionId>) -> Self {
        self.consent.connection_id = id;
        self
    }

    /// Sets the resource indicator.
    pub fn resource(mut self, resource: Option<String>) -> Self {
        self.consent.resource = resource;
        self
    }
}

/// A stored code (its value is only in [`CreatedMcpCode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpCode {
    /// SHA-256 of the code.
    pub code_hash: TokenHash,
    /// What the user granted.
    pub consent: McpConsent,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Expires.
    pub expires_at: OffsetDateTime,
    /// Used (exchanged or tried).
    pub used_at: Option<OffsetDateTime>,
}

/// A code just created: the value goes to the client's redirect URI and is never stored.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedMcpCode {
    /// The `code` parameter.
    pub code: SecretString,
    /// The stored row.
    pub info: McpCode,
}

/// Input for [`Store::create_mcp_token`](crate::Store::create_mcp_token).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewMcpToken {
    /// The agent key that is the access token.
    pub api_key_id: ApiKeyId,
    /// The client it was issued to.
    pub client_id: String,
    /// The agent created for it.
    pub agent_id: AgentId,
    /// The agent's owner.
    pub user_id: UserId,
    /// Its lifetime.
    pub ttl: Duration,
}

impl NewMcpToken {
    /// A token record.
    pub fn new(
        api_key_id: ApiKeyId,
        client_id: impl Into<String>,
        agent_id: AgentId,
        user_id: UserId,
        ttl: Duration,
    ) -> Self {
        Self {
            api_key_id,
            client_id: client_id.into(),
            agent_id,
            user_id,
            ttl,
        }
    }
}

/// An issued access token (an agent key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct McpToken {
    /// The agent key.
    pub api_key_id: ApiKeyId,
    /// The client.
    pub client_id: String,
    /// The agent.
    pub agent_id: AgentId,
    /// Its owner.
    pub user_id: UserId,
    /// Issued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Expires (its key is revoked then).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}
