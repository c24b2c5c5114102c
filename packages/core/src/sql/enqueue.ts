import type { JobRow } from '../options.js';
import type { Job } from '../types.js';
import type { Names } from './names.js';

/**
 * Only what the database decides comes back (id, times); the rest of the Job is built from
 * the input. Sending every column back, payload included, halved bulk enqueue throughput.
 * `delay_ms` is computed by the database so that workers can time scheduled jobs by its
 * clock, not by this process's.
 */
const RETURNING = (n: Names, xid: boolean) =>
  `RETURNING id::text AS id, (extract(epoch FROM run_at) * 1000)::float8 AS run_at,
     (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
     greatest(0, floor(extract(epoch FROM ${n.q}.jobs.run_at - now()) * 1000))::float8 AS delay_ms${xid ? XID : ''}`;

/**
 * The enqueuing transaction's id, for the Job of an enqueue given `client` (see xid.ts). The
 * INSERT has already assigned the transaction an id, so asking for it costs nothing more; an
 * enqueue on the pool commits at once and leaves it out.
 */
export const XID = ', pg_current_xact_id()::text AS xid';

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
  /** Only from the statements made with `xid` (an enqueue given `client`). */
  xid?: string;
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
    tags: row.tags ?? [],
    meta: row.meta === null ? {} : JSON.parse(row.meta),
  };
}

/** A statement and its parameters. */
export interface Insert {
  text: string;
  values: unknown[];
}

/**
 * How a Queue writes jobs. `one` serves an enqueue given `client` only (the rest are
 * coalesced into `many`); `xid` adds the transaction's id to what comes back, for an enqueue
 * given `client`. With a task map (`resolving` false) the INSERT is sent as text, and a batch
 * in which no job has tags or meta sends exactly the statement it sent before tags existed:
 * the two more unnested columns made the planning of a coalesced one-row INSERT ~20% slower
 * (0.33 -> 0.39 ms, sequential on one connection, PostgreSQL 15). insert_jobs() keeps its plan
 * for the session, so one version of it serves every batch.
 */
export function jobInserts(n: Names, resolving: boolean) {
  if (resolving) {
    const texts = [false, true].map((xid) => insertResolvingSql(n, xid));
    const many = (rows: JobRow[], xid: boolean): Insert => ({
      text: texts[Number(xid)] as string,
      values: insertResolvingValues(rows),
    });
    return { one: (row: JobRow, xid: boolean) => many([row], xid), many };
  }
  // Every variant made once, indexed [labelled][xid].
  const variants = (make: (n: Names, labelled: boolean, xid: boolean) => string) =>
    [false, true].map((labelled) => [false, true].map((xid) => make(n, labelled, xid)));
  const ones = variants(insertOneSql);
  const manys = variants(insertManySql);
  const labelled = (r: JobRow) => r.tags !== null || r.meta !== null;
  return {
    one: (row: JobRow, xid: boolean): Insert => {
      const l = labelled(row);
      return { text: ones[Number(l)]![Number(xid)]!, values: insertOneValues(row, l) };
    },
    many: (rows: JobRow[], xid: boolean): Insert => {
      const l = rows.some(labelled);
      return { text: manys[Number(l)]![Number(xid)]!, values: insertManyValues(rows, l) };
    },
  };
}

/** `labelled`: with tags and meta ($8, $9); `xid`: also return the transaction's id. */
function insertOneSql(n: Names, labelled: boolean, xid: boolean): string {
  return `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts${labelled ? ', tags, meta' : ''})
    VALUES ($1, $2, $3::jsonb, $4, coalesce($5::timestamptz, now() + $6::float8 * interval '1 millisecond'), $7${
      labelled ? `, coalesce($8::text[], '{}'), coalesce($9::jsonb, '{}')` : ''
    })
    ${RETURNING(n, xid)}`;
}

function insertOneValues(r: JobRow, labelled: boolean): unknown[] {
  const values = [r.task, r.queue, r.payload, r.priority, r.runAt, r.delayMs, r.maxAttempts];
  return labelled ? [...values, r.tags, r.meta] : values;
}

