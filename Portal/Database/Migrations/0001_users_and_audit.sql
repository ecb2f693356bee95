-- People who have signed in at least once. The identity provider owns the account;
-- the Portal keeps the subject to bind memberships and audit events to a stable id.
create table users (
    id              uuid primary key default gen_random_uuid(),
    subject         text not null unique,
    username        text not null,
    email           text,
    email_verified  boolean not null default false,
    display_name    text,
    created_at      timestamptz not null default now(),
    last_sign_in_at timestamptz
);

-- The audit trail. Append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and
-- tamper-evident: each event carries the SHA-256 of the previous event of the same
-- chain (one chain per tenant, one for platform-level events) and of its own content,
-- so a changed or removed row breaks every hash after it.
create table audit_events (
    id           bigint generated always as identity primary key,
    occurred_at  timestamptz not null,
    actor_kind   text not null check (actor_kind in ('user', 'agent', 'system')),
    actor_id     text not null,
    actor_name   text,
    tenant_id    uuid,
    action       text not null,
    target_kind  text,
    target_id    text,
    request_id   text,
    details      jsonb not null default '{}'::jsonb,
    prev_hash    bytea,
    hash         bytea not null
);

create index audit_events_by_time on audit_events (occurred_at desc, id desc);
create index audit_events_by_tenant on audit_events (tenant_id, occurred_at desc, id desc);
create index audit_events_by_actor on audit_events (actor_id, occurred_at desc);

-- The exact text that is hashed. Defined once here so writing and verifying cannot drift apart.
-- jsonb's text form is canonical (sorted keys, fixed spacing), and the timestamp is rendered in UTC
-- whatever the session's time zone.
create function audit_event_payload(
    occurred_at timestamptz, actor_kind text, actor_id text, actor_name text, tenant_id uuid,
    action text, target_kind text, target_id text, request_id text, details jsonb)
returns text language sql stable as $$
    select concat_ws(E'\x1f',
        to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor_kind, actor_id, coalesce(actor_name, ''), coalesce(tenant_id::text, ''),
        action, coalesce(target_kind, ''), coalesce(target_id, ''), coalesce(request_id, ''),
        details::text)
$$;

create function audit_events_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit_events is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_events_append_only
    before update or delete on audit_events
    for each row execute function audit_events_refuse_change();

create trigger audit_events_no_truncate
    before truncate on audit_events
    for each statement execute function audit_events_refuse_change();
