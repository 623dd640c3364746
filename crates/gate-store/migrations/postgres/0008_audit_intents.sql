-- Honest revocation: a disconnect whose token Notion could not revoke (client credentials
-- refused, Notion unreachable or failing) keeps the connection, disabled here and flagged, so
-- that the user is told and can try again (Gate::disconnect).
ALTER TABLE connections ADD COLUMN revocation_failed BOOLEAN NOT NULL DEFAULT false;

-- Intent before effect (gate-core/src/intents.rs): before a write is sent to Notion, an intent
-- is made durable through the same path as audit records; the call's audit record names it
-- (audit_events.intent_id) and removes it in the transaction that stores the record. An
-- intent left without a record (a crash between the intent and the answer) is settled at the
-- next start: decided from Notion where it can be, otherwise recorded with outcome 'unknown'.
-- target_ids and markers hold ids, counts, types and hashes only, never content.
CREATE TABLE audit_intents (
    id              TEXT PRIMARY KEY NOT NULL,
    at              BIGINT NOT NULL,
    request_id      TEXT NOT NULL,
    caller_kind     TEXT NOT NULL,
    user_id         TEXT,
    agent_id        TEXT,
    connection_id   TEXT,
    surface         TEXT NOT NULL,
    action_class    TEXT,
    operation       TEXT NOT NULL,
    target_ids      TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    markers         TEXT,
    owner           TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT
);
CREATE INDEX audit_intents_at ON audit_intents (at);

ALTER TABLE audit_events ADD COLUMN intent_id TEXT;
CREATE INDEX audit_events_intent ON audit_events (intent_id) WHERE intent_id IS NOT NULL;