/**
 * One statement for a whole batch: arrays are unnested column by column. A text[] cannot
 * carry rows' tag lists of different lengths, so each row's tags come as a JSON array in a
 * jsonb[], turned into text[] only for the rows that have any. A batch with tags but no meta
 * (or the reverse) sends NULL for the other array: unnest pads it with a NULL per row.
 */
function insertManySql(n: Names, labelled: boolean, xid: boolean): string {
  if (!labelled) {
    return `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts)
    SELECT t, q, p, pr, coalesce(ra, now() + d * interval '1 millisecond'), ma
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[])
      AS u(t, q, p, pr, ra, d, ma)
    ${RETURNING(n, xid)}`;
  }
  return `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts, tags, meta)
    SELECT t, q, p, pr, coalesce(ra, now() + d * interval '1 millisecond'), ma,
      CASE WHEN tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(tg)) END,
      coalesce(m, '{}')
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[],
      $8::jsonb[], $9::jsonb[]) AS u(t, q, p, pr, ra, d, ma, tg, m)
    ${RETURNING(n, xid)}`;
}

/**
 * Jobs whose queue, priority or max_attempts may be NULL, one or a batch: the schema's
 * insert_jobs() (migrations 0005, 0009) fills each NULL from the task's row in the tasks
 * table, else from the built-in defaults, and returns what it resolved. $10 names the distinct
 * tasks of the rows that left an option open, so the table is read once per statement, for
 * those only.
 *
 * A function, not a statement sent as text, because PL/pgSQL keeps its statement's plan for
 * the session: planning the lookup on every statement made small statements cost 60% more
 * than the plain INSERT (0.29 vs 0.18 ms for one row, sequential on one connection), and
 * coalesced single enqueues are small statements. Through the function one row costs 0.15 ms
 * and 1,000 rows 6.7 ms against the plain INSERT's 7.5 ms (PostgreSQL 15 here). A per-row
 * lookup (a LATERAL join, or scalar subqueries) had cost a third to two fifths of bulk
 * throughput, hence one lookup per statement.
 */
function insertResolvingSql(n: Names, xid: boolean): string {
  return `SELECT *${xid ? XID : ''} FROM ${n.q}.insert_jobs($1::text[], $2::text[], $3::jsonb[],
    $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[], $8::jsonb[], $9::jsonb[], $10::text[])`;
}

/** insertManyValues with tags and meta, and the distinct tasks of the rows that leave an option to the database. */
function insertResolvingValues(rows: JobRow[]): unknown[] {
  const lookup = new Set<string>();
  for (const r of rows)
    if (r.queue === null || r.priority === null || r.maxAttempts === null) lookup.add(r.task);
  return [...insertManyValues(rows, true), [...lookup]];
}

/** Column by column; with `labelled`, tags (JSON arrays) and meta, each NULL when no row has any. */
export function insertManyValues(rows: JobRow[], labelled: boolean): unknown[] {
  const values: unknown[] = [
    rows.map((r) => r.task),
    rows.map((r) => r.queue),
    rows.map((r) => r.payload),
    rows.map((r) => r.priority),
    rows.map((r) => r.runAt),
    rows.map((r) => r.delayMs),
    rows.map((r) => r.maxAttempts),
  ];
  if (labelled) {
    values.push(
      rows.some((r) => r.tags !== null) ? rows.map((r) => r.tags && JSON.stringify(r.tags)) : null,
      rows.some((r) => r.meta !== null) ? rows.map((r) => r.meta) : null,
    );
  }
  return values;
}

/** Wakes workers of the given queues; `d` is how long until the earliest of the jobs is due. */
export function notifySql(n: Names): string {
  return `SELECT pg_notify(${n.channelLiteral}, x) FROM unnest($1::text[]) AS x`;
}

export function notifyPayload(queue: string, delayMs: number): string {
  return JSON.stringify({ q: queue, d: Math.max(0, Math.round(delayMs)) });
}
