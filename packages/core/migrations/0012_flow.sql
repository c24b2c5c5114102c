-- Flow control (README "Flow control"): per-queue global and per-key concurrency limits, a rate
-- limit, and round-robin across keys. Catalog-only column additions: existing rows take NULL.

-- A job's concurrency key: the explicit enqueue option `concurrencyKey`, or derived by its task's
-- contract. NULL for plain jobs, so their rows, inserts and updates are unchanged.
ALTER TABLE {{schema}}.jobs ADD COLUMN concurrency_key text COLLATE "C";

-- The keys with live jobs of a queue, walked by a skip scan (one probe per key), then each key's
-- next jobs in claim order. Partial: plain jobs cost it nothing. failed_at is indexed already
-- (jobs_claim_idx), so its predicate adds no cost to HOT updates.
CREATE INDEX jobs_flow_idx ON {{schema}}.jobs (queue, concurrency_key, priority, run_at, id)
  WHERE concurrency_key IS NOT NULL AND failed_at IS NULL;

-- The limits, with the queue's other shared settings. `flow_limited` is true while any is set:
-- the plain claim, which probes this row for paused_at already, claims nothing from a limited
-- queue, so a worker that has not yet heard of new limits cannot overshoot them.
-- The rate limit's state is a log of recent starts: `flow_starts[i]` a claim's time, by the
-- database clock (never earlier than the previous entry), `flow_counts[i]` how many jobs it
-- started. A claim may start k jobs when the starts logged in the last period plus k stay within
-- the limit: any window of one period then holds at most `flow_rate` starts (a token bucket
-- refilled continuously would allow twice the limit in a window after an idle spell).
ALTER TABLE {{schema}}.queues
  ADD COLUMN flow_concurrency integer CHECK (flow_concurrency BETWEEN 1 AND 65535),
  ADD COLUMN flow_key_concurrency integer CHECK (flow_key_concurrency BETWEEN 1 AND 65535),
  ADD COLUMN flow_rate integer CHECK (flow_rate BETWEEN 1 AND 1000000),
  ADD COLUMN flow_rate_period_ms integer CHECK (flow_rate_period_ms BETWEEN 1 AND 86400000),
  ADD COLUMN flow_fair boolean NOT NULL DEFAULT false,
  ADD COLUMN flow_starts timestamptz[] NOT NULL DEFAULT '{}',
  ADD COLUMN flow_counts integer[] NOT NULL DEFAULT '{}',
  ADD CONSTRAINT queues_flow_rate_pair_check CHECK ((flow_rate IS NULL) = (flow_rate_period_ms IS NULL));
ALTER TABLE {{schema}}.queues ADD COLUMN flow_limited boolean NOT NULL GENERATED ALWAYS AS (
  flow_concurrency IS NOT NULL OR flow_key_concurrency IS NOT NULL OR flow_rate IS NOT NULL OR flow_fair
) STORED;

