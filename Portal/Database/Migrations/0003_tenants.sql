-- Tenants, their nesting, the people in them, and invitations to join.
-- See docs/tenants.md for the model and docs/adr/0020..0024 for the decisions behind it.

-- Roles within a tenant, weakest first. An enum compares in declaration order, so
-- "at least operator" is simply role >= 'operator' and max(role) is the strongest grant.
create type tenant_role as enum ('viewer', 'operator', 'admin');

-- A tenant is a company (or a team or customer of one) on the platform. Tenants nest through
-- parent_id; access flows down the tree, never up. The slug is the tenant's name in every URL
-- (/t/{slug}/...) and a DNS label; the domain is where its workspaces live (<workspace>.<domain>).
create table tenants (
    id          uuid primary key default gen_random_uuid(),
    parent_id   uuid references tenants (id) on delete restrict,
    slug        text not null check (slug ~ '^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$'),
    name        text not null check (length(btrim(name)) between 1 and 100),
    domain      text not null check (length(domain) <= 253 and domain ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'),
    created_at  timestamptz not null default now(),
    created_by  uuid references users (id) on delete set null,
    check (parent_id is distinct from id),
    constraint tenants_slug_unique unique (slug),
    constraint tenants_domain_unique unique (domain)
);

create index tenants_by_parent on tenants (parent_id);

-- A person's own role in one tenant. Roles inherited from an ancestor are not stored: they are
-- computed from the tree when access is checked, so moving or removing a grant needs no fan-out.
create table tenant_memberships (
    tenant_id   uuid not null references tenants (id) on delete cascade,
    user_id     uuid not null references users (id) on delete cascade,
    role        tenant_role not null,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, user_id)
);

create index tenant_memberships_by_user on tenant_memberships (user_id);

-- An invitation binds to the account whose VERIFIED e-mail matches, at that account's next
-- sign-in. No token is issued: the e-mail proof comes from the identity provider, so there is
-- no secret to store, leak or forward (docs/adr/0023-invitations-bind-by-verified-email.md).
create table tenant_invitations (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references tenants (id) on delete cascade,
    email        text not null check (email = lower(email) and position('@' in email) > 1),
    role         tenant_role not null,
    invited_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null,
    sent_at      timestamptz not null,
    expires_at   timestamptz not null,
    accepted_at  timestamptz,
    accepted_by  uuid references users (id) on delete set null,
    revoked_at   timestamptz,
    check (accepted_at is null or revoked_at is null)
);

-- One open invitation per address and tenant: a second invite is a "resend", not a duplicate.
create unique index tenant_invitations_one_open on tenant_invitations (tenant_id, email)
    where accepted_at is null and revoked_at is null;
create index tenant_invitations_by_email on tenant_invitations (email)
    where accepted_at is null and revoked_at is null;

-- Where /dashboard sends a person: the tenant they used last. A navigation preference, not tenant data.
alter table users add column last_tenant_id uuid references tenants (id) on delete set null;

-- The onboarding wizard's progress per person, so it resumes where they left off. The steps are
-- code (IOnboardingStep); this row only remembers the draft answers and which steps are done.
create table onboarding_progress (
    user_id          uuid primary key references users (id) on delete cascade,
    tenant_id        uuid references tenants (id) on delete set null,
    draft            jsonb not null default '{}'::jsonb,
    completed_steps  text[] not null default '{}',
    updated_at       timestamptz not null
);
