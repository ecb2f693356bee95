-- A catalog app's release stuck in a pending-* Helm state (docs/catalog.md, "Stuck releases"): when the agent's
-- reports first showed it stuck past the threshold, and when the Portal asked the agent to have Flux unlock and retry it.
alter table workspace_apps add column stuck_status text;
alter table workspace_apps add column stuck_since timestamptz;
alter table workspace_apps add column unlock_requested_at timestamptz;
