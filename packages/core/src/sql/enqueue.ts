import type { JobRow } from '../options.js';
import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

// `delay_ms` is computed by the database so that workers can time scheduled jobs by its
// clock, not by this process's.
const RETURNING = (n: Names) =>
  `RETURNING ${JOB_COLUMNS(n.q + '.jobs')},
     greatest(0, floor(extract(epoch FROM ${n.q}.jobs.run_at - now()) * 1000))::float8 AS delay_ms`;

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
