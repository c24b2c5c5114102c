import type { JobRow } from '../options.js';
import type { Job } from '../types.js';
import type { Names } from './names.js';

/**
 * Only what the database decides comes back (id, times); the rest of the Job is built from
 * the input. Sending every column back, payload included, halved bulk enqueue throughput.
 * `delay_ms` is computed by the database so that workers can time scheduled jobs by its
 * clock, not by this process's.
 */
const RETURNING = (n: Names) =>
  `RETURNING id::text AS id, (extract(epoch FROM run_at) * 1000)::float8 AS run_at,
     (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
     greatest(0, floor(extract(epoch FROM ${n.q}.jobs.run_at - now()) * 1000))::float8 AS delay_ms`;

/** What an INSERT returns per job. */
export interface Inserted {
  id: string;
  run_at: number;
  created_at: number;
  delay_ms: number;
}

/** The Job an enqueue returns, from its checked input row and what the INSERT returned. */
export function insertedJob(row: JobRow, r: Inserted): Job {
  return {
    id: r.id,
    task: row.task,
    queue: row.queue,
    payload: JSON.parse(row.payload),
    priority: row.priority,
    runAt: new Date(r.run_at),
    attempts: 0,
    maxAttempts: row.maxAttempts,
    errors: [],
    failedAt: null,
    createdAt: new Date(r.created_at),
    startedAt: null,
  };
}

export function insertOneSql(n: Names): string {
  return `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts)
    VALUES ($1, $2, $3::jsonb, $4, coalesce($5::timestamptz, now() + $6::float8 * interval '1 millisecond'), $7)
    ${RETURNING(n)}`;
}

export function insertOneValues(r: JobRow): unknown[] {
  return [r.task, r.queue, r.payload, r.priority, r.runAt, r.delayMs, r.maxAttempts];
}

/** One statement for a whole batch: arrays are unnested column by column. */
export function insertManySql(n: Names): string {
  return `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts)
    SELECT t, q, p, pr, coalesce(ra, now() + d * interval '1 millisecond'), ma
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[])
      AS u(t, q, p, pr, ra, d, ma)
    ${RETURNING(n)}`;
}

export function insertManyValues(rows: JobRow[]): unknown[] {
  return [
    rows.map((r) => r.task),
    rows.map((r) => r.queue),
    rows.map((r) => r.payload),
    rows.map((r) => r.priority),
    rows.map((r) => r.runAt),
    rows.map((r) => r.delayMs),
    rows.map((r) => r.maxAttempts),
  ];
}

/** Wakes workers of the given queues; `d` is how long until the earliest of the jobs is due. */
export function notifySql(n: Names): string {
  return `SELECT pg_notify(${n.channelLiteral}, x) FROM unnest($1::text[]) AS x`;
}

export function notifyPayload(queue: string, delayMs: number): string {
  return JSON.stringify({ q: queue, d: Math.max(0, Math.round(delayMs)) });
}
