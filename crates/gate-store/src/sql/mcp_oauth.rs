//! MCP OAuth clients, codes and tokens, written once for both backends (methods of
//! [`SqlStore`]). A code is consumed with one conditional
//! `UPDATE … RETURNING`, so it is exchanged at most once across instances.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::ExposeSecret as _;

use super::dialect::{Dialect, query};
use super::rows::{RowExt, opt_time, time};
use super::{SqlStore, check_name, opt_str, random_token};
use crate::error::{Result, StoreError};
use crate::ids::{AgentId, ApiKeyId, ConnectionId, TokenHash, UserId, now, to_ms};
use crate::mcp_oauth::{McpClient, McpCode, McpConsent, McpToken};

pub(crate) const CLIENT_COLS: &str =
    "client_id, client_name, redirect_uris, created_at, expires_at";
pub(crate) const CODE_COLS: &str = "code_hash, client_id, user_id, connection_id, maturity, \
     redirect_uri, code_challenge, resource, created_at, expires_at, used_at";
pub(crate) const TOKEN_COLS: &str =
    "api_key_id, client_id, agent_id, user_id, created_at, expires_at";

pub(crate) fn client(row: &impl RowExt) -> Result<McpClient> {
    let uris: Vec<String> = serde_json::from_str(&row.text("redirect_uris")?)
        .map_err(|_| StoreError::corrupt("column redirect_uris: not a JSON array of strings"))?;
    Ok(McpClient {
        client_id: row.text("client_id")?,
        name: row.text("client_name")?,
        redirect_uris: uris,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

pub(crate) fn code(row: &impl RowExt) -> Result<McpCode> {
    Ok(McpCode {
        code_hash: TokenHash::from_hex(&row.text("code_hash")?)
            .map_err(|_| StoreError::corrupt("mcp code hash"))?,
        consent: McpConsent {
            client_id: row.text("client_id")?,
            user_id: UserId::parse_stored(&row.text("user_id")?)?,
            connection_id: row
                .opt_text("connection_id")?
                .map(|s| ConnectionId::parse_stored(&s))
                .transpose()?,
            maturity: row.text("maturity")?,
            redirect_uri: row.text("redirect_uri")?,
            code_challenge: row.text("code_challenge")?,
            resource: row.opt_text("resource")?,
        },
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        used_at: opt_time(row, "used_at")?,
    })
}

pub(crate) fn token(row: &impl RowExt) -> Result<McpToken> {
    Ok(McpToken {
        api_key_id: ApiKeyId::parse_stored(&row.text("api_key_id")?)?,
        client_id: row.text("client_id")?,
        agent_id: AgentId::parse_stored(&row.text("agent_id")?)?,
        user_id: UserId::parse_stored(&row.text("user_id")?)?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

pub(crate) fn ttl(what: &str, d: std::time::Duration) -> Result<time::Duration> {
    time::Duration::try_from(d).map_err(|_| StoreError::invalid(format!("{what} lifetime")))
}

impl<D: Dialect> SqlStore<D> {
    pub(super) async fn mcp_client_create(
        &self,
        new: crate::mcp_oauth::NewMcpClient,
        max: u32,
    ) -> Result<crate::mcp_oauth::McpClient> {
        let name = check_name("client name", &new.name)?;
        let at = now();
        let live = query("SELECT COUNT(*) AS n FROM mcp_oauth_clients WHERE expires_at > $1")
            .bind(to_ms(at))
            .fetch_count(&self.pool)
            .await?;
        if live >= u64::from(max) {
            return Err(StoreError::conflict(
                "too many registered MCP clients; try again later",
            ));
        }
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        let client_id = format!("mcp_{}", URL_SAFE_NO_PAD.encode(raw));
        let uris = serde_json::Value::from(new.redirect_uris.clone()).to_string();
        let sql = format!(
            "INSERT INTO mcp_oauth_clients (client_id, client_name, redirect_uris, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {CLIENT_COLS}"
        );
        let row = query(&sql)
            .bind(client_id)
            .bind(name)
            .bind(uris)
            .bind(to_ms(at))
            .bind(to_ms(at + ttl("client", new.ttl)?))
            .fetch_one(&self.pool)
            .await?;
        client(&row)
    }

    pub(super) async fn mcp_client_get(
        &self,
        client_id: &str,
    ) -> Result<crate::mcp_oauth::McpClient> {
        let sql = format!("SELECT {CLIENT_COLS} FROM mcp_oauth_clients WHERE client_id = $1");
        query(&sql)
            .bind(client_id.to_owned())
            .fetch_found(&self.pool, "client", client)
            .await
    }

    pub(super) async fn mcp_code_create(
        &self,
        new: crate::mcp_oauth::NewMcpCode,
    ) -> Result<crate::mcp_oauth::CreatedMcpCode> {
        let value = random_token();
        let hash = TokenHash::of(value.expose_secret());
        let at = now();
        let expires_at = at + ttl("code", new.ttl)?;
        let new = new.consent;
        let sql = format!(
            "INSERT INTO mcp_oauth_codes (code_hash, client_id, user_id, connection_id, maturity, \
               redirect_uri, code_challenge, resource, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {CODE_COLS}"
        );
        let row = query(&sql)
            .bind(hash.as_str().to_owned())
            .bind(new.client_id)
            .bind(new.user_id.to_string())
            .bind(opt_str(new.connection_id))
            .bind(new.maturity)
            .bind(new.redirect_uri)
            .bind(new.code_challenge)
            .bind(new.resource)
            .bind(to_ms(at))
            .bind(to_ms(expires_at))
            .fetch_one(&self.pool)
            .await?;
        Ok(crate::mcp_oauth::CreatedMcpCode {
            code: value,
            info: code(&row)?,
        })
    }

    pub(super) async fn mcp_code_consume(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<crate::mcp_oauth::McpCode>> {
        let sql = format!(
            "UPDATE mcp_oauth_codes SET used_at = $2 \
             WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING {CODE_COLS}"
        );
        query(&sql)
            .bind(hash.as_str().to_owned())
            .bind(to_ms(now()))
            .fetch_first(&self.pool, code)
            .await
    }

    pub(super) async fn mcp_token_create(
        &self,
        new: crate::mcp_oauth::NewMcpToken,
    ) -> Result<crate::mcp_oauth::McpToken> {
        let at = now();
        let sql = format!(
            "INSERT INTO mcp_oauth_tokens (api_key_id, client_id, agent_id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
        );
        let row = query(&sql)
            .bind(new.api_key_id.to_string())
            .bind(new.client_id)
            .bind(new.agent_id.to_string())
            .bind(new.user_id.to_string())
            .bind(to_ms(at))
            .bind(to_ms(at + ttl("token", new.ttl)?))
            .fetch_one(&self.pool)
            .await?;
        token(&row)
    }

    pub(super) async fn mcp_token_get(
        &self,
        key: ApiKeyId,
    ) -> Result<Option<crate::mcp_oauth::McpToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM mcp_oauth_tokens WHERE api_key_id = $1");
        query(&sql)
            .bind(key.to_string())
            .fetch_first(&self.pool, token)
            .await
    }

    pub(super) async fn mcp_token_count(&self, user: UserId) -> Result<u64> {
        query("SELECT COUNT(*) AS n FROM mcp_oauth_tokens WHERE user_id = $1 AND expires_at > $2")
            .bind(user.to_string())
            .bind(to_ms(now()))
            .fetch_count(&self.pool)
            .await
    }

    pub(super) async fn mcp_token_expired(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::mcp_oauth::McpToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM mcp_oauth_tokens WHERE expires_at <= $1 \
             ORDER BY expires_at LIMIT $2"
        );
        query(&sql)
            .bind(to_ms(now()))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_rows(&self.pool, token)
            .await
    }

    pub(super) async fn mcp_token_delete(&self, key: ApiKeyId) -> Result<()> {
        query("DELETE FROM mcp_oauth_tokens WHERE api_key_id = $1")
            .bind(key.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn mcp_purge(&self) -> Result<u64> {
        let at = to_ms(now());
        let clients = query("DELETE FROM mcp_oauth_clients WHERE expires_at <= $1")
            .bind(at)
            .execute(&self.pool)
            .await?;
        let codes =
            query("DELETE FROM mcp_oauth_codes WHERE expires_at <= $1 OR used_at IS NOT NULL")
                .bind(at)
                .execute(&self.pool)
                .await?;
        Ok(clients + codes)
    }
}
