-- Unique jobs: a key per job, and enqueue modes that deduplicate, replace, debounce or throttle
-- by it (README "Unique jobs"). Catalog-only column additions: existing rows take NULL.

-- The job's key, for its whole life (queued, running, retrying, failed), copied to the history
-- by the finish so that the period and throttle modes can look back at finished runs.
-- Collation "C": keys are compared bytewise (equality is the same as under any deterministic
-- collation, and comparing is cheaper); they are never sorted for display.
ALTER TABLE {{schema}}.jobs ADD COLUMN unique_key text COLLATE "C";
-- true while the job holds its key's one queued slot: from its enqueue until a worker first
-- claims it, when the claim sets it to NULL (a running job no longer blocks a new one in the
-- default mode). NULL otherwise, and always NULL for jobs without a key, so that the claim's
-- `unique_queued = NULL` leaves their rows unchanged and their update HOT. "Not yet started"
-- could not be told from started_at or attempts instead: an index whose predicate names a
-- column the claim always changes makes every claim a non-HOT update, keyed or not (measured:
-- 0 of 1,000 claims HOT with such an index, against the same count as before without it).
ALTER TABLE {{schema}}.jobs ADD COLUMN unique_queued boolean;
ALTER TABLE {{schema}}.job_history ADD COLUMN unique_key text COLLATE "C";

-- One index for both look-ups a key needs, so that a keyed job costs one index entry more than
-- a plain one: (key, slot), where slot is 0 for the job holding the key's queued slot and the
-- job's id for every other job of the key. Unique, so at most one queued job per key: what makes
-- a concurrent enqueue of the key from any process wait for the first one's transaction and then
-- find its job (INSERT ... ON CONFLICT DO NOTHING). Its prefix finds every live job of a key
-- (the 'active', 'period' and 'throttle' look-ups). failed_at in the slot (an indexed column
-- already, so no cost to HOT updates): a job failed by hand never keeps the slot. Partial, so
-- jobs without a key cost it nothing. (Two indexes, a unique one over queued jobs and a plain
-- one over all keyed jobs, made a keyed batch of 1,000 cost ~10% more.) The slot expression is
-- spelled the same wherever it is used below: ON CONFLICT finds the index by it.
CREATE UNIQUE INDEX jobs_unique_idx ON {{schema}}.jobs
  (unique_key, (CASE WHEN unique_queued AND failed_at IS NULL THEN 0 ELSE id END))
  WHERE unique_key IS NOT NULL;
-- Finished jobs of a key, recent first (period and throttle); finished_at also prunes partitions.
CREATE INDEX job_history_unique_key_idx ON {{schema}}.job_history (unique_key, finished_at)
  WHERE unique_key IS NOT NULL;

