-- Finding the previous event of a chain ("the newest event of this tenant") must not scan the table:
-- with IS NOT DISTINCT FROM the planner could use no index, and a quiet tenant's chain cost a
-- sequential scan of every event on every audited write (20-30 ms at 200k events, growing).
-- The writer now asks "tenant_id = X" or "tenant_id IS NULL", both answered by this index.
create index audit_events_chain on audit_events (tenant_id, id desc);
