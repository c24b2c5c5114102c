import type { JobRow } from '../options.js';
import type { Job } from '../types.js';
import type { UniqueOutcome, UniqueSpec } from '../unique.js';
import { type Insert, type Inserted, insertedJob, insertManyValues, XID } from './enqueue.js';
import type { Names } from './names.js';

/**
 * The statement of every enqueue with a unique key, one job or a batch (rows without a key may
 * ride along): the schema's insert_unique_jobs() (migration 0011), whose comments give the
 * design. A function, like insert_jobs(), so that its statements' plans are kept for the session,
 * and so that SQL enqueue() runs exactly the same logic. `xid` adds the transaction's id, for an
 * enqueue given `client` (see xid.ts).
 */
export function insertUniqueSql(n: Names, xid: boolean): string {
  return `SELECT o_ord AS ord, o_outcome AS outcome, o_id AS id, o_run_at AS run_at, o_created_at AS created_at,
      o_delay_ms AS delay_ms, o_queue AS queue, o_priority AS priority, o_max_attempts AS max_attempts,
      o_key AS key, o_existing AS existing${xid ? XID : ''}
    FROM ${n.q}.insert_unique_jobs($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[],
      $6::float8[], $7::int[], $8::jsonb[], $9::jsonb[], $10::text[], $11::text[], $12::jsonb[], $13::text[],
      $14::float8[], $15::float8[], $16::boolean, $17::int, $18::text)`;
}

/**
 * One job whose options are resolved (a single enqueue, alone or the only one in its coalesced
 * batch): settle_unique_job() directly, which takes the key's lock itself in the locking modes;
 * a key derived from fields ($15, checked against the payload here) is derived as
 * insert_unique_jobs() derives it. The same result columns as insertUniqueSql.
 */
export function settleOneSql(n: Names, xid: boolean): string {
  return `SELECT o_ord AS ord, o_outcome AS outcome, o_id AS id, o_run_at AS run_at, o_created_at AS created_at,
      o_delay_ms AS delay_ms, o_queue AS queue, o_priority AS priority, o_max_attempts AS max_attempts,
      o_key AS key, o_existing AS existing${xid ? XID : ''}
    FROM ${n.q}.settle_unique_job(1, $1::text, $2::text, $3::jsonb, $4::smallint,
      coalesce($5::timestamptz, now() + $6::float8 * interval '1 millisecond'), $7::int,
      coalesce($8::text[], '{}'), coalesce($9::jsonb, '{}'),
      coalesce($10::text, ${n.q}.unique_key_of($1::text, $3::jsonb, $15::text[])), $11::text, $12::float8,
      $13::float8, $14::int, true)`;
}

/** Whether settleOneSql can take the row: its options resolved (else insert_unique_jobs() reads the tasks table). */
export function settlesAlone(r: JobRow): boolean {
  return r.unique !== undefined && r.queue !== null && r.priority !== null && r.maxAttempts !== null;
}

export function settleOneValues(n: Names, r: JobRow, text: string): Insert {
  const u = r.unique!;
  return {
    text,
    values: [
      r.task,
      r.queue,
      r.payload,
      r.priority,
      r.runAt,
      r.delayMs,
      r.maxAttempts,
      r.tags,
      r.meta,
      u.key,
      u.mode,
      u.ms,
      u.maxWait,
      n.lockNamespace,
      u.by,
    ],
  };
}

/**
 * How insert_unique_jobs() meets a queued job of a batch's key, for a batch of more than 4 rows
 * all in the default mode (p_conflict): 'settle', an INSERT ... ON CONFLICT DO NOTHING, then
 * each row that met one settled; 'look', a look-up of the keys' queued jobs, then a plain INSERT
 * of the rest, which fails with a unique violation when a concurrent transaction commits a job
 * of one of the keys meanwhile; 'raise', the plain INSERT alone, which fails on any queued job of
 * a key. A failed statement wrote nothing, and the caller sends the batch again as 'settle'; so
 * the last two are for a caller on its own connection only (never inside an app's transaction,
 * which the error would abort). Measured (CPU of client and backend per batch of 1,000 with
 * fresh keys, against a plain enqueueMany; PostgreSQL 15, loaded 2-core machine): 'settle'
 * +44%, 'look' +25%, 'raise' +10%: ON CONFLICT's speculative insertion costs as much per row as
 * the unique index entry itself, and the look-up about as much again.
 */
export type UniqueConflict = 'settle' | 'look' | 'raise';

