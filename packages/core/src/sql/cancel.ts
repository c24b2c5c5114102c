import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

/**
 * Copies the rows of CTE `removed` (jobs just deleted) into the history as cancelled, when their
 * queue keeps history: `keep` NULL means the default of a day, '0' keeps nothing (as the
 * worker's finish does).
 */
function historyCte(n: Names): string {
  return `kept AS (
      INSERT INTO ${n.q}.job_history (id, queue, task, payload, priority, outcome, attempts, max_attempts,
        claims, errors, tags, meta, progress, created_at, run_at, started_at)
      SELECT r.id, r.queue, r.task, r.payload, r.priority, 'cancelled', r.attempts, r.max_attempts,
        r.claims, r.errors, r.tags, r.meta, r.progress, r.created_at, r.run_at, r.started_at
      FROM removed r
      WHERE coalesce((SELECT keep FROM ${n.q}.queues WHERE name = r.queue), interval '1 day') > interval '0'
    )`;
}

/** Tells the waiters of a cancelled job (waitFor() set `waited`): `<id>:cancelled`. */
const notifyDone = (n: Names, alias: string) =>
  `CASE WHEN ${alias}.waited THEN pg_notify(${n.doneChannelLiteral}, ${alias}.id::text || ':cancelled') END`;

/**
 * Cancels job $1 in one statement. The transaction-level try-lock on the job's key succeeds
 * only if no worker holds the job (a worker's session lock conflicts with it) and keeps
 * workers from claiming it until this commits: then the job is deleted and recorded cancelled.
 * If the lock is held, a worker runs the job: it is flagged, and the workers are told on the
 * jobs channel, where the one that runs it aborts its handler. A failed-for-good job is
 * neither (nothing is returned; the caller finds out why). `failed_at IS NULL` is checked again
 * in the DELETE and UPDATE, which re-read a row a concurrent finish changed meanwhile.
 */
export function cancelJobSql(n: Names): string {
  return `WITH target AS MATERIALIZED (
      SELECT j.id, j.failed_at IS NULL AND pg_try_advisory_xact_lock(${n.lockKey('j.id')}) AS free
      FROM ${n.q}.jobs j WHERE j.id = $1::bigint
    ), removed AS (
      DELETE FROM ${n.q}.jobs j USING target t
      WHERE j.id = t.id AND t.free AND j.failed_at IS NULL
      RETURNING j.*
    ), ${historyCte(n)}, flagged AS (
      UPDATE ${n.q}.jobs j SET cancel_requested_at = coalesce(j.cancel_requested_at, now())
      FROM target t WHERE j.id = t.id AND NOT t.free AND j.failed_at IS NULL
      RETURNING j.*
    )
    SELECT 'cancelled' AS state, ${JOB_COLUMNS('r')}, ${notifyDone(n, 'r')} AS notified FROM removed r
    UNION ALL
    SELECT 'cancelling', ${JOB_COLUMNS('f')},
      pg_notify(${n.channelLiteral}, json_build_object('c', f.id::text)::text) FROM flagged f`;
}

/**
 * Why cancelJobSql changed nothing: the job failed for good (still in jobs), finished (in the
 * history), or is gone. Its own statement, so that it sees what a concurrent finish committed.
 */
export function cancelledWhySql(n: Names): string {
  return `SELECT CASE WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'live' END AS outcome
      FROM ${n.q}.jobs WHERE id = $1::bigint
    UNION ALL
    (SELECT outcome FROM ${n.q}.job_history WHERE id = $1::bigint ORDER BY finished_at DESC LIMIT 1)
    LIMIT 1`;
}

/**
 * One batch of a bulk cancel: up to $4 queued (not failed) jobs of queue $1 and task $2 (NULL:
 * any) with ids above $3, in id order. Jobs a worker holds are skipped (their try-lock fails).
 * The lock is tried only on the batch's candidates, from a materialised CTE: a lock function in
 * a plain WHERE could be evaluated on every row of a scan. Returns how many ids were scanned,
 * the last one (the next batch's cursor) and how many jobs were cancelled.
 */
export function cancelJobsSql(n: Names): string {
  return `WITH candidates AS MATERIALIZED (
      SELECT id FROM ${n.q}.jobs
      WHERE failed_at IS NULL AND id > $3::bigint
        AND ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR task = $2)
      ORDER BY id LIMIT $4
    ), free AS MATERIALIZED (
      SELECT c.id FROM candidates c WHERE pg_try_advisory_xact_lock(${n.lockKey('c.id')})
    ), removed AS (
      DELETE FROM ${n.q}.jobs j USING free f WHERE j.id = f.id AND j.failed_at IS NULL
      RETURNING j.*
    ), ${historyCte(n)}, notified AS (
      SELECT count(${notifyDone(n, 'r')}) AS n FROM removed r
    )
    SELECT (SELECT count(*) FROM candidates)::int AS scanned,
      (SELECT max(id) FROM candidates)::text AS last,
      (SELECT count(*) FROM removed)::int AS cancelled,
      (SELECT n FROM notified) AS notified`;
}

/** Which of the running jobs $1 have a cancel request: the worker's look-up after it listens again. */
export function cancelRequestedSql(n: Names): string {
  return `SELECT id::text AS id FROM ${n.q}.jobs WHERE id = ANY($1::bigint[]) AND cancel_requested_at IS NOT NULL`;
}
