-- Approvals: the decider's note (`decision_note`, given with approve or deny) and the status
-- `withdrawn` (the requesting agent took back its own pending call).
ALTER TABLE approvals ADD COLUMN decision_note TEXT;
ALTER TABLE approvals DROP CONSTRAINT approvals_status_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_status_check CHECK (status IN
    ('pending', 'approved', 'denied', 'expired', 'executing', 'executed', 'failed', 'withdrawn'));

-- Every change of an approval's status, by any process on this database (a server instance,
-- the CLI, the expiry sweep), is announced on the channel `notion_gate_approvals` with the
-- approval's id, so that waits (`GET /api/v1/approvals/{id}?wait=…`) on every instance
-- answer at once (gate-store `Store::approval_changes`, LISTEN).
CREATE FUNCTION notion_gate_approval_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('notion_gate_approvals', NEW.id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER approvals_status_changed AFTER UPDATE OF status ON approvals
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notion_gate_approval_changed();
