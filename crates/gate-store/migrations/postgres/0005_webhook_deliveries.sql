-- Approval notifications (gate-core/src/notify.rs): one row per event and webhook, written
-- before the first attempt, so that an event survives a restart and a listener that is down
-- for a while. `hook_id` is a digest of the hook's URL and `hook_label` its scheme and host:
-- the URL itself (a Slack URL holds its secret in the path) is never stored. `body` is the
-- event exactly as sent (it holds nothing secret). A row is finished when `delivered_at` or
-- `gave_up_at` is set; `next_attempt_at` is then NULL.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    hook_id          TEXT NOT NULL,
    hook_label       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    approval_id      TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT,
    delivered_at     BIGINT,
    gave_up_at       BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_updated ON webhook_deliveries (updated_at);
