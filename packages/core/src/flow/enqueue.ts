import { InvalidLimitError } from '../errors.js';
import type { JobRow } from '../options.js';
import { show } from '../options.js';
import { XID } from '../sql/enqueue.js';
import type { Names } from '../sql/names.js';

/** How a task derives its jobs' concurrency key: a payload field's name, or a function of the payload. */
export type ConcurrencyKeyOption = string | ((payload: any) => string);

/** A checked row with its concurrency key, which takes the keyed INSERT below. */
export type KeyedRow = JobRow & { concurrencyKey?: string };

const MAX_KEY = 256;

function checkKey(option: string, key: unknown, task: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY || key.includes('\u0000')) {
    throw new InvalidLimitError(
      option,
      `task ${JSON.stringify(task)}: a concurrency key must be a string of 1 to ${MAX_KEY} characters ` +
        `(without \\u0000), got ${show(key)}; turn a number or id into a string first`,
    );
  }
  return key;
}

/** Checks a task definition's `concurrencyKey` option (defineTask(), the task map). */
export function checkKeyOption(where: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidLimitError(
      `${where}.concurrencyKey`,
      `must be a payload field's name or a function (payload) => string, got ${show(value)}`,
    );
  }
}

/**
 * A job's concurrency key: the enqueue option, else what its task derives from the payload,
 * else none. Refused before anything is written when it is not a non-empty string.
 */
export function concurrencyKeyOf(
  task: string,
  payload: unknown,
  given: unknown,
  derive: ConcurrencyKeyOption | undefined,
): string | undefined {
  if (given !== undefined) return checkKey('concurrencyKey', given, task);
  if (derive === undefined) return undefined;
  if (typeof derive === 'function') return checkKey(`tasks.${task}.concurrencyKey()`, derive(payload), task);
  const value =
    payload !== null && typeof payload === 'object'
      ? (payload as Record<string, unknown>)[derive]
      : undefined;
  return checkKey(`payload.${derive} (tasks.${task}.concurrencyKey)`, value, task);
}

/**
 * Jobs of which at least one has a concurrency key, one statement for the batch: the plain
 * INSERT's columns plus concurrency_key, each option left open filled from the tasks table
 * (else the defaults), as insert_jobs() does. Ids are assigned in input order. Plain jobs keep
 * their own statements, unchanged.
 */
export function keyedInsert(n: Names, rows: KeyedRow[], xid: boolean): { text: string; values: unknown[] } {
  const text = `INSERT INTO ${n.q}.jobs (task, queue, payload, priority, run_at, max_attempts, tags, meta, concurrency_key)
    SELECT u.t, coalesce(u.q, k.queue, 'default'), u.p, coalesce(u.pr, k.priority, 0),
      coalesce(u.ra, now() + u.d * interval '1 millisecond'), coalesce(u.ma, k.max_attempts, 25),
      CASE WHEN u.tg IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(u.tg)) END,
      coalesce(u.m, '{}'), u.ck
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::timestamptz[], $6::float8[], $7::int[],
      $8::jsonb[], $9::jsonb[], $10::text[]) WITH ORDINALITY AS u(t, q, p, pr, ra, d, ma, tg, m, ck, ord)
    LEFT JOIN ${n.q}.tasks k ON k.name = u.t
    ORDER BY u.ord
    RETURNING id::text AS id, (extract(epoch FROM run_at) * 1000)::float8 AS run_at,
      (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
      greatest(0, floor(extract(epoch FROM ${n.q}.jobs.run_at - now()) * 1000))::float8 AS delay_ms,
      queue, priority, max_attempts${xid ? XID : ''}`;
  return {
    text,
    values: [
      rows.map((r) => r.task),
      rows.map((r) => r.queue),
      rows.map((r) => r.payload),
      rows.map((r) => r.priority),
      rows.map((r) => r.runAt),
      rows.map((r) => r.delayMs),
      rows.map((r) => r.maxAttempts),
      rows.map((r) => r.tags && JSON.stringify(r.tags)),
      rows.map((r) => r.meta),
      rows.map((r) => r.concurrencyKey ?? null),
    ],
  };
}
