-- A state lock left behind by a killed process is released by a run of its own (kind 'unlock':
-- tofu force-unlock with the lock's ID), asked for by an operator who typed the workspace's name.
alter table workspace_runs drop constraint workspace_runs_kind_check;
alter table workspace_runs add constraint workspace_runs_kind_check check (kind in ('apply', 'destroy', 'drift', 'unlock'));

-- OpenTofu's lock info (ID, Path, Operation, Who, Version, Created, Info): the lock a run could not
-- take, or the one an unlock run releases.
alter table workspace_runs add column state_lock jsonb;
