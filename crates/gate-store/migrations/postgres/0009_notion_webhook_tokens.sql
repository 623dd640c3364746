-- Inbound Notion webhooks (gate-core/src/inbound.rs): the verification token Notion sends
-- once when a subscription is created, per connection, encrypted by the vault like the
-- connection's tokens (`key_id`). It is the key of every delivery's `X-Notion-Signature`.
-- A token stays unverified until a signed event verifies with it; a new handshake while the
-- current token is verified keeps that one as `previous_*` (still accepted) until the new
-- one verifies, so an unauthenticated handshake cannot cut off working deliveries.
CREATE TABLE notion_webhook_tokens (
    connection_id    TEXT PRIMARY KEY NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    token_enc        TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    received_at      BIGINT NOT NULL,
    verified_at      BIGINT,
    previous_enc     TEXT,
    previous_key_id  TEXT
);
