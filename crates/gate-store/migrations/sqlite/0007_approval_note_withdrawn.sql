-- rebuild: approvals
-- Approvals: the decider's note (`decision_note`, given with approve or deny) and the status
-- `withdrawn` (the requesting agent took back its own pending call). SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt with its rows (nothing references it:
-- approvals are history, kept without foreign keys) and its indexes created again.
CREATE TABLE approvals_new (
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
                         ('pending', 'approved', 'denied', 'expired', 'executing', 'executed',
                          'failed', 'withdrawn')),
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    decided_by         TEXT,
    decided_at         BIGINT,
    finished_at        BIGINT,
    result_json        TEXT,
    result_status      BIGINT,
    decision_note      TEXT
);
INSERT INTO approvals_new (id, requester_kind, requester_user_id, agent_id, connection_id,
    operation, action_class, request_json, request_hash, status, created_at, expires_at,
    decided_by, decided_at, finished_at, result_json, result_status)
SELECT id, requester_kind, requester_user_id, agent_id, connection_id, operation, action_class,
    request_json, request_hash, status, created_at, expires_at, decided_by, decided_at,
    finished_at, result_json, result_status
FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_new RENAME TO approvals;
CREATE INDEX approvals_status ON approvals (status, expires_at);
CREATE INDEX approvals_agent ON approvals (agent_id, created_at);
