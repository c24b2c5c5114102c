import { InvalidUniqueError } from './errors.js';
import { show } from './options.js';

/** Characters of an explicit key (code points, as Postgres' length() counts them): an index entry, not a payload. */
export const MAX_UNIQUE_KEY_LENGTH = 256;
/** Payload fields one key may be derived from. */
export const MAX_UNIQUE_FIELDS = 16;
/** The longest period, debounce, throttle or maxWait: ten years of milliseconds, far inside timestamptz. */
export const MAX_UNIQUE_MS = 10 * 366 * 24 * 60 * 60 * 1000;

/** What to do when a job with the key exists; see the README's "Unique jobs". */
export type UniqueMode = 'queued' | 'active' | 'replace';

/**
 * A job's unique key and what an enqueue does about other jobs with it. Give `key` or `by`, and
 * at most one of `mode`, `period`, `debounce`, `throttle` (none: `mode: 'queued'`).
 */
export interface UniqueOptions {
  /** The key itself, 1 to 256 characters. Keys are global to the schema: across tasks and queues. */
  key?: string;
  /**
   * Payload fields (top-level, 1 to 16) the key is derived from, with the task name:
   * `sendEmail:{"userId": 42}` (the fields as a JSON object, as Postgres' jsonb prints it).
   */
  by?: readonly string[];
  /**
   * - `'queued'` (default): skip if a job with the key is waiting to run (available or scheduled,
   *   never yet started);
   * - `'active'`: skip if a job with the key is waiting, running, or waiting to retry;
   * - `'replace'`: the waiting job takes this enqueue's payload, options and run time; if none
   *   is waiting (or it has just started), insert.
   */
  mode?: UniqueMode;
  /**
   * At most one job per key enqueued per `period` ms: skip if a job with the key was enqueued
   * less than `period` ago and has not failed (waiting, running, or completed and in the
   * history), or is waiting at all.
   */
  period?: number;
  /**
   * Run once, `debounce` ms after the last enqueue of a burst: each enqueue replaces the waiting
   * job's payload and pushes its run time to now + `debounce`, but never past its first
   * enqueue + `maxWait`. With the job already running, a new one is queued behind it.
   */
  debounce?: number;
  /** With `debounce`: the longest a job waits from its first enqueue, so a steady stream still runs. At least `debounce`. */
  maxWait?: number;
  /**
   * At most one run per `throttle` ms: a new job is due no earlier than `throttle` after the
   * latest start of a job with the key; while one waits, further enqueues are skipped
   * (`keep: 'first'`, default) or replace its payload (`keep: 'last'`).
   */
  throttle?: number;
  /** With `throttle`: whose payload the waiting job keeps. Default 'first'. */
  keep?: 'first' | 'last';
}

/** What a keyed enqueue did. */
export type UniqueOutcome = 'inserted' | 'deduplicated' | 'replaced';

export interface UniqueResult {
  /** The key used (derived ones included). */
  key: string;
  /**
   * `inserted`: a new job; `deduplicated`: nothing was written and the returned Job is the
   * existing one that stands for this enqueue (possibly finished: `period`); `replaced`: the
   * key's waiting job was changed to this enqueue, and is the returned Job.
   */
  outcome: UniqueOutcome;
  /** The existing job's id, when deduplicated or replaced (the returned Job's id too). */
  existingId?: string;
}

/** insert_unique_jobs()'s modes: `keep: 'last'` makes a throttle 'throttle_last'. */
export type UniqueDbMode =
  | 'queued'
  | 'active'
  | 'replace'
  | 'period'
  | 'debounce'
  | 'throttle'
  | 'throttle_last';

/** A checked `unique` option, as the database function takes it. */
export interface UniqueSpec {
  key: string | null;
  by: string[] | null;
  mode: UniqueDbMode;
  /** The period, debounce or throttle length in ms. */
  ms: number | null;
  maxWait: number | null;
}

