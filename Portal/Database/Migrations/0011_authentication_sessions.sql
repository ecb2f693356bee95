-- Server-side sign-in sessions (docs/adr/0058-server-side-sessions-and-back-channel-logout.md).
-- The browser's cookie holds only a random session key; the authentication ticket (the person's
-- claims and their Keycloak tokens) lives here, protected by Data Protection before it is written,
-- so a database dump reveals no token. The row is keyed by the SHA-256 of the session key, so the
-- dump does not hold the key either. Ending a session is deleting its row: every replica reads
-- the row on every request, so the end takes effect at once everywhere.
create table authentication_sessions (
    key_hash          bytea primary key,
    -- Who and which identity-provider session, in plain text: what back-channel logout and
    -- "sign this user out everywhere" look sessions up by. None of it is a credential.
    subject           text not null,
    idp_session_id    text,
    user_id           uuid references users (id) on delete cascade,
    protected_ticket  bytea not null,
    created_at        timestamptz not null,
    renewed_at        timestamptz not null,
    expires_at        timestamptz not null
);

create index authentication_sessions_subject on authentication_sessions (subject);
create index authentication_sessions_idp_session on authentication_sessions (idp_session_id) where idp_session_id is not null;
create index authentication_sessions_user on authentication_sessions (user_id);
create index authentication_sessions_expiry on authentication_sessions (expires_at);

-- Logout tokens already acted on (OpenID Connect Back-Channel Logout 1.0, section 2.6: a jti seen
-- before is a replay). Kept a little longer than a logout token is accepted, then pruned.
create table backchannel_logout_tokens (
    issuer       text not null,
    jti          text not null,
    received_at  timestamptz not null,
    forget_after timestamptz not null,
    primary key (issuer, jti)
);

-- "Sign this user out everywhere": the realm may still hold the person's single sign-on session and
-- would sign them straight back in. A sign-in whose auth_time is not after revoked_at must be redone
-- with a password (the Portal asks the realm with prompt=login).
create table authentication_revocations (
    subject     text primary key,
    revoked_at  timestamptz not null
);
