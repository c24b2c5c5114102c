-- Tags and metadata at enqueue from SQL, and the indexes that search over them needs.

-- enqueue() gains tags and meta, after the existing parameters so that calls by position keep
-- working. Dropped and created rather than replaced: a second signature with defaults would
-- make every call that gives six arguments or fewer ambiguous. (A GRANT EXECUTE on the old
-- function is dropped with it; grant it again.) Same behaviour as in 0005 otherwise. Limits as
-- in the TypeScript client: at most 16 tags of 1 to 64 characters, meta a JSON object of at
-- most 4 KB; a NULL (or an empty array, or '{}') is none.
DROP FUNCTION {{schema}}.enqueue(text, jsonb, text, timestamptz, integer, integer);

CREATE FUNCTION {{schema}}.enqueue(
  task         text,
  payload      jsonb       DEFAULT 'null',
  queue        text        DEFAULT NULL,
  run_at       timestamptz DEFAULT NULL,
  priority     integer     DEFAULT NULL,
  max_attempts integer     DEFAULT NULL,
  tags         text[]      DEFAULT NULL,
  meta         jsonb       DEFAULT NULL
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
  IF cardinality(tags) > 16 THEN
    RAISE EXCEPTION 'enqueue(%): at most 16 tags are allowed, got %', task, cardinality(tags)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT FROM unnest(tags) AS g WHERE g IS NULL OR length(g) NOT BETWEEN 1 AND 64) THEN
    RAISE EXCEPTION 'enqueue(%): each tag must be 1 to 64 characters (not NULL), got %', task, tags
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF jsonb_typeof(meta) <> 'object' THEN
    RAISE EXCEPTION 'enqueue(%): meta must be a JSON object, got %', task, jsonb_typeof(meta)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF octet_length(meta::text) > 4096 THEN
    RAISE EXCEPTION 'enqueue(%): meta is % bytes as JSON, over the limit of 4096', task, octet_length(meta::text)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF queue IS NULL OR priority IS NULL OR max_attempts IS NULL THEN
    SELECT * INTO known FROM tasks t WHERE t.name = task;
  END IF;
  INSERT INTO jobs (task, payload, queue, run_at, priority, max_attempts, tags, meta)
  VALUES (task, coalesce(payload, 'null'::jsonb), coalesce(queue, known.queue, 'default'), due,
          coalesce(priority, known.priority, 0), coalesce(max_attempts, known.max_attempts, 25),
          coalesce(tags, '{}'), coalesce(meta, '{}'))
  RETURNING jobs.id, jobs.queue INTO new_id, new_queue;
  PERFORM pg_notify(current_schema() || ':jobs', json_build_object(
    'q', new_queue,
    'd', greatest(0, floor(extract(epoch FROM due - now()) * 1000))::bigint
  )::text);
  RETURN new_id;
END
$$;

-- insert_jobs() as in 0005 with each row's tags (a JSON array, or NULL for none) and meta (or
-- NULL): a text[] parameter cannot carry rows' tag lists of different lengths. The client
-- checks the limits before it calls. The 8-argument version stays for clients of the previous
-- release during a rolling deploy (their jobs get no tags); the two cannot be confused, as
-- neither has defaults.
CREATE FUNCTION {{schema}}.insert_jobs(
  p_task     text[],
  p_queue    text[],
  p_payload  jsonb[],
  p_priority smallint[],
  p_run_at   timestamptz[],
  p_delay_ms float8[],
  p_max_attempts integer[],
  p_tags     jsonb[],
  p_meta     jsonb[],
  p_lookup   text[]
) RETURNS TABLE (
  id text, run_at float8, created_at float8, delay_ms float8, queue text, priority smallint, max_attempts integer
) LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  INSERT INTO jobs AS j (task, queue, payload, priority, run_at, max_attempts, tags, meta)
  SELECT u.t, coalesce(u.q, k.m -> u.t ->> 0, 'default'), u.p,
    coalesce(u.pr, (k.m -> u.t ->> 1)::smallint, 0),
    coalesce(u.ra, now() + u.d * interval '1 millisecond'),
    coalesce(u.ma, (k.m -> u.t ->> 2)::integer, 25),
    CASE WHEN u.tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(u.tg)) END,
    coalesce(u.me, '{}')
  FROM (
    SELECT coalesce(jsonb_object_agg(x.name, jsonb_build_array(x.queue, x.priority, x.max_attempts)),
      '{}') AS m
    FROM tasks x WHERE x.name = ANY(p_lookup)
  ) AS k,
  unnest(p_task, p_queue, p_payload, p_priority, p_run_at, p_delay_ms, p_max_attempts, p_tags, p_meta)
    AS u(t, q, p, pr, ra, d, ma, tg, me)
  RETURNING j.id::text, (extract(epoch FROM j.run_at) * 1000)::float8,
    (extract(epoch FROM j.created_at) * 1000)::float8,
    greatest(0, floor(extract(epoch FROM j.run_at - now()) * 1000))::float8,
    j.queue, j.priority, j.max_attempts;
END
$$;

-- Search by metadata (listJobs({ meta })): containment, so jsonb_path_ops, the smaller and
-- faster of the two GIN operator classes for @>. Partial, like the tag indexes in 0008: jobs
-- without meta (most) cost the index nothing at enqueue or in the finish.
CREATE INDEX jobs_meta_idx ON {{schema}}.jobs USING gin (meta jsonb_path_ops) WHERE meta <> '{}';
CREATE INDEX job_history_meta_idx ON {{schema}}.job_history USING gin (meta jsonb_path_ops)
  WHERE meta <> '{}';

-- Listing cancelled jobs newest first (listJobs({ state: 'cancelled' })): they are few among
-- the completed, which an ordered walk of job_history_finished_idx would have to skip.
CREATE INDEX job_history_cancelled_idx ON {{schema}}.job_history (finished_at, id) WHERE outcome = 'cancelled';