const KNOWN = new Set(['key', 'by', 'mode', 'period', 'debounce', 'maxWait', 'throttle', 'keep']);
const MODES = new Set(['queued', 'active', 'replace']);
/** A lone UTF-16 surrogate cannot be sent as UTF-8: node-postgres would store U+FFFD instead. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Checks an enqueue's `unique` option against the payload and the other options, before
 * anything is written; `where` names the option in errors (`unique`, `items[2].options.unique`).
 * Written without closures or intermediate arrays for the valid case: a batch checks one per
 * item, and the first version (closures per call) cost 2.0 ms of CPU per 1,000 items, a tenth of
 * a keyed enqueueMany's whole cost; this one costs 0.3 ms.
 */
export function checkUnique(
  task: string,
  payload: unknown,
  options: { unique?: unknown; runAt?: unknown; delay?: unknown },
  where: string,
): UniqueSpec {
  const u = options.unique;
  if (u === null || typeof u !== 'object' || Array.isArray(u)) {
    throw failUnique(
      task,
      where,
      '',
      u,
      show(u),
      "must be an object such as { key: 'sync:42' } or { by: ['userId'] }",
    );
  }
  const given = u as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name)) {
      throw failUnique(
        task,
        where,
        name,
        given[name],
        '',
        `is not a unique option; known ones: ${[...KNOWN].join(', ')}`,
      );
    }
  }
  // undefined counts as not given, as for the other enqueue options.
  const { key, by, mode, period, debounce, maxWait, throttle, keep } = given;
  if ((key !== undefined) === (by !== undefined)) {
    throw failUnique(
      task,
      where,
      '',
      u,
      '',
      key !== undefined ? 'has both key and by: give one' : 'needs key or by',
    );
  }
  const kinds =
    Number(mode !== undefined) +
    Number(period !== undefined) +
    Number(debounce !== undefined) +
    Number(throttle !== undefined);
  if (kinds > 1) {
    const named = KINDS.filter((k) => given[k] !== undefined);
    const [first, second] = named as [string, string];
    throw failUnique(
      task,
      where,
      second,
      given[second],
      show(given[second]),
      `conflicts with ${first}: give one of mode, period, debounce, throttle`,
    );
  }
  if (maxWait !== undefined && debounce === undefined)
    throw failUnique(task, where, 'maxWait', maxWait, show(maxWait), 'is only for debounce');
  if (keep !== undefined && throttle === undefined)
    throw failUnique(task, where, 'keep', keep, show(keep), 'is only for throttle');
  const timing = options.runAt !== undefined ? 'runAt' : options.delay !== undefined ? 'delay' : null;
  if (timing !== null && (debounce !== undefined || throttle !== undefined)) {
    const kind = debounce !== undefined ? 'debounce' : 'throttle';
    throw failUnique(
      task,
      where,
      kind,
      given[kind],
      show(given[kind]),
      `sets the run time itself: leave out ${timing}`,
    );
  }

  const spec: UniqueSpec = { key: null, by: null, mode: 'queued', ms: null, maxWait: null };
  if (key !== undefined) spec.key = checkKey(task, where, key);
  else spec.by = checkBy(task, where, by, payload);
  if (kinds === 0) return spec;

  if (mode !== undefined) {
    if (typeof mode !== 'string' || !MODES.has(mode)) {
      throw failUnique(task, where, 'mode', mode, show(mode), "must be 'queued', 'active' or 'replace'");
    }
    spec.mode = mode as UniqueMode;
  } else if (period !== undefined) {
    spec.mode = 'period';
    spec.ms = duration(task, where, 'period', period);
  } else if (debounce !== undefined) {
    spec.mode = 'debounce';
    spec.ms = duration(task, where, 'debounce', debounce);
    if (maxWait !== undefined) {
      spec.maxWait = duration(task, where, 'maxWait', maxWait);
      if (spec.maxWait < spec.ms) {
        throw failUnique(
          task,
          where,
          'maxWait',
          spec.maxWait,
          show(spec.maxWait),
          `is shorter than debounce (${spec.ms}): it must be at least as long`,
        );
      }
    }
  } else {
    spec.ms = duration(task, where, 'throttle', throttle);
    if (keep !== undefined && keep !== 'first' && keep !== 'last') {
      throw failUnique(task, where, 'keep', keep, show(keep), "must be 'first' or 'last'");
    }
    spec.mode = keep === 'last' ? 'throttle_last' : 'throttle';
  }
  return spec;
}

