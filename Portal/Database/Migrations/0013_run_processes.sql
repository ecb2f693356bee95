-- The processes a run started, so that a worker that dies mid-run leaves a record a restarted one can
-- act on (docs/adr/0061): each tofu process runs under a lifeline in a process group of its own
-- (docs/adr/0060), named here by the system it ran on, its group's id (the lifeline's pid) and that
-- process's start time, which tells it from a later process that got the same pid.
create table run_processes (
    id              bigint generated always as identity primary key,
    tenant_id       uuid not null references tenants (id) on delete restrict,
    run_id          uuid not null references workspace_runs (id) on delete cascade,
    -- The job (and attempt, and worker) that started it: while that worker still holds that job, the
    -- process is its business; once it does not, whatever still runs is a leftover.
    job_id          bigint not null,
    attempt         integer not null,
    worker_id       text not null,
    -- The run's stage it served (TofuStage).
    stage           text not null,
    -- Kernel boot id and pid namespace: a pid means something only there (ProcessTable.ThisSystem).
    system          text not null,
    host            text not null,
    process_id      integer not null,
    -- Clock ticks since boot (/proc/<pid>/stat, field 22).
    start_ticks     bigint not null,
    started_at      timestamptz not null default now(),
    ended_at        timestamptz,
    -- exited: it ended while its worker watched; then what a sweep found: gone, interrupted, killed,
    -- or presumed (recorded on another system, whose lifeline has long ended it).
    ended_by        text check (ended_by in ('exited', 'gone', 'interrupted', 'killed', 'presumed')),
    constraint run_processes_ended_together check ((ended_at is null) = (ended_by is null))
);

create index run_processes_open on run_processes (run_id) where ended_at is null;

-- When the Portal found that the worker running the run had stopped (lease expired, or shut down
-- mid-run) and ended the run for it: the page says so and offers the next step.
alter table workspace_runs add column worker_lost_at timestamptz;
