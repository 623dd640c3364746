-- The SQLite audit spool (gate-store/src/sql/spool.rs): how many lines of each spool file are
-- already in audit_events. Written in the same transaction as the rows, so that a line is
-- imported exactly once even if its process dies right after the commit. PostgreSQL has no
-- spool; the table is kept so that both backends share one schema.
CREATE TABLE audit_spool (
    spool TEXT PRIMARY KEY,
    lines BIGINT NOT NULL
);
