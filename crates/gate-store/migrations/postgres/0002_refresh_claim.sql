-- Single-flight OAuth token refresh across instances: the instance that claims a
-- connection's refresh (conditional update, see Store::claim_token_refresh) is the only one
-- that calls Notion until the claim is released, replaced by new tokens, or its lease ends.
ALTER TABLE connections ADD COLUMN refresh_claimed_by TEXT;
ALTER TABLE connections ADD COLUMN refresh_claimed_until BIGINT;
