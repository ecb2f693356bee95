-- The agent versions this Portal has installed and upgraded to, and since when each was current.
-- How far behind an agent is in days is measured from the first release newer than the one it runs
-- (docs/agent-protocol.md, "Upgrades"); a Portal records its own current version when it starts.
create table agent_releases (
    version        text primary key,
    image          text not null,
    current_since  timestamptz not null
);
