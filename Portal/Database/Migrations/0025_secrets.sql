-- Tenant secrets delivered from the browser to the Cluster Agent (docs/secrets.md). The Portal never
-- holds a value: only metadata, and ciphertext sealed to the agent's key until the agent acknowledges it.

-- An agent's encryption key statements (compact JWS signed by its identity key). Senders verify the
-- signature themselves against a fingerprint they pinned; the Portal also checks it on receipt.
create table agent_encryption_keys (
    agent_id      uuid not null references agents (id) on delete cascade,
    key_id        text not null,
    statement     text not null,
    not_after     timestamptz not null,
    published_at  timestamptz not null,
    primary key (agent_id, key_id)
);

-- One Kubernetes Secret of a workspace, as metadata: where it goes, its keys (names only), its version,
-- who changed it and when, and whether the agent has applied (or refused) the last version.
create table workspace_secrets (
    id              uuid primary key,
    tenant_id       uuid not null,
    workspace_id    uuid not null,
    namespace       text not null,
    name            text not null,
    keys            text[] not null,
    version         bigint not null,
    status          text not null check (status in ('pending', 'applied', 'refused', 'failed', 'deleting')),
    status_message  text,
    command_id      uuid,
    updated_by      text not null,
    updated_at      timestamptz not null,
    created_at      timestamptz not null,
    unique (workspace_id, namespace, name)
);

create index workspace_secrets_by_tenant on workspace_secrets (tenant_id, workspace_id);

-- Ciphertext in flight: deleted when the agent reports the delivery's command (applied or refused), or
-- by housekeeping once past its not-after (at most 24 h after it was sealed).
create table secret_deliveries (
    id          uuid primary key,
    secret_id   uuid not null references workspace_secrets (id) on delete cascade,
    agent_id    uuid not null references agents (id) on delete cascade,
    tenant_id   uuid not null,
    request_id  uuid not null unique,
    sealed      jsonb not null,
    not_after   timestamptz not null,
    created_at  timestamptz not null
);

create index secret_deliveries_by_expiry on secret_deliveries (not_after);
