-- Offboarding: a tenant (with its subtree) leaves the platform (docs/offboarding.md, ADR 0100).
-- One row per offboarding. No foreign key to tenants: the row outlives the tenant's other rows until
-- the purge, and after it keeps only what proves the deletion (ids, hashes, the certificate's digest).
create table offboardings (
    id                      uuid primary key,
    tenant_id               uuid not null,
    -- Every tenant of the subtree, root first; what the steps and the purge act on.
    tenant_ids              uuid[] not null,
    status                  text not null check (status in ('running', 'awaiting_purge', 'purged', 'failed')),
    step                    text not null,
    requested_by            uuid,
    requested_by_name       text,
    started_at              timestamptz not null,
    finished_at             timestamptz,
    -- What was decided and found at the start: tenants, members, workspaces with their choice, accounts.
    plan                    jsonb,
    -- Per step: when it ended and what it did or left to the tenant (offline agents, role deletion).
    progress                jsonb not null default '{}'::jsonb,
    chain_heads_start       jsonb not null default '{}'::jsonb,
    chain_heads_end         jsonb,
    bundle                  bytea,
    bundle_sha256           bytea,
    certificate             text,
    certificate_sha256      bytea,
    -- Per cloud account, the last check that Cogrion can no longer assume its role: {checked_at, assumable, message}.
    role_checks             jsonb not null default '{}'::jsonb,
    purge_after             timestamptz,
    -- The job that will purge at purge_after; a platform admin's "purge now" cancels it and queues one for now.
    purge_job_id            bigint,
    purged_at               timestamptz,
    last_error              text
);

-- A second offboarding of the same tenant while one is under way is refused by this index.
create unique index offboardings_one_active on offboardings (tenant_id) where status in ('running', 'awaiting_purge');
create index offboardings_by_tenants on offboardings using gin (tenant_ids);

-- The Portal's deletion-certificate key when none is configured: generated once, its private key
-- protected by Data Protection (whose ring is shared in the database), so every replica signs alike.
create table offboarding_signing_keys (
    key_id                  text primary key,
    public_key              bytea not null,
    protected_private_key   text not null,
    created_at              timestamptz not null
);

-- What a purged tenant's audit chain leaves behind: each event's id, chain, and the two hashes. The
-- content goes (it is in the tenant's bundle); the hashes let anyone holding the bundle prove it is the
-- trail the Portal kept, and let a platform-wide check see where a purged chain was.
create table audit_event_tombstones (
    id          bigint primary key,
    tenant_id   uuid not null,
    prev_hash   bytea,
    hash        bytea not null,
    purged_at   timestamptz not null
);

create index audit_event_tombstones_by_tenant on audit_event_tombstones (tenant_id, id);

-- The one way around the append-only trail: a purge session names the tenant it purges
-- (set local cogrion.audit_purge_tenant), and only events of that tenant that already have their
-- tombstone may be deleted. UPDATE and TRUNCATE stay refused.
create or replace function audit_events_refuse_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE'
       and old.tenant_id is not null
       and current_setting('cogrion.audit_purge_tenant', true) = old.tenant_id::text
       and exists (select 1 from audit_event_tombstones t where t.id = old.id and t.hash = old.hash) then
        return old;
    end if;
    raise exception 'audit_events is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege';
end
$$;
