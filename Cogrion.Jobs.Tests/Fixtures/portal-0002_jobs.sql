-- The durable job engine (Portal/Infrastructure/Jobs, explained in docs/jobs.md).
-- Every replica of the Portal shares these tables; PostgreSQL's row locks are the only coordination.

-- One row per job. A job is 'queued' until a worker claims it ('running'), then ends 'succeeded',
-- 'failed' (out of attempts) or 'cancelled'; a failed attempt with attempts left goes back to 'queued'
-- with run_after pushed out by the backoff.
create table jobs (
    id                  bigint generated always as identity primary key,
    kind                text not null,
    -- Never secret values: the engine refuses secret-looking keys at enqueue (ADR 0011).
    arguments           jsonb not null default '{}'::jsonb,
    -- Tenants live in another feature; no foreign key so jobs never block a tenant's deletion.
    tenant_id           uuid,
    state               text not null default 'queued'
                        check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- Higher runs first; within a priority, the older job (smaller id) runs first.
    priority            integer not null default 0,
    -- At most one active job per key; the others wait in id order.
    concurrency_key     text,
    run_after           timestamptz not null default now(),
    -- Attempts started so far (the current one included while running) and how many are allowed.
    attempt             integer not null default 0,
    max_attempts        integer not null check (max_attempts >= 1),
    worker_id           text,
    lease_expires_at    timestamptz,
    cancel_requested_at timestamptz,
    last_error          text,
    last_error_stack    text,
    created_by          text not null,
    -- Set when a recurring definition produced the job.
    recurring_name      text,
    created_at          timestamptz not null default now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    -- A running job always names its worker and its lease: that is what the reaper relies on.
    check (state <> 'running' or (worker_id is not null and lease_expires_at is not null))
);

-- The claim query's path: queued jobs in claim order.
create index jobs_claim_order on jobs (priority desc, id) where state = 'queued';
-- The reaper's path: running jobs by lease.
create index jobs_running_by_lease on jobs (lease_expires_at) where state = 'running';
-- "Is an older job of this key still active?" for the concurrency-key rule.
create index jobs_active_by_key on jobs (concurrency_key, id) where state in ('queued', 'running') and concurrency_key is not null;
-- Belt and braces for the same rule: should the claim logic ever be wrong, the database refuses
-- a second running job of one key instead of running it.
create unique index jobs_one_running_per_key on jobs (concurrency_key) where state = 'running' and concurrency_key is not null;
-- The console's list and charts.
create index jobs_by_created on jobs (created_at desc, id desc);
create index jobs_by_finished on jobs (finished_at) where finished_at is not null;
create index jobs_by_tenant on jobs (tenant_id, created_at desc) where tenant_id is not null;
create index jobs_by_worker on jobs (worker_id) where state = 'running';

-- One row per finished attempt: how it ended, where, and why. The current attempt of a running
-- job lives on the jobs row until it ends.
create table job_attempts (
    id           bigint generated always as identity primary key,
    job_id       bigint not null references jobs (id) on delete cascade,
    attempt      integer not null,
    worker_id    text,
    started_at   timestamptz,
    finished_at  timestamptz not null,
    outcome      text not null check (outcome in ('succeeded', 'failed', 'cancelled', 'lease_expired', 'released')),
    error        text,
    stack_trace  text
);

create index job_attempts_by_job on job_attempts (job_id, id);
create index job_attempts_by_finished on job_attempts (finished_at);

-- Log lines a job appends while it runs; streamed live to the console through NOTIFY.
create table job_logs (
    id         bigint generated always as identity primary key,
    job_id     bigint not null references jobs (id) on delete cascade,
    attempt    integer not null,
    logged_at  timestamptz not null default now(),
    line       text not null
);

create index job_logs_by_job on job_logs (job_id, id);

-- Every replica's worker pool, with its heartbeat; the console's workers view.
create table job_workers (
    id            text primary key,
    host          text not null,
    process_id    integer not null,
    slots         integer not null,
    started_at    timestamptz not null default now(),
    heartbeat_at  timestamptz not null default now(),
    stopped_at    timestamptz
);

-- Recurring jobs are defined in code; this table holds when each one is next due. The scheduler
-- locks a due row, enqueues, and moves next_run_at forward in one transaction: exactly once.
create table recurring_jobs (
    name          text primary key,
    schedule      text not null,
    kind          text not null,
    next_run_at   timestamptz not null,
    last_job_id   bigint,
    updated_at    timestamptz not null default now()
);

-- Queue depth sampled once a minute by a recurring job, for the console's queue-depth chart.
create table job_queue_samples (
    sampled_at  timestamptz primary key,
    queued      integer not null,
    running     integer not null
);

-- Every change of a job's state is announced on the 'portal_jobs' channel (payloads are parsed by
-- JobNotification.Parse). A trigger rather than a pg_notify next to each UPDATE: no statement can
-- forget it, and NOTIFY is delivered only when the transaction commits, so listeners never hear
-- of a change that was rolled back. Identical payloads within one transaction are folded into one.
create function jobs_notify_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        perform pg_notify('portal_jobs', 'deleted:' || old.id);
        return old;
    end if;
    if tg_op = 'INSERT' or new.state is distinct from old.state then
        if new.state = 'queued' then
            perform pg_notify('portal_jobs', 'queued:' || new.id);
        else
            perform pg_notify('portal_jobs', 'state:' || new.id || ':' || new.state);
        end if;
        -- A job of a concurrency key that stops being active lets the next one of its key run.
        if tg_op = 'UPDATE' and new.concurrency_key is not null and new.state not in ('queued', 'running') then
            perform pg_notify('portal_jobs', 'wake');
        end if;
    end if;
    if tg_op = 'UPDATE' and new.state = 'running' and new.cancel_requested_at is not null and old.cancel_requested_at is null then
        perform pg_notify('portal_jobs', 'cancel:' || new.id);
    end if;
    return new;
end
$$;

create trigger jobs_notify_change
    after insert or update of state, cancel_requested_at or delete on jobs
    for each row execute function jobs_notify_change();

-- "When is the next delayed job (a retry's backoff) due?", asked by an idle worker pool.
create index jobs_queued_by_run_after on jobs (run_after) where state = 'queued';
