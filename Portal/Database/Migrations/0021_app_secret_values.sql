-- The secret values of catalog apps (docs/catalog.md, "Secret values"): which of an app's secret value paths
-- the HelmRelease takes from their Kubernetes Secrets through valuesFrom. Paths only; the values go from the
-- browser to the agent sealed (docs/secrets.md) and are never stored here.
alter table workspace_apps add column secret_paths text[] not null default '{}';
alter table workspace_app_revisions add column secret_paths text[] not null default '{}';
