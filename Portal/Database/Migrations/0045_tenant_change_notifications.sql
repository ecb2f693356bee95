-- Pages that show a tenant's workspaces, runs and cloud accounts follow them live. They used to reload
-- on every job state change in the whole Portal (job notifications carry no tenant), so with N tabs
-- open every job anywhere cost N reloads at the same instant: a burst that emptied the connection pool
-- at a few hundred tabs. Now each change of these rows is announced on 'tenant_changes' with its
-- tenant and subject ("<tenant id>:<subject id>", parsed by TenantChanges), and only the pages of that
-- tenant (and subject) reload. A trigger, as for jobs: no statement can forget it, and NOTIFY is sent
-- only if the transaction commits; identical payloads in one transaction are folded into one.
create or replace function tenant_changes_notify() returns trigger language plpgsql as $$
declare
    changed jsonb;
begin
    if tg_op = 'DELETE' then
        changed := to_jsonb(old);
    else
        changed := to_jsonb(new);
    end if;
    -- tg_argv[0] names the column that identifies the subject pages follow (a workspace, an account).
    perform pg_notify('tenant_changes', (changed ->> 'tenant_id') || ':' || (changed ->> tg_argv[0]));
    return null;
end
$$;

create trigger workspaces_tenant_changes after insert or update or delete on workspaces
    for each row execute function tenant_changes_notify('id');
create trigger workspace_runs_tenant_changes after insert or update or delete on workspace_runs
    for each row execute function tenant_changes_notify('workspace_id');
create trigger cloud_accounts_tenant_changes after insert or update or delete on cloud_accounts
    for each row execute function tenant_changes_notify('id');
