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

/**
 * What an INSERT returns per job; `queue`, `priority` and `max_attempts` only from
 * insert_jobs(), which resolves them in the database (a queue without task definitions).
 */
export interface Inserted {
  id: string;
  run_at: number;
  created_at: number;
  delay_ms: number;
  queue?: string;
  priority?: number;
  max_attempts?: number;
}

/** The queue a job went to: the database's answer where it resolved it, else the input's. */
export function insertedQueue(row: JobRow, r: Inserted): string {
  return r.queue ?? (row.queue as string);
}

/** The Job an enqueue returns, from its checked input row and what the INSERT returned. */
export function insertedJob(row: JobRow, r: Inserted): Job {
  return {
    id: r.id,
    task: row.task,
    queue: insertedQueue(row, r),
    payload: JSON.parse(row.payload),
    priority: r.priority ?? (row.priority as number),
    runAt: new Date(r.run_at),
    attempts: 0,
    maxAttempts: r.max_attempts ?? (row.maxAttempts as number),
    errors: [],
    failedAt: null,
    createdAt: new Date(r.created_at),
    startedAt: null,
    tags: [],
    meta: {},
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

/**
 * Jobs whose queue, priority or max_attempts may be NULL, one or a batch: the schema's
 * insert_jobs() (migration 0005) fills each NULL from the task's row in the tasks table, else
 * from the built-in defaults, and returns what it resolved. $8 names the distinct tasks of the
 * rows that left an option open, so the table is read once per statement, for those only.
 *
 * A function, not a statement sent as text, because PL/pgSQL keeps its statement's plan for
 * the session: planning the lookup on every statement made small statements cost 60% more
 * than the plain INSERT (0.29 vs 0.18 ms for one row, sequential on one connection), and
 * coalesced single enqueues are small statements. Through the function one row costs 0.15 ms
 * and 1,000 rows 6.7 ms against the plain INSERT's 7.5 ms (PostgreSQL 15 here). A per-row
 * lookup (a LATERAL join, or scalar subqueries) had cost a third to two fifths of bulk
 * throughput, hence one lookup per statement.
 */
export function insertResolvingSql(n: Names): string {
  return `SELECT * FROM ${n.q}.insert_jobs($1::text[], $2::text[], $3::jsonb[], $4::smallint[],
    $5::timestamptz[], $6::float8[], $7::int[], $8::text[])`;
}

/** insertManyValues, and the distinct tasks of the rows that leave an option to the database. */
export function insertResolvingValues(rows: JobRow[]): unknown[] {
  const lookup = new Set<string>();
  for (const r of rows)
    if (r.queue === null || r.priority === null || r.maxAttempts === null) lookup.add(r.task);
  return [...insertManyValues(rows), [...lookup]];
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
