-- Catalog apps installed in a workspace (docs/catalog.md). A row is the app's desired state as the
-- Portal asked for it, plus what its agent last reported; secret values are never stored (a secret
-- field is refused by the form until the secret-delivery channel exists).
create table workspace_apps (
    id                    uuid primary key,
    tenant_id             uuid not null references tenants (id) on delete restrict,
    workspace_id          uuid not null references workspaces (id) on delete restrict,
    -- The catalog id (catalog/<app>/app.json); also the namespace and the Flux release's name.
    app                   text not null,
    namespace             text not null,
    desired_state         text not null check (desired_state in ('installed', 'removing', 'removed')),
    chart_version         text not null,
    -- The effective, non-secret values of the desired revision.
    "values"              jsonb not null,
    revision              integer not null,
    revision_changed_at   timestamptz not null,
    -- The agent's last AppReport for this app (release conditions, revisions, workload readiness) and when it came.
    report                jsonb,
    reported_at           timestamptz,
    -- The last failure the release reported, kept after a rollback or a later success turns it green.
    last_failure_reason   text,
    last_failure_message  text,
    last_failure_version  text,
    last_failure_at       timestamptz,
    created_by            text not null,
    created_at            timestamptz not null,
    removed_at            timestamptz
);

-- One live installation of an app per workspace; removed ones stay as history.
create unique index workspace_apps_live on workspace_apps (workspace_id, app) where desired_state <> 'removed';
create index workspace_apps_tenant on workspace_apps (tenant_id, workspace_id);

-- Every desired state an app has had: the last ten are offered for rollback.
create table workspace_app_revisions (
    app_id         uuid not null references workspace_apps (id) on delete cascade,
    revision       integer not null,
    action         text not null check (action in ('install', 'upgrade', 'rollback')),
    chart_version  text not null,
    "values"       jsonb not null,
    created_by     text not null,
    created_at     timestamptz not null,
    primary key (app_id, revision)
);
