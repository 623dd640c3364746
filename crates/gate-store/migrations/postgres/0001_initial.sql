-- gate-store schema, PostgreSQL flavour (keep equivalent to ../sqlite/0001_initial.sql).
-- Times are UTC milliseconds since the Unix epoch (BIGINT).

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE connections (
    id                 TEXT PRIMARY KEY NOT NULL,
    owner_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id       TEXT NOT NULL,
    workspace_name     TEXT,
    workspace_icon     TEXT,
    bot_id             TEXT NOT NULL,
    owner_json         TEXT,
    kind               TEXT NOT NULL CHECK (kind IN ('oauth', 'token')),
    access_token_enc   TEXT NOT NULL,
    refresh_token_enc  TEXT,
    token_expires_at   BIGINT,
    key_id             TEXT NOT NULL,
    revoked            BOOLEAN NOT NULL DEFAULT FALSE,
    needs_reauth       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (owner_id, bot_id)
);
CREATE INDEX connections_key_id ON connections (key_id);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    maturity       TEXT NOT NULL,
    connection_id  TEXT REFERENCES connections(id) ON DELETE SET NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE INDEX agents_connection ON agents (connection_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('user', 'agent')),
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id      TEXT REFERENCES agents(id) ON DELETE CASCADE,
    public_id     TEXT NOT NULL UNIQUE,
    key_hash      TEXT NOT NULL UNIQUE,
    label         TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT,
    CHECK ((kind = 'agent') = (agent_id IS NOT NULL))
);
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE INDEX api_keys_agent ON api_keys (agent_id);

CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_to  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

-- Approvals and audit events are history: they keep ids of users, agents and connections
-- without foreign keys, so deleting an agent never rewrites what it did.
CREATE TABLE approvals (
    id                 TEXT PRIMARY KEY NOT NULL,
    requester_kind     TEXT NOT NULL CHECK (requester_kind IN ('agent', 'user')),
    requester_user_id  TEXT,
    agent_id           TEXT,
    connection_id      TEXT,
    operation          TEXT NOT NULL,
    action_class       TEXT NOT NULL,
    request_json       TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN
                         ('pending', 'approved', 'denied', 'expired', 'executing', 'executed', 'failed')),
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    decided_by         TEXT,
    decided_at         BIGINT,
    finished_at        BIGINT,
    result_json        TEXT,
    result_status      BIGINT
);
CREATE INDEX approvals_status ON approvals (status, expires_at);
CREATE INDEX approvals_agent ON approvals (agent_id, created_at);

CREATE TABLE audit_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               BIGINT NOT NULL,
    request_id       TEXT NOT NULL,
    caller_kind      TEXT NOT NULL,
    user_id          TEXT,
    agent_id         TEXT,
    connection_id    TEXT,
    surface          TEXT NOT NULL,
    action_class     TEXT,
    operation        TEXT NOT NULL,
    target_ids       TEXT NOT NULL,
    decision         TEXT NOT NULL,
    reason           TEXT,
    outcome          TEXT NOT NULL,
    upstream_status  BIGINT,
    duration_ms      BIGINT,
    args_summary     TEXT
);
CREATE INDEX audit_events_agent ON audit_events (agent_id, id);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_class ON audit_events (action_class, id);
CREATE INDEX audit_events_outcome ON audit_events (outcome, id);
CREATE INDEX audit_events_at ON audit_events (at);

-- Append-only: the database itself refuses to change or remove an audit event.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