-- The advisory-lock key of a concurrency slot: one-bigint form with the sign bit set, which no
-- job's key (a positive id XOR a positive mask) ever has; 47 bits of a hash of queue and key
-- (seeded by the lock mask, so two schemas' slots differ) and 16 bits of slot number. Two keys
-- whose hashes collide share slots: a limit can only get stricter, never overshoot.
CREATE FUNCTION {{schema}}.flow_slot_key(queue text, key text, slot integer, mask bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT ('-9223372036854775808'::bigint
    | (hashtextextended(CASE WHEN key IS NULL THEN queue ELSE queue || chr(1) || key END, mask)
       & 9223372036854710272::bigint))
    | slot::bigint
$$;

-- Takes the locks a limited queue's claim needs, lazily, in candidate order (p_ids, with each
-- job's key in p_keys): the job's lock, then a free slot of its key (per-key limit), then a free
-- slot of the queue (global limit), all on this session, stopping once p_want jobs are locked.
-- A candidate whose slots are full gives back what it took at once. p_held: slot keys this
-- session holds already (advisory locks are re-entrant: it must not take them again).
-- One row per locked job (id, its slot keys) and a last row with id NULL: `limited` true when a
-- limit (not a lack of due jobs) stopped it, `wait_ms` when the rate limit lets the next job
-- start, `at` the time the rate limit logged for these starts (the jobs' started_at).
-- Runs with the rate log's row locked (FOR UPDATE) when the queue has a rate limit: claimers
-- of that queue take turns, each seeing the starts the previous one logged.
-- p_release: the slots of jobs this statement finishes, unlocked first so that this claim may
-- take them again (their handlers have returned); when some are not taken again, the queues in
-- p_announce are announced on p_channel, so that workers waiting on a full limit try again. A
-- finishing worker taking its own freed slot back needs no announcement, and wakes nobody.
CREATE FUNCTION {{schema}}.flow_lock(
  p_queue text, p_ids bigint[], p_keys text[], p_want integer, p_held bigint[], p_mask bigint,
  p_release bigint[], p_announce text[], p_channel text
) RETURNS TABLE (id bigint, slots bigint[], limited boolean, wait_ms float8, at timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
  q          queues%ROWTYPE;
  allowed    integer := p_want;
  taken      bigint[] := '{}';
  full_keys  text[] := '{}';
  n          integer := 0;
  stamp      timestamptz;
  period     interval;
  keep_from  integer;
  used       integer := 0;
  k          text;
  kslot      bigint;
  gslot      bigint;
  stop       boolean := false;
  hit        boolean := false;
  wait       float8;
  i          integer;
BEGIN
  PERFORM pg_advisory_unlock(r) FROM unnest(p_release) AS r;
  SELECT * INTO q FROM queues WHERE name = p_queue;
  IF q.flow_rate IS NOT NULL THEN
    SELECT * INTO q FROM queues WHERE name = p_queue FOR UPDATE;
    -- Monotonic, so that a claim that waited on the row lock never logs before an earlier one.
    stamp := greatest(now(), coalesce(q.flow_starts[cardinality(q.flow_starts)], '-infinity'));
    period := q.flow_rate_period_ms * interval '1 millisecond';
    keep_from := 1;
    WHILE keep_from <= cardinality(q.flow_starts) AND q.flow_starts[keep_from] <= stamp - period LOOP
      keep_from := keep_from + 1;
    END LOOP;
    q.flow_starts := q.flow_starts[keep_from:];
    q.flow_counts := q.flow_counts[keep_from:];
    SELECT coalesce(sum(c), 0) INTO used FROM unnest(q.flow_counts) AS c;
    allowed := least(p_want, q.flow_rate - used);
    IF allowed <= 0 THEN
      -- The first start that, once out of the window, frees a token.
      SELECT extract(epoch FROM s.at + period - now()) * 1000 INTO wait
      FROM (SELECT t.at, sum(t.c) OVER (ORDER BY t.ord) AS upto
            FROM unnest(q.flow_starts, q.flow_counts) WITH ORDINALITY AS t(at, c, ord)) s
      WHERE used - s.upto < q.flow_rate ORDER BY s.upto LIMIT 1;
      PERFORM pg_notify(p_channel, json_build_object('q', a, 'd', 0)::text) FROM unnest(p_announce) AS a
        WHERE cardinality(p_release) > 0;
      RETURN QUERY SELECT NULL::bigint, NULL::bigint[], true, greatest(1, ceil(wait))::float8, NULL::timestamptz;
      RETURN;
    END IF;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
    EXIT WHEN n >= allowed;
    k := p_keys[i];
    IF k IS NOT NULL AND q.flow_key_concurrency IS NOT NULL AND k = ANY(full_keys) THEN
      CONTINUE;
    END IF;
    CONTINUE WHEN NOT pg_try_advisory_lock(p_ids[i] # p_mask);
    kslot := NULL;
    gslot := NULL;
    IF k IS NOT NULL AND q.flow_key_concurrency IS NOT NULL THEN
      kslot := flow_take_slot(p_queue, k, q.flow_key_concurrency, p_mask, p_held || taken);
      IF kslot IS NULL THEN
        PERFORM pg_advisory_unlock(p_ids[i] # p_mask);
        full_keys := full_keys || k;
        hit := true;
        CONTINUE;
      END IF;
    END IF;
    IF q.flow_concurrency IS NOT NULL THEN
      gslot := flow_take_slot(p_queue, NULL, q.flow_concurrency, p_mask, p_held || taken);
      IF gslot IS NULL THEN
        PERFORM pg_advisory_unlock(p_ids[i] # p_mask);
        IF kslot IS NOT NULL THEN PERFORM pg_advisory_unlock(kslot); END IF;
        hit := true;
        EXIT;
      END IF;
    END IF;
    taken := taken || array_remove(ARRAY[kslot, gslot], NULL);
    n := n + 1;
    id := p_ids[i];
    slots := array_remove(ARRAY[kslot, gslot], NULL);
    limited := NULL;
    wait_ms := NULL;
    at := NULL;
    RETURN NEXT;
  END LOOP;
  IF q.flow_rate IS NOT NULL THEN
    IF n > 0 THEN
      UPDATE queues SET flow_starts = q.flow_starts || stamp, flow_counts = q.flow_counts || n
      WHERE name = p_queue;
    ELSIF keep_from > 1 THEN
      UPDATE queues SET flow_starts = q.flow_starts, flow_counts = q.flow_counts WHERE name = p_queue;
    END IF;
    IF n > 0 AND n >= allowed AND allowed < p_want THEN
      -- The rate stopped this claim short: say when the oldest logged start leaves the window.
      hit := true;
      wait := extract(epoch FROM coalesce(q.flow_starts[1], stamp) + period - now()) * 1000;
    END IF;
  END IF;
  IF EXISTS (SELECT FROM unnest(p_release) AS r WHERE r <> ALL(taken)) THEN
    PERFORM pg_notify(p_channel, json_build_object('q', a, 'd', 0)::text) FROM unnest(p_announce) AS a;
  END IF;
  RETURN QUERY SELECT NULL::bigint, NULL::bigint[], hit,
    CASE WHEN wait IS NOT NULL THEN greatest(1, ceil(wait))::float8 END, stamp;
END
$$;

-- The first free slot of (queue, key) among `size`, tried from a random one so that claimers
-- do not all probe the same taken slots first; NULL when every slot is taken (or held here).
CREATE FUNCTION {{schema}}.flow_take_slot(
  p_queue text, p_key text, size integer, p_mask bigint, p_skip bigint[]
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = {{schema}}, pg_temp
AS $$
DECLARE
  first integer := floor(random() * size)::integer;
  s     integer;
  key   bigint;
BEGIN
  FOR j IN 0 .. size - 1 LOOP
    s := (first + j) % size;
    key := flow_slot_key(p_queue, p_key, s, p_mask);
    IF key <> ALL(p_skip) AND pg_try_advisory_lock(key) THEN
      RETURN key;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
