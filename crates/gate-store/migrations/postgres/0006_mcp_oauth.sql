-- MCP clients by OAuth (gate-core/src/mcp_oauth.rs): clients registered dynamically
-- (RFC 7591), single-use authorization codes (PKCE S256; only the code's SHA-256 is kept),
-- and the access tokens issued, each an agent key (api_keys) with a lifetime recorded here.
-- Every row has an expiry; the gateway purges expired rows and revokes expired tokens' keys.
CREATE TABLE mcp_oauth_clients (
    client_id        TEXT PRIMARY KEY NOT NULL,
    client_name      TEXT NOT NULL,
    redirect_uris    TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX mcp_oauth_clients_expiry ON mcp_oauth_clients (expires_at);

CREATE TABLE mcp_oauth_codes (
    code_hash        TEXT PRIMARY KEY NOT NULL,
    client_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    connection_id    TEXT,
    maturity         TEXT NOT NULL,
    redirect_uri     TEXT NOT NULL,
    code_challenge   TEXT NOT NULL,
    resource         TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
CREATE INDEX mcp_oauth_codes_expiry ON mcp_oauth_codes (expires_at);

CREATE TABLE mcp_oauth_tokens (
    api_key_id       TEXT PRIMARY KEY NOT NULL,
    client_id        TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX mcp_oauth_tokens_expiry ON mcp_oauth_tokens (expires_at);
CREATE INDEX mcp_oauth_tokens_user ON mcp_oauth_tokens (user_id, expires_at);