const KINDS = ['mode', 'period', 'debounce', 'throttle'];

function failUnique(
  task: string,
  where: string,
  option: string,
  value: unknown,
  shown: string,
  problem: string,
): InvalidUniqueError {
  return new InvalidUniqueError(task, option ? `${where}.${option}` : where, value, shown, problem);
}

function duration(task: string, where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_UNIQUE_MS) {
    throw failUnique(
      task,
      where,
      name,
      v,
      show(v),
      `must be a positive whole number of milliseconds (at most ${MAX_UNIQUE_MS}, ten years)`,
    );
  }
  return v;
}

function checkKey(task: string, where: string, key: unknown): string {
  if (typeof key !== 'string') throw failUnique(task, where, 'key', key, show(key), 'must be a string');
  if (key.length === 0) throw failUnique(task, where, 'key', key, '""', 'must not be empty');
  // Code points: a UTF-16 length over the limit may still be within it.
  const length = key.length > MAX_UNIQUE_KEY_LENGTH ? [...key].length : key.length;
  if (length > MAX_UNIQUE_KEY_LENGTH) {
    throw failUnique(
      task,
      where,
      'key',
      key,
      `${JSON.stringify([...key].slice(0, 40).join(''))}…`,
      `is ${length} characters, over the limit of ${MAX_UNIQUE_KEY_LENGTH}; derive it with by (long derived keys are hashed), or hash it yourself`,
    );
  }
  if (key.includes('\u0000'))
    throw failUnique(
      task,
      where,
      'key',
      key,
      JSON.stringify(key),
      'contains a \\u0000 character, which Postgres text cannot store',
    );
  if (LONE_SURROGATE.test(key))
    throw failUnique(task, where, 'key', key, JSON.stringify(key), 'contains a lone UTF-16 surrogate');
  return key;
}

function checkBy(task: string, where: string, by: unknown, payload: unknown): string[] {
  if (!Array.isArray(by) || by.length === 0 || by.length > MAX_UNIQUE_FIELDS) {
    throw failUnique(
      task,
      where,
      'by',
      by,
      show(by),
      `must be an array of 1 to ${MAX_UNIQUE_FIELDS} payload field names`,
    );
  }
  for (const [i, field] of by.entries()) {
    if (typeof field !== 'string' || field.length === 0) {
      throw failUnique(
        task,
        where,
        'by',
        by,
        JSON.stringify(by),
        `must hold field names (non-empty strings), got ${show(field)}`,
      );
    }
    if (by.indexOf(field) !== i)
      throw failUnique(
        task,
        where,
        'by',
        by,
        JSON.stringify(by),
        `names field ${JSON.stringify(field)} twice`,
      );
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw failUnique(
      task,
      where,
      'by',
      by,
      JSON.stringify(by),
      `derives the key from payload fields, but the payload is ${show(payload)}, not an object`,
    );
  }
  const fields = payload as Record<string, unknown>;
  for (const field of by as string[]) {
    // A property whose value is undefined is left out of the stored JSON, as if it were absent.
    if (!Object.hasOwn(fields, field) || fields[field] === undefined) {
      const own = Object.keys(fields).filter((k) => fields[k] !== undefined);
      const list =
        own.length > 0
          ? own
              .slice(0, 10)
              .map((k) => JSON.stringify(k))
              .join(', ')
          : 'none';
      throw failUnique(
        task,
        where,
        'by',
        by,
        JSON.stringify(by),
        `names field ${JSON.stringify(field)}, which the payload does not have (its fields: ${list})`,
      );
    }
  }
  return [...(by as string[])];
}