-- The key derived from a task and payload fields: `<task>:<the fields as a JSON object>`, the
-- object as jsonb prints it (keys sorted by length, then bytes; `{"userId": 42}`), so any producer
-- (TypeScript, SQL, another language) derives the same key from the same stored payload. A key
-- that would be longer than 256 characters is `<task>:md5:<md5 of that object>` instead. A field
-- the payload lacks is left out here; the callers refuse it first.
CREATE FUNCTION {{schema}}.unique_key_of(task text, payload jsonb, fields text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN length(task) + 1 + length(x.o) <= 256 THEN task || ':' || x.o
    ELSE task || ':md5:' || md5(x.o) END
  FROM (SELECT jsonb_object_agg(f, payload -> f)::text AS o FROM unnest(fields) AS f) x
$$;

-- Settles one job with a unique key (or none), in one of the modes: the per-row half of
-- insert_unique_jobs() below, whose comments give the design, and what the TypeScript client
-- calls for a single enqueue whose options it has resolved and whose key it gives (p_lock: take
-- the key's lock here; a call costs ~0.23 ms against ~0.40 ms through insert_unique_jobs(), inside
-- a transaction on PostgreSQL 15).
-- Internal. p_due is the job's run time as the enqueue gave it (debounce computes its own);
-- queue, priority and max_attempts come resolved. Returns one row, as insert_unique_jobs() does.
--
-- A VOLATILE function: each statement in it takes a fresh snapshot (READ COMMITTED), so what it
-- reads includes everything committed before it ran (after the key's lock, in the locking
-- modes), and the rows the calling statement and earlier calls in it have written.
CREATE FUNCTION {{schema}}.settle_unique_job(
  p_ord          integer,
  p_task         text,
  p_queue        text,
  p_payload      jsonb,
  p_priority     smallint,
  p_due          timestamptz,
  p_max_attempts integer,
  p_tags         text[],
  p_meta         jsonb,
  p_key          text,
  p_mode         text,
  p_ms           float8,
  p_max_wait     float8,
  p_lock_namespace integer,
  p_lock         boolean DEFAULT false
) RETURNS TABLE (
  o_ord integer, o_outcome text, o_id text, o_run_at float8, o_created_at float8, o_delay_ms float8,
  o_queue text, o_priority smallint, o_max_attempts integer, o_key text, o_existing jsonb
) LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
DECLARE
  v_mode   text := coalesce(p_mode, 'queued');
  v_len    interval := p_ms * interval '1 millisecond';
  v_due    timestamptz := p_due;
  v_mask   bigint := p_lock_namespace::bigint << 32;
  v_anchor timestamptz;
  v_rec    record;
  v_tries  integer := 0;
  v_since  timestamptz := clock_timestamp();
BEGIN
  IF v_mode NOT IN ('queued', 'active', 'replace', 'period', 'debounce', 'throttle', 'throttle_last') THEN
    RAISE EXCEPTION 'settle_unique_job(): unknown unique mode %', quote_literal(v_mode)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_mode = 'debounce' THEN
    v_due := now() + v_len;
  END IF;
  -- A single enqueue in a locking mode comes here directly and takes its key's lock itself
  -- (insert_unique_jobs() takes a batch's locks, in one order, before it calls this).
  IF p_lock AND p_key IS NOT NULL AND v_mode <> 'queued' THEN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'unique modes other than ''queued'' need a READ COMMITTED transaction, not %',
        upper(current_setting('transaction_isolation')) USING ERRCODE = 'invalid_transaction_state';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || ':unique') | x'80000000'::integer, hashtext(p_key));
  END IF;
  LOOP
    IF p_key IS NOT NULL THEN
      -- 1. The key's queued job, written over or standing for this enqueue.
      IF v_mode IN ('replace', 'debounce', 'throttle_last') THEN
        UPDATE jobs AS j SET task = p_task, queue = p_queue, payload = p_payload, priority = p_priority,
          max_attempts = p_max_attempts, tags = p_tags, meta = p_meta,
          run_at = CASE v_mode WHEN 'replace' THEN v_due
            WHEN 'debounce' THEN least(greatest(j.run_at, v_due), j.created_at + p_max_wait * interval '1 millisecond')
            ELSE j.run_at END
        WHERE j.unique_key = p_key AND (CASE WHEN j.unique_queued AND j.failed_at IS NULL THEN 0 ELSE j.id END) = 0
          AND pg_try_advisory_xact_lock(j.id # v_mask)
        RETURNING j.* INTO v_rec;
        IF FOUND THEN
          o_outcome := 'replaced';
          EXIT;
        END IF;
      ELSIF v_mode = 'active' THEN
        -- Any live job that has not failed: queued (preferred: it runs after this enqueue),
        -- running, or waiting to retry.
        SELECT j.* INTO v_rec FROM jobs j WHERE j.unique_key = p_key AND j.failed_at IS NULL
          ORDER BY j.unique_queued IS TRUE DESC, j.id DESC LIMIT 1;
        IF FOUND THEN
          o_outcome := 'deduplicated';
          EXIT;
        END IF;
      ELSE
        SELECT j.* INTO v_rec FROM jobs j
          WHERE j.unique_key = p_key AND (CASE WHEN j.unique_queued AND j.failed_at IS NULL THEN 0 ELSE j.id END) = 0;
        IF FOUND THEN
          o_outcome := 'deduplicated';
          EXIT;
        END IF;
      END IF;
      -- 2. Jobs of the key that have started: a recent one stands for this enqueue (period) or
      -- spaces the new one from its start (throttle).
      IF v_mode = 'period' THEN
        SELECT j.* INTO v_rec FROM jobs j
          WHERE j.unique_key = p_key AND j.failed_at IS NULL AND j.created_at > now() - v_len
          ORDER BY j.id DESC LIMIT 1;
        IF FOUND THEN
          o_outcome := 'deduplicated';
          EXIT;
        END IF;
        -- A job created within the period also finished within it: finished_at prunes the
        -- partitions to those hours.
        SELECT h.id, h.task, h.queue, h.payload, h.priority, h.run_at, h.attempts, h.max_attempts,
            h.errors, NULL::timestamptz AS failed_at, h.created_at, h.started_at, h.tags, h.meta
          INTO v_rec FROM job_history h
          WHERE h.unique_key = p_key AND h.outcome = 'completed' AND h.finished_at > now() - v_len
            AND h.created_at > now() - v_len
          ORDER BY h.finished_at DESC LIMIT 1;
        IF FOUND THEN
          o_outcome := 'deduplicated';
          EXIT;
        END IF;
      ELSIF v_mode IN ('throttle', 'throttle_last') THEN
        -- The latest start of a run of the key, live or finished; a run that started within
        -- the period also finished within it.
        SELECT max(j.started_at) INTO v_anchor FROM jobs j WHERE j.unique_key = p_key;
        SELECT greatest(v_anchor, max(h.started_at)) INTO v_anchor FROM job_history h
          WHERE h.unique_key = p_key AND h.finished_at > now() - v_len;
        v_due := greatest(now(), v_anchor + v_len);
      END IF;
    END IF;
    -- 3. A new job, holding the key's queued slot. A conflict means another transaction has
    -- just committed a queued job of the key (the INSERT waited for it): look again.
    INSERT INTO jobs AS j (task, queue, payload, priority, run_at, max_attempts, tags, meta,
        unique_key, unique_queued)
      VALUES (p_task, p_queue, p_payload, p_priority, v_due, p_max_attempts, p_tags, p_meta, p_key,
        CASE WHEN p_key IS NOT NULL THEN true END)
      ON CONFLICT (unique_key, (CASE WHEN unique_queued AND failed_at IS NULL THEN 0 ELSE id END))
        WHERE unique_key IS NOT NULL DO NOTHING
      RETURNING j.* INTO v_rec;
    IF FOUND THEN
      o_outcome := 'inserted';
      EXIT;
    END IF;
    -- Each turn waits for the transaction it conflicted with, so turns are few. The one state
    -- that can last a few turns: a queued job a worker has locked to claim (replace and the
    -- like leave it alone, the INSERT meets it) until the claim's statement commits.
    v_tries := v_tries + 1;
    IF v_tries > 10 THEN
      PERFORM pg_sleep(0.001);
      IF clock_timestamp() - v_since > interval '10 seconds' THEN
        RAISE EXCEPTION 'settle_unique_job(): could not settle unique key % in % turns over 10 s',
          quote_literal(p_key), v_tries USING ERRCODE = 'serialization_failure';
      END IF;
    END IF;
  END LOOP;
  o_ord := p_ord;
  o_id := v_rec.id::text;
  o_run_at := (extract(epoch FROM v_rec.run_at) * 1000)::float8;
  o_created_at := (extract(epoch FROM v_rec.created_at) * 1000)::float8;
  o_delay_ms := greatest(0, floor(extract(epoch FROM v_rec.run_at - now()) * 1000))::float8;
  o_queue := v_rec.queue;
  o_priority := v_rec.priority;
  o_max_attempts := v_rec.max_attempts;
  o_key := p_key;
  o_existing := CASE WHEN o_outcome = 'inserted' THEN NULL ELSE jsonb_build_object(
    'task', v_rec.task, 'payload', v_rec.payload, 'attempts', v_rec.attempts, 'errors', v_rec.errors,
    'failed_at', (extract(epoch FROM v_rec.failed_at) * 1000)::float8,
    'started_at', (extract(epoch FROM v_rec.started_at) * 1000)::float8,
    'tags', v_rec.tags, 'meta', v_rec.meta) END;
  RETURN NEXT;
END
$$;

-- Inserts a batch of jobs of which some have a unique key, for @queue/core's TypeScript client
-- and SQL enqueue(). Internal: its signature may change with the package. Arguments as in
-- insert_jobs() (0009), plus per row: p_key (or NULL), p_by (a JSON array of payload field
-- names to derive the key from, or NULL; the whole array NULL when no row has one), p_mode
-- ('queued', 'active', 'replace', 'period', 'debounce', 'throttle', 'throttle_last'; the whole
-- array NULL when every keyed row is 'queued'), p_ms (the period, debounce or throttle length in
-- ms), p_max_wait (debounce's cap in ms, or NULL); p_distinct true when the caller knows that no
-- two rows share a key (it spares the statement a sort); p_lock_namespace is the queue's job-lock
-- namespace. One result row per input row, o_ord its position (1-based), in no set order. For an
-- inserted row, o_queue, o_priority and o_max_attempts are NULL unless the database resolved
-- them (p_lookup not empty), and o_key is NULL unless it was derived (p_by): the caller has them.
--
-- o_outcome says what happened: 'inserted' (a new job), 'deduplicated' (nothing written; o_id
-- is the job that stands for this one, o_existing its columns) or 'replaced' (the key's queued
-- job now holds this enqueue's task, payload and options; o_existing its columns as changed).
--
-- Two paths:
-- - p_mode NULL (every keyed row 'queued', the default), more than 4 rows: one INSERT for the
--   whole batch, no lock (smaller batches, single enqueues among them, go row by row as below,
--   without the lock: cheaper for them). Of rows with the same key in the batch only the first
--   is inserted; the later ones get its outcome. How the INSERT meets a queued job of a key is
--   p_conflict:
--   'settle' (the default): the keys' queued jobs the statement's snapshot sees are looked up
--     first (those rows are deduplicated against them), the rest go in with ON CONFLICT DO
--     NOTHING; a row that met a conflict (a job committed meanwhile), and the batch's later rows
--     of a key, are then settled one by one by settle_unique_job() in the same statement, which
--     sees what the conflicting transaction committed and finds the job that stands for the row.
--   'look': the same look-up, then a plain INSERT: a job of a key committed after the snapshot
--     makes it fail with unique_violation on jobs_unique_idx (having waited for that
--     transaction), and nothing is written.
--   'raise': the plain INSERT alone: any queued job of a key makes it fail so.
--   The last two are for a caller that then sends the batch again as 'settle', on a connection
--   of its own (the TypeScript client's enqueueMany on its pool); they spare the per-row cost of
--   ON CONFLICT's speculative insertion (as much as the index entry itself) and, for 'raise',
--   of the look-up (about as much again): CPU of client and backend per 1,000 fresh keys,
--   against a plain enqueueMany, +44% as 'settle', +25% as 'look', +10% as 'raise' (PostgreSQL 15).
-- - otherwise every key of the batch is locked with pg_advisory_xact_lock, in one order (so two
--   batches cannot deadlock on each other), and settle_unique_job() settles each row in input
--   order: these modes read, then write, and the lock makes the read and the write one step for
--   the key until the transaction ends, for every producer (all come through here). The lock is
--   the two-int4 form (never a job's lock, the one-bigint form), with a negative first half
--   derived from the schema: a lockNamespace is positive, so it never meets the worker marker,
--   migration or check locks either.
--
-- In REPEATABLE READ or SERIALIZABLE the snapshot is the transaction's, so the locking modes are
-- refused there (invalid_transaction_state); the default mode is safe in any: a conflict with a
-- row the snapshot cannot see is a serialization failure, which the caller retries.
--
-- Debounce moves the queued job's run_at to now() + debounce (the transaction's now(), as for
-- `delay`), never earlier than it was (two enqueues waiting on the lock may commit out of their
-- start order), and never past created_at (its first enqueue) + maxWait.
--
-- Changing the key's queued job (replace, debounce, throttle keeping the last payload) first
-- takes the job's own lock with pg_try_advisory_xact_lock, as the admin calls do: a worker's
-- claim then skips the job until this transaction ends instead of waiting on its row lock
-- (which would stall the worker's claimer until the caller commits); and if a worker has just
-- locked it to claim it, it is running: it is left alone and a new job is inserted.
CREATE FUNCTION {{schema}}.insert_unique_jobs(
  p_task      text[],
  p_queue     text[],
  p_payload   jsonb[],
  p_priority  smallint[],
  p_run_at    timestamptz[],
  p_delay_ms  float8[],
  p_max_attempts integer[],
  p_tags      jsonb[],
  p_meta      jsonb[],
  p_lookup    text[],
  p_key       text[],
  p_by        jsonb[],
  p_mode      text[],
  p_ms        float8[],
  p_max_wait  float8[],
  p_distinct  boolean,
  p_lock_namespace integer,
  p_conflict  text DEFAULT 'settle'
) RETURNS TABLE (
  o_ord integer, o_outcome text, o_id text, o_run_at float8, o_created_at float8, o_delay_ms float8,
  o_queue text, o_priority smallint, o_max_attempts integer, o_key text, o_existing jsonb
) LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
DECLARE
  v_keys  text[] := p_key;
  v_known jsonb := '{}';
  v_resolved boolean := cardinality(p_lookup) > 0;
  v_lead  boolean[];
  v_seq   regclass;
BEGIN
  IF p_by IS NOT NULL THEN
    IF EXISTS (SELECT FROM unnest(p_payload, p_by) AS u(p, b), jsonb_array_elements_text(u.b) AS f
        WHERE NOT (jsonb_typeof(u.p) = 'object' AND u.p ? f)) THEN
      RAISE EXCEPTION 'insert_unique_jobs(): a row''s unique_by names a field its payload does not have'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_keys := ARRAY(
      SELECT CASE WHEN u.b IS NULL THEN u.k ELSE unique_key_of(u.t, u.p, ARRAY(SELECT jsonb_array_elements_text(u.b))) END
      FROM unnest(p_key, p_task, p_payload, p_by) WITH ORDINALITY AS u(k, t, p, b, i) ORDER BY u.i);
  END IF;
  IF v_resolved THEN
    SELECT coalesce(jsonb_object_agg(x.name, jsonb_build_array(x.queue, x.priority, x.max_attempts)), '{}')
      INTO v_known FROM tasks x WHERE x.name = ANY(p_lookup);
  END IF;

  IF p_mode IS NOT NULL THEN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'unique modes other than ''queued'' need a READ COMMITTED transaction, not %',
        upper(current_setting('transaction_isolation')) USING ERRCODE = 'invalid_transaction_state';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || ':unique') | x'80000000'::integer, s.h)
      FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(v_keys) AS k WHERE k IS NOT NULL ORDER BY 1) s;
  END IF;
  -- Row by row, in input order (a function scan per row of the ordered unnest, each call seeing
  -- the ones before): the locking modes, and small batches, for which the set-based statement's
  -- fixed cost is more than two short statements per row (a single enqueue took ~0.45 ms more).
  IF p_mode IS NOT NULL OR cardinality(p_task) <= 4 THEN
    RETURN QUERY
      SELECT s.* FROM unnest(p_task, p_queue, p_payload, p_priority, p_run_at, p_delay_ms, p_max_attempts,
          p_tags, p_meta, v_keys, p_mode, p_ms, p_max_wait)
          WITH ORDINALITY AS u(t, q, p, pr, ra, d, ma, tg, me, k, m, ms, mw, i)
        CROSS JOIN LATERAL settle_unique_job(u.i::integer, u.t, coalesce(u.q, v_known -> u.t ->> 0, 'default'),
          u.p, coalesce(u.pr, (v_known -> u.t ->> 1)::smallint, 0::smallint),
          coalesce(u.ra, now() + u.d * interval '1 millisecond'),
          coalesce(u.ma, (v_known -> u.t ->> 2)::integer, 25),
          CASE WHEN u.tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(u.tg)) END,
          coalesce(u.me, '{}'), u.k, u.m, u.ms, u.mw, p_lock_namespace) AS s;
    RETURN;
  END IF;

  -- `lead`: the row is the batch's first of its key: all are, when the caller says no two rows
  -- share a key (v_lead NULL). Inserted rows are
  -- matched back to their input row by key (unique among the leads), rows without a key by
  -- position (ids are assigned in input order, and such rows always go in).
  IF NOT p_distinct THEN
    v_lead := ARRAY(SELECT x.k IS NULL OR x.i = min(x.i) OVER (PARTITION BY x.k COLLATE "C")
      FROM unnest(v_keys) WITH ORDINALITY AS x(k, i) ORDER BY x.i);
  END IF;
  -- Optimistic: no ON CONFLICT (see the comment above). The ids are drawn here, in input
  -- order, so the result comes from the input rows and the look-up, not from RETURNING matched
  -- back by key; rows that repeat a key of the batch take their first row's outcome.
  IF p_conflict IN ('look', 'raise') THEN
    v_seq := pg_get_serial_sequence('jobs', 'id')::regclass;
    RETURN QUERY
  WITH u AS MATERIALIZED (
    SELECT x.i::integer AS i, x.t, coalesce(x.q, v_known -> x.t ->> 0, 'default') AS q, x.p,
      coalesce(x.pr, (v_known -> x.t ->> 1)::smallint, 0::smallint) AS pr,
      coalesce(x.ra, now() + x.d * interval '1 millisecond') AS due,
      coalesce(x.ma, (v_known -> x.t ->> 2)::integer, 25) AS ma,
      CASE WHEN x.tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(x.tg)) END AS tg,
      coalesce(x.me, '{}') AS me, x.k,
      coalesce(x.lead, true) AS lead
    FROM unnest(p_task, p_queue, p_payload, p_priority, p_run_at, p_delay_ms, p_max_attempts, p_tags, p_meta,
      v_keys, v_lead) WITH ORDINALITY AS x(t, q, p, pr, ra, d, ma, tg, me, k, lead, i)
  ), ex AS MATERIALIZED (
    -- The key's queued job as the statement's snapshot sees it, for each batch-first row with a
    -- key. A probe of jobs_unique_idx per row, whatever the table's statistics were when the
    -- session planned this (LIMIT keeps the planner from making it a join: a plan made while
    -- jobs was nearly empty scanned the table for each row, 0.5 s a batch at 10,000 jobs).
    SELECT u.i, u.k, j.*
      FROM u CROSS JOIN LATERAL (SELECT j.id, j.task, j.queue, j.payload, j.priority, j.run_at, j.attempts,
          j.max_attempts, j.errors, j.failed_at, j.created_at, j.started_at, j.tags, j.meta
        FROM jobs j WHERE j.unique_key = u.k
          AND (CASE WHEN j.unique_queued AND j.failed_at IS NULL THEN 0 ELSE j.id END) = 0 LIMIT 1) j
      WHERE p_conflict = 'look' AND u.lead AND u.k IS NOT NULL
  ), n AS MATERIALIZED (
    SELECT u.*, nextval(v_seq) AS id FROM u
      WHERE u.lead AND NOT EXISTS (SELECT FROM ex WHERE ex.i = u.i) ORDER BY u.i
  ), ins AS (
    -- Runs to its end after the query below: nothing in this statement reads jobs after it.
    INSERT INTO jobs (id, task, queue, payload, priority, run_at, max_attempts, tags, meta, unique_key,
      unique_queued)
    SELECT n.id, n.t, n.q, n.p, n.pr, n.due, n.ma, n.tg, n.me, n.k, CASE WHEN n.k IS NOT NULL THEN true END
    FROM n
  )
  SELECT n.i, 'inserted'::text, n.id::text, (extract(epoch FROM n.due) * 1000)::float8,
      (extract(epoch FROM now()) * 1000)::float8,
      greatest(0, floor(extract(epoch FROM n.due - now()) * 1000))::float8,
      CASE WHEN v_resolved THEN n.q END, CASE WHEN v_resolved THEN n.pr END,
      CASE WHEN v_resolved THEN n.ma END, CASE WHEN p_by IS NOT NULL THEN n.k END, NULL::jsonb
    FROM n
  UNION ALL
  -- A row that met a queued job of its key.
  SELECT e.i, 'deduplicated'::text, e.id::text, (extract(epoch FROM e.run_at) * 1000)::float8,
      (extract(epoch FROM e.created_at) * 1000)::float8,
      greatest(0, floor(extract(epoch FROM e.run_at - now()) * 1000))::float8, e.queue, e.priority,
      e.max_attempts, e.k, jsonb_build_object('task', e.task, 'payload', e.payload, 'attempts', e.attempts,
        'errors', e.errors, 'failed_at', (extract(epoch FROM e.failed_at) * 1000)::float8,
        'started_at', (extract(epoch FROM e.started_at) * 1000)::float8, 'tags', e.tags, 'meta', e.meta)
    FROM ex e
  UNION ALL
  -- A later row of a key: the job its first row inserted or met.
  SELECT d.i, 'deduplicated'::text, coalesce(f.id, e.id)::text,
      (extract(epoch FROM coalesce(f.due, e.run_at)) * 1000)::float8,
      (extract(epoch FROM coalesce(e.created_at, now())) * 1000)::float8,
      greatest(0, floor(extract(epoch FROM coalesce(f.due, e.run_at) - now()) * 1000))::float8,
      coalesce(f.q, e.queue), coalesce(f.pr, e.priority), coalesce(f.ma, e.max_attempts), d.k,
      CASE WHEN f.id IS NOT NULL THEN jsonb_build_object('task', f.t, 'payload', f.p, 'attempts', 0,
          'errors', '[]'::jsonb, 'failed_at', NULL, 'started_at', NULL, 'tags', f.tg, 'meta', f.me)
        ELSE jsonb_build_object('task', e.task, 'payload', e.payload, 'attempts', e.attempts,
          'errors', e.errors, 'failed_at', (extract(epoch FROM e.failed_at) * 1000)::float8,
          'started_at', (extract(epoch FROM e.started_at) * 1000)::float8, 'tags', e.tags, 'meta', e.meta) END
    FROM u d LEFT JOIN n f ON f.k = d.k LEFT JOIN ex e ON e.k = d.k
    WHERE NOT d.lead;
    RETURN;
  END IF;
  RETURN QUERY
  WITH u AS MATERIALIZED (
    SELECT x.i::integer AS i, x.t, coalesce(x.q, v_known -> x.t ->> 0, 'default') AS q, x.p,
      coalesce(x.pr, (v_known -> x.t ->> 1)::smallint, 0::smallint) AS pr,
      coalesce(x.ra, now() + x.d * interval '1 millisecond') AS due,
      coalesce(x.ma, (v_known -> x.t ->> 2)::integer, 25) AS ma,
      CASE WHEN x.tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(x.tg)) END AS tg,
      coalesce(x.me, '{}') AS me, x.k,
      coalesce(x.lead, true) AS lead
    FROM unnest(p_task, p_queue, p_payload, p_priority, p_run_at, p_delay_ms, p_max_attempts, p_tags, p_meta,
      v_keys, v_lead) WITH ORDINALITY AS x(t, q, p, pr, ra, d, ma, tg, me, k, lead, i)
  ), ex AS MATERIALIZED (
    -- The key's queued job as the statement's snapshot sees it, for each batch-first row with a
    -- key. A probe of jobs_unique_idx per row, whatever the table's statistics were when the
    -- session planned this (LIMIT keeps the planner from making it a join: a plan made while
    -- jobs was nearly empty scanned the table for each row, 0.5 s a batch at 10,000 jobs).
    SELECT u.i, u.k, j.*
      FROM u CROSS JOIN LATERAL (SELECT j.id, j.task, j.queue, j.payload, j.priority, j.run_at, j.attempts,
          j.max_attempts, j.errors, j.failed_at, j.created_at, j.started_at, j.tags, j.meta
        FROM jobs j WHERE j.unique_key = u.k
          AND (CASE WHEN j.unique_queued AND j.failed_at IS NULL THEN 0 ELSE j.id END) = 0 LIMIT 1) j
      WHERE u.lead AND u.k IS NOT NULL
  ), ins AS (
    INSERT INTO jobs AS j (task, queue, payload, priority, run_at, max_attempts, tags, meta, unique_key,
      unique_queued)
    SELECT u.t, u.q, u.p, u.pr, u.due, u.ma, u.tg, u.me, u.k, CASE WHEN u.k IS NOT NULL THEN true END
    FROM u WHERE u.lead AND NOT EXISTS (SELECT FROM ex WHERE ex.i = u.i) ORDER BY u.i
    ON CONFLICT (unique_key, (CASE WHEN unique_queued AND failed_at IS NULL THEN 0 ELSE id END))
      WHERE unique_key IS NOT NULL DO NOTHING
    RETURNING j.id, j.run_at, j.created_at, j.queue, j.priority, j.max_attempts, j.unique_key
  ), got AS (
    SELECT u.i, ins.id, ins.run_at, ins.created_at, ins.queue, ins.priority, ins.max_attempts, ins.unique_key
      FROM ins JOIN u ON u.k = ins.unique_key AND u.lead
    UNION ALL
    SELECT a.i, b.id, b.run_at, b.created_at, b.queue, b.priority, b.max_attempts, NULL
      FROM (SELECT u.i, row_number() OVER (ORDER BY u.i) AS n FROM u WHERE u.k IS NULL) a
      JOIN (SELECT ins.*, row_number() OVER (ORDER BY ins.id) AS n FROM ins WHERE ins.unique_key IS NULL) b
        ON b.n = a.n
  ), todo AS MATERIALIZED (
    -- Rows that repeat a key of the batch, or met a conflict. Reading got to its end runs the INSERT to its end first.
    SELECT u.* FROM u WHERE NOT EXISTS (SELECT FROM got WHERE got.i = u.i)
      AND NOT EXISTS (SELECT FROM ex WHERE ex.i = u.i)
  )
  SELECT g.i, 'inserted'::text, g.id::text, (extract(epoch FROM g.run_at) * 1000)::float8,
      (extract(epoch FROM g.created_at) * 1000)::float8,
      greatest(0, floor(extract(epoch FROM g.run_at - now()) * 1000))::float8,
      CASE WHEN v_resolved THEN g.queue END, CASE WHEN v_resolved THEN g.priority END,
      CASE WHEN v_resolved THEN g.max_attempts END, CASE WHEN p_by IS NOT NULL THEN g.unique_key END, NULL::jsonb
    FROM got g
  UNION ALL
  SELECT e.i, 'deduplicated'::text, e.id::text, (extract(epoch FROM e.run_at) * 1000)::float8,
      (extract(epoch FROM e.created_at) * 1000)::float8,
      greatest(0, floor(extract(epoch FROM e.run_at - now()) * 1000))::float8, e.queue, e.priority,
      e.max_attempts, e.k, jsonb_build_object('task', e.task, 'payload', e.payload, 'attempts', e.attempts,
        'errors', e.errors, 'failed_at', (extract(epoch FROM e.failed_at) * 1000)::float8,
        'started_at', (extract(epoch FROM e.started_at) * 1000)::float8, 'tags', e.tags, 'meta', e.meta)
    FROM ex e
  UNION ALL
  SELECT s.* FROM todo t
    CROSS JOIN LATERAL settle_unique_job(t.i, t.t, t.q, t.p, t.pr, t.due, t.ma, t.tg, t.me, t.k, NULL, NULL,
      NULL, p_lock_namespace) AS s;
