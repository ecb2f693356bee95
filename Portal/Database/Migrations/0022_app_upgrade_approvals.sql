-- Upgrades of catalog apps waiting for an operator (docs/catalog.md, "Approval"): in a workspace whose approval
-- mode is manual, an upgrade is kept here with the chart change and values it would apply, and becomes a revision
-- only when an operator of the tenant approves it, as a run's plan does. Secret values the upgrade sets are kept
-- as the browser sealed them (ciphertext to the agent's key, as secret_deliveries holds it) until the decision,
-- then dropped; never a value.
create table workspace_app_upgrades (
    id                  uuid primary key,
    tenant_id           uuid not null references tenants (id) on delete restrict,
    app_id              uuid not null references workspace_apps (id) on delete cascade,
    -- The revision the upgrade was asked against: approving it after another change would apply a stale diff.
    from_revision       integer not null,
    from_chart_version  text not null,
    chart_version       text not null,
    "values"            jsonb not null,
    secret_paths        text[] not null default '{}',
    sealed_secrets      jsonb,
    status              text not null check (status in ('pending', 'approved', 'rejected', 'superseded')),
    requested_by        text not null,
    requested_at        timestamptz not null,
    decided_by          text,
    decided_at          timestamptz
);

-- At most one upgrade waits per app; a newer request supersedes it.
create unique index workspace_app_upgrades_pending on workspace_app_upgrades (app_id) where status = 'pending';
create index workspace_app_upgrades_tenant on workspace_app_upgrades (tenant_id, app_id);
