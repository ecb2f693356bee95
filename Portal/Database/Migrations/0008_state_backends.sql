-- The OpenTofu state backend of each cloud account and region (docs/adr/0041): a bucket in the
-- tenant's account, created by the first run there with terraform/<cloud>/bootstrap. A row says the
-- Portal created it; 'ready' means its own state has moved into the bucket, and every workspace run
-- in that account and region can keep its state there.
create table state_backends (
    tenant_id           uuid not null references tenants (id) on delete cascade,
    cloud_account_id    uuid not null references cloud_accounts (id) on delete cascade,
    region              text not null,
    -- cogrion-tfstate-<account>-<region>, computed from the account and region, checked against the module's output.
    bucket              text not null,
    status              text not null check (status in ('creating', 'ready')),
    -- While 'creating': the bootstrap's local state as the last attempt left it, so that a retry after
    -- a cancel or a failure adopts what that attempt already created instead of colliding with it.
    -- Only ever the backend's own resources (bucket, key, policies), never a sensitive value: the
    -- Portal refuses to keep a state that marks anything sensitive. Null once 'ready'.
    pending_state       jsonb,
    created_by_run      uuid not null,
    created_at          timestamptz not null default now(),
    ready_at            timestamptz,
    primary key (cloud_account_id, region),
    constraint state_backends_pending_only_while_creating check (status = 'creating' or pending_state is null)
);

create index state_backends_by_tenant on state_backends (tenant_id);
