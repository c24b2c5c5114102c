-- Recurring jobs: one row per schedule, declared in code (upserted by workers when they start)
-- or managed at runtime through the admin API. Every worker runs a scheduler over this table;
-- which of them fires a tick does not matter, because firing is a compare-and-set on the row's
-- next_run_at in the same statement that inserts the tick's job (src/sql/schedules.ts).
CREATE TABLE {{schema}}.schedules (
  name         text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
  task         text        NOT NULL CHECK (length(task) BETWEEN 1 AND 128),
  payload      jsonb       NOT NULL DEFAULT 'null',
  -- Overrides of the task's enqueue options; NULL takes the task's row in the tasks table at
  -- each tick, else the built-in default, as SQL enqueue() does.
  queue        text        CHECK (length(queue) BETWEEN 1 AND 128),
  priority     smallint,
  max_attempts integer     CHECK (max_attempts >= 1),
  -- Copied to every job; the job's meta also gets {schedule, scheduledAt}.
  tags         text[]      NOT NULL DEFAULT '{}',
  meta         jsonb       NOT NULL DEFAULT '{}',
  -- Exactly one of: a cron expression (5 or 6 fields, read in time_zone), or an interval.
  cron         text,
  interval_ms  bigint      CHECK (interval_ms > 0),
  time_zone    text        NOT NULL DEFAULT 'UTC',
  -- After downtime: 'skip' the missed ticks, run 'once' for all of them, or run 'each' of the
  -- most recent catch_up_max.
  catch_up     text        NOT NULL DEFAULT 'once' CHECK (catch_up IN ('skip', 'once', 'each')),
  catch_up_max integer     CHECK (catch_up_max >= 1),
  paused_at    timestamptz,
  -- The tick to fire next. Ticks are computed in TypeScript (the cron library knows the time
  -- zones) and are whole milliseconds, so a reader can hand the value back for the compare.
  next_run_at  timestamptz NOT NULL,
  -- The latest tick that was fired: no tick at or before it is ever fired again.
  last_run_at  timestamptz,
  last_job_id  bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- When the definition last changed (not when it last fired): a tick planned from an older
  -- version of the row is not fired.
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((cron IS NULL) <> (interval_ms IS NULL)),
  CHECK ((catch_up = 'each') = (catch_up_max IS NOT NULL))
);

-- The schedulers' one read: the due schedules, and when the next one is due.
CREATE INDEX schedules_due_idx ON {{schema}}.schedules (next_run_at) WHERE paused_at IS NULL;

-- The backstop behind the compare-and-set: at most one live job per schedule and tick. Partial,
-- so that jobs without a tick (nearly all) cost an index nothing but the predicate's check.
CREATE UNIQUE INDEX jobs_schedule_tick_idx ON {{schema}}.jobs ((meta ->> 'schedule'), (meta ->> 'scheduledAt'))
  WHERE meta ? 'scheduledAt';
