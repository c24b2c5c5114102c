-- Each task's enqueue options, as its workers (and producers with its definition or contract)
-- declared them, for producers that enqueue it without the definition: SQL enqueue(), other
-- languages, and TypeScript producers that only have the payload types. Workers upsert their
-- tasks' rows when they start; the last writer wins. An enqueue that gives an option, or that
-- has the task's definition, does not read this table for it.
CREATE TABLE {{schema}}.tasks (
  name         text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
  queue        text        NOT NULL CHECK (length(queue) BETWEEN 1 AND 128),
  priority     smallint    NOT NULL,
  max_attempts integer     NOT NULL CHECK (max_attempts >= 1),
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- When the options last changed (a registration with the same options leaves the row alone).
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Same signature as in 0001, but queue, priority and max_attempts default to NULL: a NULL
-- takes the task's row in the tasks table, else the built-in default ('default', 0, 25).
-- The notification names the queue the job went to.
CREATE OR REPLACE FUNCTION {{schema}}.enqueue(
  task         text,
  payload      jsonb       DEFAULT 'null',
  queue        text        DEFAULT NULL,
  run_at       timestamptz DEFAULT NULL,
  priority     integer     DEFAULT NULL,
  max_attempts integer     DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  due       timestamptz := coalesce(run_at, now());
  known     tasks%ROWTYPE;
  new_id    bigint;
  new_queue text;
BEGIN
  IF queue IS NULL OR priority IS NULL OR max_attempts IS NULL THEN
    SELECT * INTO known FROM tasks t WHERE t.name = task;
  END IF;
  INSERT INTO jobs (task, payload, queue, run_at, priority, max_attempts)
  VALUES (task, coalesce(payload, 'null'::jsonb), coalesce(queue, known.queue, 'default'), due,
          coalesce(priority, known.priority, 0), coalesce(max_attempts, known.max_attempts, 25))
  RETURNING jobs.id, jobs.queue INTO new_id, new_queue;
  PERFORM pg_notify(current_schema() || ':jobs', json_build_object(
    'q', new_queue,
    'd', greatest(0, floor(extract(epoch FROM due - now()) * 1000))::bigint
  )::text);
  RETURN new_id;
END
$$;

-- Inserts a batch of jobs for @queue/core's TypeScript client when it has no definition of
-- their tasks (arrays column by column, as its own INSERT does). Internal: its signature may
-- change with the package; call enqueue() from SQL. NULL options are filled as in enqueue(),
-- reading the tasks table once, for the tasks named in p_lookup. A function so that its plan
-- is kept for the session instead of planned per statement (measured in src/sql/enqueue.ts).
-- Rows keep their input order, so ids are assigned in it: the one-row lookup cross-joined
-- with the rows can only be a nested loop.
CREATE FUNCTION {{schema}}.insert_jobs(
  p_task     text[],
  p_queue    text[],
  p_payload  jsonb[],
  p_priority smallint[],
  p_run_at   timestamptz[],
  p_delay_ms float8[],
  p_max_attempts integer[],
  p_lookup   text[]
) RETURNS TABLE (
  id text, run_at float8, created_at float8, delay_ms float8, queue text, priority smallint, max_attempts integer
) LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  INSERT INTO jobs AS j (task, queue, payload, priority, run_at, max_attempts)
  SELECT u.t, coalesce(u.q, k.m -> u.t ->> 0, 'default'), u.p,
    coalesce(u.pr, (k.m -> u.t ->> 1)::smallint, 0),
    coalesce(u.ra, now() + u.d * interval '1 millisecond'),
    coalesce(u.ma, (k.m -> u.t ->> 2)::integer, 25)
  FROM (
    SELECT coalesce(jsonb_object_agg(x.name, jsonb_build_array(x.queue, x.priority, x.max_attempts)),
      '{}') AS m
    FROM tasks x WHERE x.name = ANY(p_lookup)
  ) AS k,
  unnest(p_task, p_queue, p_payload, p_priority, p_run_at, p_delay_ms, p_max_attempts)
    AS u(t, q, p, pr, ra, d, ma)
  RETURNING j.id::text, (extract(epoch FROM j.run_at) * 1000)::float8,
    (extract(epoch FROM j.created_at) * 1000)::float8,
    greatest(0, floor(extract(epoch FROM j.run_at - now()) * 1000))::float8,
    j.queue, j.priority, j.max_attempts;
END
$$;
