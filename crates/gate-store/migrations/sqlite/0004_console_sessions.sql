-- Web console sessions (keep equivalent to ../postgres/0004_console_sessions.sql).
-- Only the SHA-256 of the session token is stored; a session is bound to the hash of the
-- user key that signed in, so revoking that key (or disabling the user) ends it too.
CREATE TABLE console_sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_hash      TEXT NOT NULL,
    user_agent    TEXT,
    client_addr   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id, created_at);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
CREATE INDEX audit_events_connection ON audit_events (connection_id, at);
-- The console's audit filters by decision and surface walk these instead of the whole table.
CREATE INDEX audit_events_decision ON audit_events (decision, id);
CREATE INDEX audit_events_surface ON audit_events (surface, id);
