-- Queued agent commands can be withdrawn before their agent takes them (docs/catalog.md, "Queued actions"):
-- 'cancelled' is a terminal status like the agent's outcomes, set only while delivered_at is null, in the
-- same statement that checks it, so a command is either delivered or cancelled, never both.
alter table agent_commands drop constraint agent_commands_status_check;
alter table agent_commands add constraint agent_commands_status_check
    check (status in ('pending', 'succeeded', 'failed', 'rejected', 'cancelled'));
alter table agent_commands add column cancelled_by text;

-- A revision whose command was withdrawn never reached the cluster: kept as history, never offered for
-- rollback, and its number is not reused (the command's idempotency key names it).
alter table workspace_app_revisions add column cancelled_at timestamptz;
