-- Workspaces and their provisioning runs (docs/workspaces.md).
-- A workspace is a tenant's data platform in one cloud account; each change to its cloud resources
-- is a run (plan, apply, destroy, drift), executed as a job on the job engine.
create type workspace_status as enum (
    'pending', 'provisioning', 'awaiting_approval', 'ready', 'failed', 'updating', 'destroying', 'destroyed', 'drifted');

create table workspaces (
    id                  uuid primary key,
    tenant_id           uuid not null references tenants (id) on delete restrict,
    -- A DNS label: the workspace's domain is <name>.<tenant domain>.
    name                text not null,
    cloud_account_id    uuid not null references cloud_accounts (id) on delete restrict,
    provider            cloud_provider not null,
    region              text not null,
    network_cidr        cidr not null,
    kubernetes_version  text not null,
    -- [{ "name", "instance_type", "min_size", "max_size" }]; empty when Karpenter scales the nodes.
    node_pools          jsonb not null,
    use_karpenter       boolean not null,
    -- { "engine", "instance_class", "storage_gb" } or null for no database.
    database            jsonb,
    approval_mode       text not null check (approval_mode in ('automatic', 'manual')),
    status              workspace_status not null default 'pending',
    -- What the last run left behind, in plain words (e.g. after a cancel: "some resources may exist").
    status_reason       text,
    -- The module's non-sensitive outputs after the last apply (ModuleOutputs never reads a sensitive one).
    outputs             jsonb,
    created_by          text not null,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    destroyed_at        timestamptz
);

-- Names are unique among the tenant's live workspaces; a destroyed workspace's name can be reused.
create unique index workspaces_name_unique on workspaces (tenant_id, name) where status <> 'destroyed';
create index workspaces_by_account_region on workspaces (tenant_id, cloud_account_id, region) where status <> 'destroyed';

create table workspace_runs (
    id                  uuid primary key,
    tenant_id           uuid not null references tenants (id) on delete restrict,
    workspace_id        uuid not null references workspaces (id) on delete cascade,
    kind                text not null check (kind in ('apply', 'destroy', 'drift')),
    -- queued → planning → awaiting_approval → applying → succeeded | failed | cancelled | rejected
    status              text not null check (status in ('queued', 'planning', 'awaiting_approval', 'applying', 'succeeded', 'failed', 'cancelled', 'rejected')),
    -- The runner's stage the run is in or ended in (TofuStage).
    stage               text,
    -- Addresses and actions only (TofuPlanSummary): never attribute values.
    plan_summary        jsonb,
    error               text,
    -- What the run's end means for the cloud resources (TofuRunner.WorkspaceStateAfter*).
    workspace_state     text,
    -- [{ "stage", "started_at", "duration_ms", "succeeded" }]
    stage_timings       jsonb not null default '[]'::jsonb,
    -- The job running the plan, then the job running the apply: their logs are the run's log.
    plan_job_id         bigint,
    apply_job_id        bigint,
    requested_by        text not null,
    approved_by         text,
    approved_at         timestamptz,
    created_at          timestamptz not null default now(),
    finished_at         timestamptz
);

create index workspace_runs_by_workspace on workspace_runs (workspace_id, created_at desc);
