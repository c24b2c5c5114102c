import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

const LOST_MESSAGE =
  'this attempt was interrupted: its worker stopped or lost its database connection before recording a result';

/**
 * The claim's CTEs, with parameters from $p: $p queue (NULL claims nothing), $p+1 task
 * names, $p+2 ids this session already holds (advisory locks are re-entrant, so it would
 * lock them again), $p+3 how many candidates to scan, $p+4 how many jobs to claim.
 *
 * - `candidates` is MATERIALIZED so pg_try_advisory_lock runs once per row, in index order,
 *   on rows we then see; `locked` is MATERIALIZED with a LIMIT, so it stops at the first
 *   successes it needs and no lock is taken on a row we do not return.
 * - Advisory locks ignore MVCC: a candidate may have been completed (deleted) or retried
 *   (run_at moved) by its previous holder after our snapshot. The UPDATE re-checks each
 *   locked row against its newest version; a row it skips comes back with `id` NULL and the
 *   caller unlocks it. The UPDATE also waits on any row lock a finishing holder still has.
 * - The UPDATE counts the attempt before it runs, so a job that kills its worker still uses
 *   up its attempts: one found at max_attempts with no recorded result is failed here.
 * - The same UPDATE counts the claim (`claims`, never reset; the fencing token's counter):
 *   greatest() carries on from attempts where a row was last claimed by a version without it.
 * - Each attempt starts with no progress (ctx.progress()); the previous attempt's is cleared.
 * - A paused queue (a row in queues with paused_at set) yields no candidates, and so does a
 *   queue with flow limits (flow_limited, migration 0012): those are claimed by the limited
 *   claim (flow/claim-sql.ts), and a worker that has not yet heard of new limits must not
 *   overshoot them. The same probe of the same row as before: no cost to plain queues.
 * - A claimed job gives up its unique key's queued slot (`unique_queued`, migration 0011), so
 *   that a running job does not block a new one in the default unique mode. For jobs without a
 *   key it is NULL already: their rows are unchanged by it and their update stays HOT.
 * - `cancel_requested`: cancelJob() asked for it while another worker held it, which died
 *   before it heard; the worker records it cancelled without running it.
 */
export function claimCtes(n: Names, p: number): string {
  const [queue, tasks, held, scan, want] = [p, p + 1, p + 2, p + 3, p + 4].map((i) => `$${i}`);
  return `candidates AS MATERIALIZED (
      SELECT id FROM ${n.q}.jobs
      WHERE queue = ${queue}::text AND failed_at IS NULL AND run_at <= now()
        AND task = ANY(${tasks}::text[]) AND id <> ALL(${held}::bigint[])
        AND NOT EXISTS (SELECT 1 FROM ${n.q}.queues p WHERE p.name = ${queue}::text
          AND (p.paused_at IS NOT NULL OR p.flow_limited))
      ORDER BY priority, run_at, id
      LIMIT ${scan}::int
    ), locked AS MATERIALIZED (
      SELECT id FROM candidates WHERE pg_try_advisory_lock(${n.lockKey('id')}) LIMIT ${want}::int
    ), ${claimedCte(n, 'SELECT id FROM locked', 'now()')}`;
}

/**
 * The claim's UPDATE of the locked rows (see claimCtes), shared by the plain claim and the
 * limited one (flow/claim-sql.ts). `ids` selects the locked ids; `startedAt` is when they start
 * (the limited claim gives the time its rate limit logged).
 */
export function claimedCte(n: Names, ids: string, startedAt: string): string {
  return `claimed AS (
      UPDATE ${n.q}.jobs j SET
        attempts = CASE WHEN j.attempts < j.max_attempts THEN j.attempts + 1 ELSE j.attempts END,
        claims = greatest(j.claims, j.attempts) + 1,
        started_at = ${startedAt},
        progress = NULL,
        unique_queued = NULL,
        failed_at = CASE WHEN j.attempts < j.max_attempts THEN NULL ELSE now() END,
        errors = CASE
          WHEN j.attempts > 0 AND (j.errors -> -1 ->> 'attempt')::int IS DISTINCT FROM j.attempts
          THEN j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'at', now(), 'message', '${LOST_MESSAGE}'))
          ELSE j.errors END
      WHERE j.id = ANY(ARRAY(${ids})) AND j.failed_at IS NULL AND j.run_at <= now()
      RETURNING ${JOB_COLUMNS('j')}, j.claims, j.cancel_requested_at IS NOT NULL AS cancel_requested
    )`;
}

/** How long until the earliest scheduled job of these queues is due, by the database clock. */
export function nextDueSql(n: Names): string {
  return `SELECT floor(extract(epoch FROM min(run_at) - now()) * 1000)::float8 AS delay_ms
    FROM ${n.q}.jobs WHERE queue = ANY($1::text[]) AND failed_at IS NULL AND run_at > now()`;
}
