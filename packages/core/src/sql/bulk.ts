import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

/**
 * The selection shared by the bulk statements: $1 ids or NULL, $2 queue or NULL, $3 task or
 * NULL, $4 tag or NULL (jobs carrying it). `alias` is the table's alias.
 */
const selected = (a: string) => `($1::bigint[] IS NULL OR ${a}.id = ANY($1::bigint[]))
  AND ($2::text IS NULL OR ${a}.queue = $2) AND ($3::text IS NULL OR ${a}.task = $3)
  AND ($4::text IS NULL OR ${a}.tags @> ARRAY[$4::text])`;

/**
 * Puts finished jobs ($5 outcome, or NULL for any) back in the queue under their own ids,
 * due now with their attempts reset; their errors and their claim count (so fencing tokens
 * keep growing) come along. One statement: a job is in history or in jobs, never both.
 *
 * A job with a unique key keeps it, and takes its key's queued slot (jobs_unique_idx, migration
 * 0011) as a new enqueue would, unless a waiting job of the key holds it (or another job of the
 * key retried in this statement, with a greater id, takes it): then it comes back without the
 * slot, still carrying its key (as a job that has started does), and the waiting job keeps
 * it. A retry by hand is never skipped. A job of the key committed after this statement's
 * snapshot makes it fail with a unique violation on jobs_unique_idx, having written nothing;
 * the caller sends it again (see retryFromHistory).
 */
export function retryFromHistorySql(n: Names): string {
  return `WITH h AS (
      DELETE FROM ${n.q}.job_history h WHERE ${selected('h')} AND ($5::text IS NULL OR h.outcome = $5)
      RETURNING h.*
    )
    INSERT INTO ${n.q}.jobs AS j (id, queue, task, payload, priority, run_at, attempts, max_attempts,
      claims, errors, tags, meta, created_at, unique_key, unique_queued)
    SELECT id, queue, task, payload, priority, now(), 0, max_attempts, claims, errors, tags, meta, created_at,
      unique_key,
      CASE WHEN unique_key IS NOT NULL AND id = max(id) OVER (PARTITION BY unique_key)
        AND NOT EXISTS (SELECT FROM ${n.q}.jobs w WHERE w.unique_key = h.unique_key
          AND (CASE WHEN w.unique_queued AND w.failed_at IS NULL THEN 0 ELSE w.id END) = 0) THEN true END
    FROM h
    RETURNING ${JOB_COLUMNS('j')}`;
}

/**
 * Makes live jobs that are not running due now with their attempts reset: failed ones, and
 * with $5 false scheduled ones too (a selection by ids). The try-lock skips running jobs.
 */
export function retryLiveSql(n: Names): string {
  return `UPDATE ${n.q}.jobs j SET failed_at = NULL, run_at = now(), attempts = 0
    WHERE ${selected('j')} AND ($5::bool IS NOT TRUE OR j.failed_at IS NOT NULL)
      AND pg_try_advisory_xact_lock(${n.lockKey('j.id')})
    RETURNING j.id::text AS id, j.queue`;
}

/**
 * Deletes live jobs that are not running; $5 a state ('failed', 'scheduled', 'available') or
 * NULL. A waitFor() on one hears `<id>:deleted`.
 */
export function deleteLiveSql(n: Names): string {
  return `WITH d AS (
      DELETE FROM ${n.q}.jobs j
      WHERE ${selected('j')} AND CASE $5::text
          WHEN 'failed' THEN j.failed_at IS NOT NULL
          WHEN 'scheduled' THEN j.failed_at IS NULL AND j.run_at > now()
          WHEN 'available' THEN j.failed_at IS NULL AND j.run_at <= now()
          ELSE true END
        AND pg_try_advisory_xact_lock(${n.lockKey('j.id')})
      RETURNING j.id::text AS id, j.waited
    ), told AS (SELECT pg_notify(${n.doneChannelLiteral}, d.id || ':deleted') FROM d WHERE d.waited)
    SELECT d.id FROM d WHERE (SELECT count(*) FROM told) >= 0`;
}

/** Deletes history rows; $5 outcome or NULL. Returns them as jobs (history rows have no failed_at). */
export function deleteFromHistorySql(n: Names): string {
  return `WITH d AS (
      DELETE FROM ${n.q}.job_history h WHERE ${selected('h')} AND ($5::text IS NULL OR h.outcome = $5)
      RETURNING h.*, NULL::timestamptz AS failed_at
    )
    SELECT ${JOB_COLUMNS('d')} FROM d`;
}
