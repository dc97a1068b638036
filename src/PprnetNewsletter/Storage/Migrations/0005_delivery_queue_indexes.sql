-- The sending engine claims three kinds of work: pending rows (by the existing ix_deliveries_state), rows whose
-- lease ran out, and deferred rows that are due. These partial indexes hold only the latter two, so finding them
-- stays cheap when an edition has a million pending or sent rows, and enqueueing (all 'pending') never touches them.
CREATE INDEX ix_deliveries_leased ON deliveries (edition_id, lease_until) WHERE state = 'sending';
CREATE INDEX ix_deliveries_deferred ON deliveries (next_attempt_at, edition_id) WHERE state = 'deferred';
