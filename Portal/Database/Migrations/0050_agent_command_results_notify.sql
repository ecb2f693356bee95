-- An agent's answer to a command is announced on 'tenant_changes' (migration 0045) with the agent as the
-- subject, as a workspace's runs are with the workspace: what waits for that answer (an offboarding's
-- uninstall step, ADR 0123) wakes when it comes instead of looking again on a timer. Only a change of
-- status is announced: delivery bookkeeping (delivered_at, delivery_count) is not news to anyone.
create trigger agent_commands_tenant_changes after update of status on agent_commands
    for each row when (old.status is distinct from new.status) execute function tenant_changes_notify('agent_id');
