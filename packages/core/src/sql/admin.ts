import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';
import { liveWorkersSql } from './workers.js';

/**
 * Ids of the jobs whose advisory lock some session holds right now: the running jobs.
 * The bigint lock key is split across classid (high 32 bits) and objid (low 32 bits).
 */
export function lockedIdsSql(n: Names): string {
  return `SELECT ((l.classid::int8 << 32) | l.objid::int8) # ${n.lockMask} AS id, l.pid
    FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
}

/** A live job's state, from its row `j` and its lock holder `r` (NULL when none holds it). */
export const JOB_STATE = `CASE
    WHEN j.failed_at IS NOT NULL THEN 'failed'
    WHEN r.id IS NOT NULL THEN 'running'
    WHEN j.run_at > now() THEN 'scheduled'
    ELSE 'available' END`;

export function getJobSql(n: Names): string {
  return `SELECT ${JOB_COLUMNS('j')}, ${JOB_STATE} AS state
    FROM ${n.q}.jobs j LEFT JOIN (${lockedIdsSql(n)}) r ON r.id = j.id
    WHERE j.id = $1::bigint`;
}

/**
 * Jobs whose lock a worker holds, with the worker's backend pid, its session (name, address,
 * when it connected), its live row in the workers table (host and Node pid; none for a
 * session that registered no row), how long the job has run and its last progress value.
 */
export function runningJobsSql(n: Names): string {
  return `SELECT ${JOB_COLUMNS('j')}, r.pid, extract(epoch FROM now() - j.started_at) * 1000 AS running_ms,
      j.progress, (extract(epoch FROM j.cancel_requested_at) * 1000)::float8 AS cancel_requested_at,
      a.application_name, host(a.client_addr) AS client_addr,
      (extract(epoch FROM a.backend_start) * 1000)::float8 AS backend_start,
      w.id AS worker_id, w.host AS worker_host, w.pid AS worker_pid
    FROM (${lockedIdsSql(n)}) r JOIN ${n.q}.jobs j ON j.id = r.id
      LEFT JOIN pg_stat_activity a ON a.pid = r.pid
      LEFT JOIN (${liveWorkersSql(n)}) w ON w.backend_pid = r.pid
    ORDER BY j.started_at NULLS LAST, j.id LIMIT $1`;
}

/**
 * Per queue and task: due (running included), scheduled and failed jobs, and when the oldest
 * due job became due, in one scan without the advisory-lock join. The expensive part of an
 * overview (a full scan: ~160 ms for 1,000,000 jobs on a small machine), so callers cache it
 * and take running jobs from runningJobsSql. Grouping by task too (for the jobs no live worker
 * will run) made it ~25 ms slower per 1,000,000 jobs than by queue alone (~110 vs ~85 ms, warm).
 */
export function scanCountsSql(n: Names): string {
  return `SELECT queue, task,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at <= now())::int AS due,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at > now())::int AS scheduled,
      count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
      min(run_at) FILTER (WHERE failed_at IS NULL AND run_at <= now()) AS oldest_due,
      (extract(epoch FROM now() - min(run_at) FILTER (WHERE failed_at IS NULL AND run_at <= now()))
        * 1000)::float8 AS waited_ms
    FROM ${n.q}.jobs GROUP BY queue, task`;
}

/** Every queue that has been paused or resumed, from the small `queues` table. */
export function pausedQueuesSql(n: Names): string {
  return `SELECT name AS queue, paused_at IS NOT NULL AS paused FROM ${n.q}.queues`;
}

/** Makes a scheduled (or retrying) job due now, keeping its attempts; not a running or failed one. */
export function runNowSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET run_at = now()
    WHERE id = $1::bigint AND failed_at IS NULL AND pg_try_advisory_xact_lock(${n.lockKey('id')})
    RETURNING ${JOB_COLUMNS(n.q + '.jobs')}`;
}

export function countJobsSql(n: Names): string {
  return `WITH r AS MATERIALIZED (${lockedIdsSql(n)}), c AS (
    SELECT j.queue,
      count(*) FILTER (WHERE j.failed_at IS NULL AND j.run_at <= now() AND r.id IS NULL)::int AS available,
      count(*) FILTER (WHERE j.failed_at IS NULL AND j.run_at > now() AND r.id IS NULL)::int AS scheduled,
      count(*) FILTER (WHERE j.failed_at IS NULL AND r.id IS NOT NULL)::int AS running,
      count(*) FILTER (WHERE j.failed_at IS NOT NULL)::int AS failed
    FROM ${n.q}.jobs j LEFT JOIN r ON r.id = j.id
    GROUP BY j.queue)
    SELECT coalesce(c.queue, p.name) AS queue, coalesce(c.available, 0) AS available,
      coalesce(c.scheduled, 0) AS scheduled, coalesce(c.running, 0) AS running,
      coalesce(c.failed, 0) AS failed, coalesce(p.paused_at IS NOT NULL, false) AS paused
    FROM c FULL JOIN ${n.q}.queues p ON p.name = c.queue
    ORDER BY 1`;
}

/** $1 queue name, $2 true to pause, false to resume. */
export function setPausedSql(n: Names): string {
  return `INSERT INTO ${n.q}.queues (name, paused_at) VALUES ($1, CASE WHEN $2::bool THEN now() END)
    ON CONFLICT (name) DO UPDATE SET paused_at = CASE WHEN $2::bool THEN coalesce(${n.q}.queues.paused_at, now()) END`;
}

/**
 * Changes or deletes one job unless a worker holds it: the transaction-level try-lock
 * conflicts with a worker's session lock on the same key, and keeps workers off the job
 * until this statement commits.
 */
export function retryJobSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET failed_at = NULL, run_at = now(), attempts = 0
    WHERE id = $1::bigint AND pg_try_advisory_xact_lock(${n.lockKey('id')})
    RETURNING ${JOB_COLUMNS(n.q + '.jobs')}`;
}

/** Deletes one job unless it runs; a waitFor() on it hears `<id>:deleted` (JobNotFoundError). */
export function deleteJobSql(n: Names): string {
  return `WITH d AS (
      DELETE FROM ${n.q}.jobs j WHERE id = $1::bigint AND pg_try_advisory_xact_lock(${n.lockKey('id')})
      RETURNING ${JOB_COLUMNS('j')}, j.waited
    ), told AS (SELECT pg_notify(${n.doneChannelLiteral}, d.id || ':deleted') FROM d WHERE d.waited)
    SELECT * FROM d WHERE (SELECT count(*) FROM told) >= 0`;
}

export function jobExistsSql(n: Names): string {
  return `SELECT failed_at IS NOT NULL AS failed FROM ${n.q}.jobs WHERE id = $1::bigint`;
}

/** Failed jobs only, so none is locked; $1 queue or null, $2 task or null. */
export function retryFailedSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET failed_at = NULL, run_at = now(), attempts = 0
    WHERE failed_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR task = $2)
    RETURNING queue`;
}
