-- Cluster Agents (docs/agent-protocol.md). tenant_id and workspace_id are plain uuids for now:
-- the tenants and workspaces tables arrive on their own branches, and the foreign keys
-- (on delete restrict) are added by the migration that lands after both.

-- One-time bootstrap tokens. Only the SHA-256 of the token is stored; the token itself is shown
-- once to whoever minted it (or handed to the provisioning run) and never written anywhere else.
create table agent_bootstrap_tokens (
    id            uuid primary key,
    token_hash    bytea not null unique,
    tenant_id     uuid not null,
    workspace_id  uuid not null,
    created_at    timestamptz not null,
    expires_at    timestamptz not null,
    created_by    text not null,
    used_at       timestamptz,
    agent_id      uuid
);

create table agents (
    id                       uuid primary key,
    tenant_id                uuid not null,
    workspace_id             uuid not null,
    name                     text not null,
    -- The agent's ECDSA P-256 public key (SubjectPublicKeyInfo, DER). The private key never leaves the cluster.
    public_key               bytea not null,
    key_id                   text not null,
    key_rotated_at           timestamptz,
    token_audience           text not null,
    status                   text not null default 'active' check (status in ('active', 'revoked', 'uninstalled')),
    status_reason            text,
    status_changed_at        timestamptz,
    -- The current access token: SHA-256 of its secret part only. One per agent; a new one replaces it.
    access_token_hash        bytea,
    access_token_expires_at  timestamptz,
    registered_at            timestamptz not null,
    last_seen_at             timestamptz,
    agent_version            text,
    kubernetes_version       text,
    inventory                jsonb not null default '{}'::jsonb
);

create index agents_by_workspace on agents (tenant_id, workspace_id);

-- Client assertion ids (jti) seen, kept until the assertion would have expired anyway: a replayed
-- assertion hits the primary key. Expired rows are deleted by AgentHousekeeping.
create table agent_assertion_ids (
    agent_id    uuid not null,
    jti         text not null,
    expires_at  timestamptz not null,
    primary key (agent_id, jti)
);

create index agent_assertion_ids_by_expiry on agent_assertion_ids (expires_at);

-- Commands for agents. A command stays 'pending' until its agent reports a result (at-least-once
-- delivery); 'envelope' is the Portal-signed JWS the agent verifies before acting.
create table agent_commands (
    id               uuid primary key,
    agent_id         uuid not null references agents (id),
    tenant_id        uuid not null,
    type             text not null,
    payload          jsonb not null,
    idempotency_key  text not null,
    envelope         text not null,
    status           text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'rejected')),
    created_at       timestamptz not null,
    created_by       text not null,
    expires_at       timestamptz not null,
    delivered_at     timestamptz,
    delivery_count   integer not null default 0,
    completed_at     timestamptz,
    result_message   text,
    result_output    jsonb,
    unique (agent_id, idempotency_key)
);

create index agent_commands_pending on agent_commands (agent_id, created_at) where status = 'pending';
create index agent_commands_by_agent on agent_commands (agent_id, created_at desc);

-- The Portal's command-signing key when none is configured: generated once, its private key
-- protected with ASP.NET Core Data Protection, shared by every replica through this table.
create table agent_command_signing_keys (
    key_id                 text primary key,
    public_key             bytea not null,
    protected_private_key  text not null,
    created_at             timestamptz not null
);
