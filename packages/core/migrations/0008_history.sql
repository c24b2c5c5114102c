-- The job lifecycle: what happened to a job after it left the live table, and what a caller
-- can ask of a job while it runs.

-- Tags (a few short strings) and metadata (a small object) set at enqueue, for filtering
-- and search; copied to the history row. Catalog-only additions: existing rows take the
-- defaults without a rewrite.
ALTER TABLE {{schema}}.jobs ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE {{schema}}.jobs ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';
-- The last value a running handler reported with ctx.progress() (throttled by the worker).
ALTER TABLE {{schema}}.jobs ADD COLUMN progress jsonb;
-- Set by cancelJob() on a job that is running: the worker holding it aborts its handler
-- (woken by a notification; a worker that claims a job with it set records it cancelled
-- without running it, which covers a holder that died before it heard).
ALTER TABLE {{schema}}.jobs ADD COLUMN cancel_requested_at timestamptz;
-- Set by waitFor(): the statement that finishes the job for good notifies the waiters'
-- channel. A flag on the row rather than a notification per finished job, because a
-- notification per job would serialise every worker's commit on the notify queue's lock.
ALTER TABLE {{schema}}.jobs ADD COLUMN waited boolean NOT NULL DEFAULT false;

-- Filters over live jobs by tag; partial, so untagged jobs (most) cost the index nothing.
CREATE INDEX jobs_tags_idx ON {{schema}}.jobs USING gin (tags) WHERE tags <> '{}';

-- Finished jobs: completed, and cancelled (before or while running). Failed-for-good jobs stay
-- in jobs (the dead-letter set, retried in place) and have a retention of their own. Written
-- by the same statement that deletes the job from jobs, so a job is in exactly one of the two.
--
-- Range-partitioned by finished_at, one partition per UTC hour, created ahead by the
-- maintenance run (history.ts): retention by age drops whole partitions instead of deleting
-- rows, so pruning a busy day costs a catalog change, not millions of dead tuples. The
-- DEFAULT partition catches rows for an hour whose partition does not exist yet (no worker
-- has run the maintenance for a long time); its rows are pruned by DELETE.
CREATE TABLE {{schema}}.job_history (
  id           bigint      NOT NULL,
  queue        text        NOT NULL,
  task         text        NOT NULL,
  payload      jsonb       NOT NULL,
  priority     smallint    NOT NULL,
  -- 'completed' or 'cancelled'.
  outcome      text        NOT NULL,
  -- The handler's return value (completed jobs; NULL when it returned undefined).
  result       jsonb,
  attempts     integer     NOT NULL,
  max_attempts integer     NOT NULL,
  -- The fencing token's counter, kept so a job retried from history goes on from it.
  claims       integer     NOT NULL DEFAULT 0,
  errors       jsonb       NOT NULL,
  tags         text[]      NOT NULL,
  meta         jsonb       NOT NULL,
  progress     jsonb,
  created_at   timestamptz NOT NULL,
  run_at       timestamptz NOT NULL,
  started_at   timestamptz,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  -- The id of the worker that ran the last attempt (its row in workers while it lives);
  -- NULL for a job cancelled before it ran.
  worker       text
) PARTITION BY RANGE (finished_at);

CREATE TABLE {{schema}}.job_history_default PARTITION OF {{schema}}.job_history DEFAULT;

-- Looking a job up by id (getJob, waitFor). One probe per partition: ~25 for a day of history.
CREATE INDEX job_history_id_idx ON {{schema}}.job_history (id);
-- Listing, newest first, keyset-paged, per queue or across queues.
CREATE INDEX job_history_queue_idx ON {{schema}}.job_history (queue, finished_at, id);
CREATE INDEX job_history_finished_idx ON {{schema}}.job_history (finished_at, id);
CREATE INDEX job_history_tags_idx ON {{schema}}.job_history USING gin (tags) WHERE tags <> '{}';

-- Retention per queue; NULL takes the default. `keep` is how long finished (completed or
-- cancelled) jobs are kept in job_history ('0' keeps none: the cheapest, the finish writes
-- nothing); `keep_count` caps how many are kept per queue. `failed_keep` and
-- `failed_keep_count` do the same for failed-for-good jobs in jobs (NULL: kept until retried
-- or deleted).
ALTER TABLE {{schema}}.queues ADD COLUMN keep interval CHECK (keep >= interval '0');
ALTER TABLE {{schema}}.queues ADD COLUMN keep_count integer CHECK (keep_count >= 0);
ALTER TABLE {{schema}}.queues ADD COLUMN failed_keep interval CHECK (failed_keep >= interval '0');
ALTER TABLE {{schema}}.queues ADD COLUMN failed_keep_count integer CHECK (failed_keep_count >= 0);

-- Run durations per minute, queue and worker, as a histogram: bucket i counts completed
-- attempts that took [2^(i-1), 2^i) ms (bucket 0: under 1 ms; the last: 2^30 ms and over).
-- Percentiles for the charts come from it without reading history rows, and it works with
-- "keep nothing" too.
ALTER TABLE {{schema}}.job_stats ADD COLUMN durations integer[];
