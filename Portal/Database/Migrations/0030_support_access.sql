-- Support access (issue 16, docs/support-access.md): time-bound, approved by a tenant admin's passkey,
-- enforced by the Cluster Agent. The Portal keeps requests, the passkeys' public keys and what support
-- asked; the agent keeps the grants it verified and decides.

-- A tenant admin's passkey (WebAuthn). Only the public key (COSE, base64url) is stored.
create table support_passkeys (
    credential_id  text primary key,
    tenant_id      uuid not null,
    user_id        uuid not null references users (id),
    name           text not null,
    public_key     text not null,
    rp_id          text not null,
    origin         text not null,
    created_at     timestamptz not null
);

create index support_passkeys_by_tenant on support_passkeys (tenant_id);

-- The tenant's approver sets, as its agents pin them. Versions only grow; a version after the first is
-- published only with an endorsement (an assertion by an approver of the previous published version).
create table support_approver_sets (
    tenant_id     uuid not null,
    version       bigint not null,
    body          jsonb not null,
    endorsement   jsonb,
    status        text not null check (status in ('awaiting_endorsement', 'published')),
    created_at    timestamptz not null,
    published_at  timestamptz,
    primary key (tenant_id, version)
);

-- One request for support access to one workspace. "Expired" (unanswered past answer_by) and "ended"
-- (approved, past not_after) are read-time rules on these columns, true whether or not housekeeping ran.
create table support_requests (
    id                 uuid primary key,
    tenant_id          uuid not null,
    workspace_id       uuid not null,
    agent_id           uuid not null,
    requester_id       uuid not null references users (id),
    requester_name     text not null,
    reason             text not null,
    ticket             text,
    scope              text not null check (scope in ('status', 'status+logs')),
    duration_minutes   int not null check (duration_minutes between 1 and 4320),
    status             text not null check (status in ('pending', 'approved', 'denied', 'revoked')),
    created_at         timestamptz not null,
    answer_by          timestamptz not null,
    not_before         timestamptz,
    not_after          timestamptz,
    decided_by         text,
    decided_at         timestamptz,
    grant_status       text check (grant_status in ('sent', 'recorded', 'refused')),
    grant_message      text,
    expiry_recorded    boolean not null default false
);

create index support_requests_by_tenant on support_requests (tenant_id, created_at desc);
create index support_requests_by_requester on support_requests (requester_id, created_at desc);

-- Every support action: what was asked (never what came back), under which grant, allowed or refused.
-- The answer lives in the agent command's result until the grant ends, then it is deleted.
create table support_actions (
    id            uuid primary key,
    request_id    uuid not null references support_requests (id) on delete cascade,
    tenant_id     uuid not null,
    command_id    uuid,
    action        text not null,
    target        text not null,
    asked_by      text not null,
    asked_at      timestamptz not null,
    outcome       text not null check (outcome in ('pending', 'allowed', 'refused', 'failed')),
    message       text,
    completed_at  timestamptz
);

create index support_actions_by_tenant on support_actions (tenant_id, asked_at desc);
create index support_actions_by_command on support_actions (command_id);
