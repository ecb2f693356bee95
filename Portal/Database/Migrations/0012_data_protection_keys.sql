-- The Data Protection key ring, shared by every replica (docs/adr/0059-data-protection-keys-in-postgresql.md).
-- Each row is one key's XML as the framework wrote it, after the framework's key encryptor ran:
-- the key material inside is encrypted with the operator's key-encryption key, so this table on
-- its own unprotects nothing. Rows are only ever added (expired keys stay, to read old payloads).
create table data_protection_keys (
    id            bigint generated always as identity primary key,
    friendly_name text not null unique,
    xml           text not null,
    created_at    timestamptz not null default now()
);
