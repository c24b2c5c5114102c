import type { Queue } from '@queue/core';

/** The parts of a queue's naming the statements need (schema, lock key layout, channel). */
export type Names = Queue['names'];

/**
 * Jobs whose advisory lock a session holds: the running jobs, as core derives them. The
 * bigint key is split across classid (high 32 bits) and objid (low 32 bits).
 */
export function lockedSql(n: Names): string {
  return `SELECT ((l.classid::int8 << 32) | l.objid::int8) # ${n.lockMask} AS id, l.pid
    FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
}

/**
 * Base counts per queue, one sequential (parallel) scan: the expensive part of the
 * overview, so it is cached (see counts.ts). It leaves the advisory-lock join out: running
 * jobs are few and counted fresh by runningSql, and subtracted from `due`.
 */
export function baseCountsSql(n: Names): string {
  return `SELECT queue,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at <= now())::int AS due,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at > now())::int AS scheduled,
      count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed
    FROM ${n.q}.jobs GROUP BY queue`;
}

/** Every running job with its worker session: cheap, from the lock table joined by primary key. */
export function runningSql(n: Names): string {
  return `WITH r AS MATERIALIZED (${lockedSql(n)})
    SELECT j.id::text AS id, j.queue, j.task, j.priority, j.attempts, j.max_attempts, j.run_at, j.created_at,
      left(j.payload::text, 200) AS payload_preview, r.pid,
      a.application_name, host(a.client_addr) AS client_addr, a.backend_start
    FROM r JOIN ${n.q}.jobs j ON j.id = r.id
    LEFT JOIN pg_stat_activity a ON a.pid = r.pid
    WHERE j.failed_at IS NULL
    ORDER BY j.id`;
}

export function pausedSql(n: Names): string {
  return `SELECT name AS queue, paused_at FROM ${n.q}.queues`;
}

/** The list filters, as SQL over `j` (jobs) and `r` (locked ids). Fixed strings: no input is spliced in. */
export const STATE_FILTERS = {
  available: 'j.failed_at IS NULL AND j.run_at <= now() AND r.id IS NULL',
  scheduled: 'j.failed_at IS NULL AND j.run_at > now() AND r.id IS NULL',
  running: 'j.failed_at IS NULL AND r.id IS NOT NULL',
  failed: 'j.failed_at IS NOT NULL',
  all: 'true',
} as const;

export type StateFilter = keyof typeof STATE_FILTERS;

/**
 * One page of jobs, newest first by default. Unlike core's listJobs (which sorts on the id
 * cast to text and so sorts the whole table), it orders by the primary key, so a page costs
 * an index range scan however large the table is. Payloads and errors are cut short: a
 * page of 50 jobs with 1 MiB payloads must not be 50 MiB.
 *
 * $1 queue or null, $2 task or null, $3 cursor id or null, $4 limit.
 */
export function listSql(n: Names, state: StateFilter, direction: 'older' | 'newer'): string {
  const cmp = direction === 'older' ? '<' : '>';
  const order = direction === 'older' ? 'DESC' : 'ASC';
  return `WITH r AS MATERIALIZED (${lockedSql(n)})
    SELECT j.id::text AS id, j.queue, j.task, j.priority, j.run_at, j.attempts, j.max_attempts,
      j.failed_at, j.created_at, left(j.payload::text, 200) AS payload_preview,
      left(j.errors -> -1 ->> 'message', 300) AS last_error, jsonb_array_length(j.errors) AS error_count,
      CASE WHEN j.failed_at IS NOT NULL THEN 'failed' WHEN r.id IS NOT NULL THEN 'running'
        WHEN j.run_at > now() THEN 'scheduled' ELSE 'available' END AS state
    FROM ${n.q}.jobs j LEFT JOIN r ON r.id = j.id
    WHERE ${STATE_FILTERS[state]}
      AND ($1::text IS NULL OR j.queue = $1) AND ($2::text IS NULL OR j.task = $2)
      AND ($3::bigint IS NULL OR j.id ${cmp} $3::bigint)
    ORDER BY j.id ${order} LIMIT $4`;
}

/**
 * Makes a scheduled job due now, keeping its attempts (core's retryJob resets them), unless
 * a worker holds it; the transaction-level try-lock keeps workers off it until commit.
 */
export function runNowSql(n: Names): string {
  return `UPDATE ${n.q}.jobs SET run_at = now()
    WHERE id = $1::bigint AND failed_at IS NULL AND run_at > now() AND pg_try_advisory_xact_lock(${n.lockKey('id')})
    RETURNING queue`;
}

/** Wakes workers of queue $1, in the payload format of the schema's own enqueue() function. */
export function wakeSql(n: Names): string {
  return `SELECT pg_notify(${n.channelLiteral}, json_build_object('q', $1::text, 'd', 0)::text)`;
}