END
$$;

-- enqueue() gains the unique options, after the existing parameters so that calls by position
-- keep working; dropped and created as in 0009 (a GRANT EXECUTE on the old one is dropped with
-- it). Without unique_key or unique_by it does what 0009's did. With one, the job goes through
-- insert_unique_jobs(), and the id returned is the job that stands for the call: the new one, or
-- the existing one it was deduplicated against or replaced. Durations are intervals here (ms in
-- the TypeScript client): unique_period is the period, debounce or throttle length.
DROP FUNCTION {{schema}}.enqueue(text, jsonb, text, timestamptz, integer, integer, text[], jsonb);

CREATE FUNCTION {{schema}}.enqueue(
  task            text,
  payload         jsonb       DEFAULT 'null',
  queue           text        DEFAULT NULL,
  run_at          timestamptz DEFAULT NULL,
  priority        integer     DEFAULT NULL,
  max_attempts    integer     DEFAULT NULL,
  tags            text[]      DEFAULT NULL,
  meta            jsonb       DEFAULT NULL,
  unique_key      text        DEFAULT NULL,
  unique_by       text[]      DEFAULT NULL,
  unique_mode     text        DEFAULT NULL,
  unique_period   interval    DEFAULT NULL,
  unique_max_wait interval    DEFAULT NULL,
  unique_keep     text        DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  due       timestamptz := coalesce(run_at, now());
  known     tasks%ROWTYPE;
  new_id    bigint;
  new_queue text;
  mode      text := coalesce(unique_mode, 'queued');
  ms        float8 := extract(epoch FROM unique_period) * 1000;
  wait_ms   float8 := extract(epoch FROM unique_max_wait) * 1000;
  res       record;
  bad       text;
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

  IF unique_key IS NULL AND unique_by IS NULL THEN
    IF unique_mode IS NOT NULL OR unique_period IS NOT NULL OR unique_max_wait IS NOT NULL
        OR unique_keep IS NOT NULL THEN
      RAISE EXCEPTION 'enqueue(%): unique options need unique_key or unique_by', task
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
  END IF;

  -- The unique options, checked as the TypeScript client checks them.
  bad := CASE
    WHEN unique_key IS NOT NULL AND unique_by IS NOT NULL THEN 'give unique_key or unique_by, not both'
    WHEN unique_key IS NOT NULL AND length(unique_key) NOT BETWEEN 1 AND 256
      THEN format('unique_key must be 1 to 256 characters, got %s', length(unique_key))
    WHEN mode NOT IN ('queued', 'active', 'replace', 'period', 'debounce', 'throttle')
      THEN format('unique_mode must be queued, active, replace, period, debounce or throttle, got %L', unique_mode)
    WHEN mode IN ('period', 'debounce', 'throttle') AND (ms IS NULL OR ms < 1)
      THEN format('unique_mode %L needs a positive unique_period, got %L', mode, unique_period)
    WHEN mode NOT IN ('period', 'debounce', 'throttle') AND unique_period IS NOT NULL
      THEN format('unique_period is for the period, debounce and throttle modes, not %L', mode)
    WHEN unique_max_wait IS NOT NULL AND mode <> 'debounce'
      THEN format('unique_max_wait is for the debounce mode, not %L', mode)
    WHEN unique_max_wait IS NOT NULL AND wait_ms < ms
      THEN format('unique_max_wait %L is shorter than the debounce period %L', unique_max_wait, unique_period)
    WHEN unique_keep IS NOT NULL AND mode <> 'throttle'
      THEN format('unique_keep is for the throttle mode, not %L', mode)
    WHEN unique_keep IS NOT NULL AND unique_keep NOT IN ('first', 'last')
      THEN format('unique_keep must be first or last, got %L', unique_keep)
    WHEN run_at IS NOT NULL AND mode IN ('debounce', 'throttle')
      THEN format('unique_mode %L sets the run time itself: leave run_at NULL', mode)
  END;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'enqueue(%): %', task, bad USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF mode = 'throttle' AND unique_keep = 'last' THEN
    mode := 'throttle_last';
  END IF;
  IF unique_by IS NOT NULL THEN
    bad := CASE
      WHEN cardinality(unique_by) IS NULL OR cardinality(unique_by) = 0 THEN 'unique_by must name at least one payload field'
      WHEN jsonb_typeof(payload) IS DISTINCT FROM 'object'
        THEN format('unique_by %s needs a JSON object payload, got %s', unique_by, coalesce(jsonb_typeof(payload), 'NULL'))
      ELSE (SELECT format('unique_by names field %s, which the payload does not have', coalesce(quote_literal(f), 'NULL'))
        FROM unnest(unique_by) AS f WHERE f IS NULL OR NOT payload ? f LIMIT 1)
    END;
    IF bad IS NOT NULL THEN
      RAISE EXCEPTION 'enqueue(%): %', task, bad USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;

  SELECT * INTO res FROM insert_unique_jobs(ARRAY[task], ARRAY[queue], ARRAY[coalesce(payload, 'null'::jsonb)],
    ARRAY[priority::smallint], ARRAY[run_at], ARRAY[0::float8], ARRAY[max_attempts],
    ARRAY[CASE WHEN cardinality(tags) > 0 THEN to_jsonb(tags) END], ARRAY[meta],
    CASE WHEN queue IS NULL OR priority IS NULL OR max_attempts IS NULL THEN ARRAY[task] ELSE '{}' END,
    ARRAY[unique_key], CASE WHEN unique_by IS NOT NULL THEN ARRAY[to_jsonb(unique_by)] END,
    CASE WHEN mode <> 'queued' THEN ARRAY[mode] END, ARRAY[ms], ARRAY[wait_ms], true,
    -- The job-lock namespace the workers of this schema use (they all share one); none
    -- registered means no worker can hold a job, and any namespace will do.
    coalesce((SELECT w.lock_namespace FROM workers w LIMIT 1), 1903520117));
  IF res.o_outcome <> 'deduplicated' THEN
    PERFORM pg_notify(current_schema() || ':jobs', json_build_object('q', res.o_queue, 'd', res.o_delay_ms::bigint)::text);
  END IF;
  RETURN res.o_id::bigint;
END
$$;