/**
 * Which UniqueConflict a Queue's next keyed batch on its pool takes: 'raise' while its batches
 * meet no queued job of their keys (fresh keys: the cheapest, and the benchmark's case), 'look'
 * after one did (a batch that deduplicates would fail as 'raise' and be sent twice), until a
 * batch meets none again.
 */
export class ConflictGuess {
  private met = false;

  next(): UniqueConflict {
    return this.met ? 'look' : 'raise';
  }

  /** After a batch: whether any row of it met a job of its key (deduplicated), or it failed on one. */
  note(met: boolean): void {
    this.met = met;
  }
}

/** What insert_unique_jobs() returns per input row. */
export interface UniqueRecord extends Inserted {
  /** The input row's position, 1-based: rows come back in no set order. */
  ord: number;
  outcome: UniqueOutcome;
  key: string | null;
  /** The existing job's other columns, for a row deduplicated or replaced. */
  existing: {
    task: string;
    payload: unknown;
    attempts: number;
    errors: Job['errors'];
    failed_at: number | null;
    started_at: number | null;
    tags: string[];
    meta: Record<string, unknown>;
  } | null;
}

/**
 * The parameters of insertUniqueSql for a batch. Arrays a batch does not need go as NULL (no row
 * derives its key: $12; every keyed row in the default mode: $13, which takes the function's
 * lock-free path; no durations: $14, $15). $10 names the tasks of rows that left an option to the
 * tasks table, as for insert_jobs(). $16 says that no two rows share a key, which spares the
 * statement a sort: known here for explicit keys; derived ones are compared by the database.
 * $17 is the queue's job-lock namespace. $18 says how the statement meets a queued job of one of
 * the batch's keys (see UniqueConflict).
 */
export function uniqueInsert(
  n: Names,
  rows: JobRow[],
  text: string,
  conflict: UniqueConflict = 'settle',
): Insert {
  const lookup = new Set<string>();
  for (const r of rows)
    if (r.queue === null || r.priority === null || r.maxAttempts === null) lookup.add(r.task);
  const u = rows.map((r) => r.unique ?? null);
  const any = (f: (s: NonNullable<(typeof u)[number]>) => unknown) =>
    u.some((s) => s !== null && f(s) !== null);
  return {
    text,
    values: [
      ...insertManyValues(rows, true),
      [...lookup],
      u.map((s) => s?.key ?? null),
      any((s) => s.by) ? u.map((s) => (s?.by ? JSON.stringify(s.by) : null)) : null,
      any((s) => (s.mode === 'queued' ? null : s.mode)) ? u.map((s) => s?.mode ?? null) : null,
      any((s) => s.ms) ? u.map((s) => s?.ms ?? null) : null,
      any((s) => s.maxWait) ? u.map((s) => s?.maxWait ?? null) : null,
      distinctKeys(u),
      n.lockNamespace,
      conflict,
    ],
  };
}

/**
 * The Job an enqueue returns for a row of a keyed batch: the new job as for any enqueue, or the
 * existing one as the database holds it (deduplicated) or made it (replaced).
 */
export function uniqueJob(row: JobRow, r: UniqueRecord): Job {
  // The database sends the key back only when it derived it.
  const key = r.key ?? row.unique?.key ?? null;
  if (r.outcome === 'inserted' || r.existing === null) {
    const job: Job = insertedJob(row, r);
    if (key !== null) job.unique = { key, outcome: r.outcome };
    return job;
  }
  const e = r.existing;
  return {
    id: r.id,
    task: e.task,
    queue: r.queue as string,
    payload: e.payload,
    priority: r.priority as number,
    runAt: new Date(r.run_at),
    attempts: e.attempts,
    maxAttempts: r.max_attempts as number,
    errors: e.errors,
    failedAt: e.failed_at === null ? null : new Date(e.failed_at),
    createdAt: new Date(r.created_at),
    startedAt: e.started_at === null ? null : new Date(e.started_at),
    tags: e.tags,
    meta: e.meta,
    unique: { key: key as string, outcome: r.outcome, existingId: r.id },
  };
}

/** True when no two rows have the same explicit key and none derives its key (`by`). */
function distinctKeys(specs: (UniqueSpec | null)[]): boolean {
  const seen = new Set<string>();
  for (const s of specs) {
    if (s === null) continue;
    if (s.key === null || seen.has(s.key)) return false;
    seen.add(s.key);
  }
  return true;
}

/**
 * The error of insert_unique_jobs() as 'look' or 'raise' (see UniqueConflict) that met a queued
 * job of one of its keys: nothing was written; the batch sent again as 'settle' settles it.
 */
export function isUniqueRace(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'jobs_unique_idx';
}
