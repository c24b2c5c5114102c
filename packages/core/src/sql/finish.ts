import type { Names } from './names.js';

/**
 * Unlocks the ids in $1 only after the statement's data-modifying CTEs have run: the
 * uncorrelated subqueries become a one-time filter evaluated before the first unlock.
 * Unlocking first would let another worker lock a job whose DELETE we have not yet made.
 */
export function unlockAfter(n: Names, ctes: string[]): string {
  const gate = ctes.map((c) => `(SELECT count(*) FROM ${c})`).join(' + ');
  return `(SELECT count(pg_advisory_unlock(${n.lockKey('u.id')}))::int
     FROM unnest($1::bigint[]) AS u(id) WHERE ${gate} >= 0)`;
}

/**
 * The finish's CTEs: $1 every id to unlock; $2 ids of jobs leaving the queue, with $17 their
 * results (jsonb, NULL for none) and $18 whether each was cancelled rather than completed;
 * $3..$7 failed attempts (id, message, stack, retry delay in ms, permanent). A failed attempt
 * becomes final when the job has used its attempts or the failure is permanent. $8 this
 * worker's id and $9..$11, $19 per-queue statistics (queue, completed, failed attempts, run
 * durations as an int[] literal: see durations.ts).
 *
 * A leaving job is deleted from jobs and, unless its queue keeps no history (queues.keep =
 * '0'; NULL means the default, 1 day), inserted into job_history in the same statement, so it
 * is always in exactly one of the two. A job someone waits for (waited, set by waitFor())
 * is announced on the done channel once it is finished for good; the flag is read from the
 * row version the DELETE/UPDATE acts on, so a waitFor() that set it meanwhile is seen. The
 * history row keeps the job's unique key, which the period and throttle modes look back at.
 */
export function finishCtes(n: Names): string {
  return `stats AS (
      INSERT INTO ${n.q}.job_stats AS s (minute, queue, worker, completed, failed, durations)
      SELECT date_trunc('minute', now()), c.queue, $8, c.completed, c.failed, c.durations::int[]
      FROM unnest($9::text[], $10::int[], $11::int[], $19::text[]) AS c(queue, completed, failed, durations)
      ON CONFLICT (minute, queue, worker) DO UPDATE
        SET completed = s.completed + excluded.completed, failed = s.failed + excluded.failed,
          durations = CASE WHEN s.durations IS NULL THEN excluded.durations
            ELSE ARRAY(SELECT a + b FROM unnest(s.durations, excluded.durations) AS x(a, b)) END
    ), done AS (
      DELETE FROM ${n.q}.jobs j
      USING unnest($2::bigint[], $17::jsonb[], $18::bool[]) AS l(id, result, cancelled)
      WHERE j.id = l.id
      RETURNING j.id, j.queue, j.task, j.payload, j.priority, j.attempts, j.max_attempts, j.claims, j.errors,
        j.tags, j.meta, j.progress, j.created_at, j.run_at, j.started_at, j.waited, j.unique_key,
        l.result, CASE WHEN l.cancelled THEN 'cancelled' ELSE 'completed' END AS outcome
    ), kept AS (
      INSERT INTO ${n.q}.job_history (id, queue, task, payload, priority, outcome, result, attempts,
        max_attempts, claims, errors, tags, meta, progress, created_at, run_at, started_at, worker, unique_key)
      SELECT d.id, d.queue, d.task, d.payload, d.priority, d.outcome, d.result, d.attempts,
        d.max_attempts, d.claims, d.errors, d.tags, d.meta, d.progress, d.created_at, d.run_at, d.started_at, $8,
        d.unique_key
      FROM done d
      WHERE coalesce((SELECT k.keep FROM ${n.q}.queues k WHERE k.name = d.queue), interval '1 day')
        > interval '0'
      RETURNING 1
    ), failed AS (
      UPDATE ${n.q}.jobs j SET
        failed_at = CASE WHEN f.permanent OR j.attempts >= j.max_attempts THEN now() END,
        run_at = CASE WHEN f.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                 ELSE now() + f.delay_ms * interval '1 millisecond' END,
        errors = j.errors || jsonb_build_array(
          jsonb_build_object('attempt', j.attempts, 'at', now(), 'message', f.message)
          || CASE WHEN f.stack IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('stack', f.stack) END)
      FROM unnest($3::bigint[], $4::text[], $5::text[], $6::float8[], $7::bool[])
        AS f(id, message, stack, delay_ms, permanent)
      WHERE j.id = f.id
      RETURNING j.id::text AS id, j.failed_at IS NOT NULL AS dead, j.run_at, j.waited,
        greatest(0, floor(extract(epoch FROM j.run_at - now()) * 1000))::float8 AS delay_ms
    ), notified AS (
      SELECT pg_notify(${n.doneChannelLiteral}, x.id || ':' || x.outcome) FROM (
        SELECT d.id::text AS id, d.outcome FROM done d WHERE d.waited
        UNION ALL SELECT f.id, 'failed' FROM failed f WHERE f.dead AND f.waited
      ) x
    )`;
}

/**
 * Gives back jobs that were claimed but never started (stop() during a claim): their
 * attempt is un-counted, then they are unlocked. $2 the ids to un-count.
 */
export function releaseSql(n: Names): string {
  return `WITH released AS (
      UPDATE ${n.q}.jobs SET attempts = greatest(attempts - 1, 0) WHERE id = ANY($2::bigint[]) RETURNING id
    )
    SELECT ${unlockAfter(n, ['released'])} AS unlocked`;
}
