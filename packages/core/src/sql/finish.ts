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
 * The finish's CTEs: $1 every id to unlock; $2 succeeded ids (deleted); $3..$7 failed
 * attempts (id, message, stack, retry delay in ms, permanent). A failed attempt becomes
 * final when the job has used its attempts or the failure is permanent. $8 this worker's
 * id and $9..$11 per-queue counts (queue, completed, failed attempts) for the statistics.
 */
export function finishCtes(n: Names): string {
  return `stats AS (
      INSERT INTO ${n.q}.job_stats AS s (minute, queue, worker, completed, failed)
      SELECT date_trunc('minute', now()), c.queue, $8, c.completed, c.failed
      FROM unnest($9::text[], $10::int[], $11::int[]) AS c(queue, completed, failed)
      ON CONFLICT (minute, queue, worker) DO UPDATE
        SET completed = s.completed + excluded.completed, failed = s.failed + excluded.failed
    ), done AS (
      DELETE FROM ${n.q}.jobs WHERE id = ANY($2::bigint[]) RETURNING id
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
      RETURNING j.id::text AS id, j.failed_at IS NOT NULL AS dead, j.run_at,
        greatest(0, floor(extract(epoch FROM j.run_at - now()) * 1000))::float8 AS delay_ms
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

/** Statistics older than a day are dropped; charts show the last hour. */
export function pruneStatsSql(n: Names): string {
  return `DELETE FROM ${n.q}.job_stats WHERE minute < now() - interval '1 day'`;
}

/** Per-minute totals over all workers for the last $1 minutes, the current one included. */
export function jobStatsSql(n: Names): string {
  return `SELECT minute, queue, sum(completed)::int AS completed, sum(failed)::int AS failed
    FROM ${n.q}.job_stats
    WHERE minute >= date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute'
    GROUP BY minute, queue ORDER BY minute, queue`;
}
