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
 */
export function checkUnique(
  task: string,
  payload: unknown,
  options: { unique?: unknown; runAt?: unknown; delay?: unknown },
  where: string,
): UniqueSpec {
  const u = options.unique;
  const fail = (option: string, value: unknown, shown: string, problem: string) =>
    new InvalidUniqueError(task, option ? `${where}.${option}` : where, value, shown, problem);
  if (u === null || typeof u !== 'object' || Array.isArray(u)) {
    throw fail('', u, show(u), "must be an object such as { key: 'sync:42' } or { by: ['userId'] }");
  }
  const given = u as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name)) {
      throw fail(name, given[name], '', `is not a unique option; known ones: ${[...KNOWN].join(', ')}`);
    }
  }
  // undefined counts as not given, as for the other enqueue options.
  const has = (name: string) => given[name] !== undefined;

  if (has('key') === has('by')) {
    throw fail('', u, '', has('key') ? 'has both key and by: give one' : 'needs key or by');
  }
  const kinds = ['mode', 'period', 'debounce', 'throttle'].filter(has);
  if (kinds.length > 1) {
    throw fail(
      kinds[1]!,
      given[kinds[1]!],
      show(given[kinds[1]!]),
      `conflicts with ${kinds[0]}: give one of mode, period, debounce, throttle`,
    );
  }
  if (has('maxWait') && !has('debounce'))
    throw fail('maxWait', given.maxWait, show(given.maxWait), 'is only for debounce');
  if (has('keep') && !has('throttle'))
    throw fail('keep', given.keep, show(given.keep), 'is only for throttle');
  for (const kind of ['debounce', 'throttle']) {
    if (!has(kind)) continue;
    for (const timing of ['runAt', 'delay'] as const) {
      if (options[timing] !== undefined) {
        throw fail(kind, given[kind], show(given[kind]), `sets the run time itself: leave out ${timing}`);
      }
    }
  }

  const spec: UniqueSpec = { key: null, by: null, mode: 'queued', ms: null, maxWait: null };
  if (has('key')) spec.key = checkKey(given.key, (shown, problem) => fail('key', given.key, shown, problem));
  else spec.by = checkBy(given.by, payload, (shown, problem) => fail('by', given.by, shown, problem));

  const duration = (name: string) => {
    const v = given[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_UNIQUE_MS) {
      throw fail(
        name,
        v,
        show(v),
        `must be a positive whole number of milliseconds (at most ${MAX_UNIQUE_MS}, ten years)`,
      );
    }
    return v;
  };
  if (has('mode')) {
    if (typeof given.mode !== 'string' || !MODES.has(given.mode)) {
      throw fail('mode', given.mode, show(given.mode), "must be 'queued', 'active' or 'replace'");
    }
    spec.mode = given.mode as UniqueMode;
  } else if (has('period')) {
    spec.mode = 'period';
    spec.ms = duration('period');
  } else if (has('debounce')) {
    spec.mode = 'debounce';
    spec.ms = duration('debounce');
    if (has('maxWait')) {
      spec.maxWait = duration('maxWait');
      if (spec.maxWait < spec.ms) {
        throw fail(
          'maxWait',
          spec.maxWait,
          show(spec.maxWait),
          `is shorter than debounce (${spec.ms}): it must be at least as long`,
        );
      }
    }
  } else if (has('throttle')) {
    spec.ms = duration('throttle');
    if (has('keep') && given.keep !== 'first' && given.keep !== 'last') {
      throw fail('keep', given.keep, show(given.keep), "must be 'first' or 'last'");
    }
    spec.mode = given.keep === 'last' ? 'throttle_last' : 'throttle';
  }
  return spec;
}

function checkKey(key: unknown, fail: (shown: string, problem: string) => Error): string {
  if (typeof key !== 'string') throw fail(show(key), 'must be a string');
  if (key.length === 0) throw fail('""', 'must not be empty');
  // Code points: a UTF-16 length over the limit may still be within it.
  const length = key.length > MAX_UNIQUE_KEY_LENGTH ? [...key].length : key.length;
  if (length > MAX_UNIQUE_KEY_LENGTH) {
    throw fail(
      `${JSON.stringify([...key].slice(0, 40).join(''))}…`,
      `is ${length} characters, over the limit of ${MAX_UNIQUE_KEY_LENGTH}; derive it with by (long derived keys are hashed), or hash it yourself`,
    );
  }
  if (key.includes('\u0000'))
    throw fail(JSON.stringify(key), 'contains a \\u0000 character, which Postgres text cannot store');
  if (LONE_SURROGATE.test(key)) throw fail(JSON.stringify(key), 'contains a lone UTF-16 surrogate');
  return key;
}

function checkBy(by: unknown, payload: unknown, fail: (shown: string, problem: string) => Error): string[] {
  if (!Array.isArray(by) || by.length === 0 || by.length > MAX_UNIQUE_FIELDS) {
    throw fail(show(by), `must be an array of 1 to ${MAX_UNIQUE_FIELDS} payload field names`);
  }
  const seen = new Set<string>();
  for (const field of by) {
    if (typeof field !== 'string' || field.length === 0) {
      throw fail(JSON.stringify(by), `must hold field names (non-empty strings), got ${show(field)}`);
    }
    if (seen.has(field)) throw fail(JSON.stringify(by), `names field ${JSON.stringify(field)} twice`);
    seen.add(field);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw fail(
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
      throw fail(
        JSON.stringify(by),
        `names field ${JSON.stringify(field)}, which the payload does not have (its fields: ${list})`,
      );
    }
  }
  return [...(by as string[])];
}
