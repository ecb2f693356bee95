-- A Kubernetes upgrade is a run of its own kind ('upgrade'): it plans the workspace with the next minor
-- version in place of its own, and only when that apply succeeds does the workspace take the new version.
-- kubernetes_version: the version an upgrade run sets (null for every other kind of run).
alter table workspace_runs drop constraint workspace_runs_kind_check;
alter table workspace_runs add constraint workspace_runs_kind_check check (kind in ('apply', 'destroy', 'drift', 'unlock', 'upgrade'));
alter table workspace_runs add column kubernetes_version text;
alter table workspace_runs add constraint workspace_runs_upgrade_has_version
    check ((kind = 'upgrade') = (kubernetes_version is not null));
