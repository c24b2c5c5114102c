import { InvalidOptionError } from './errors.js';
import type { EnqueueOptions, TaskOptions } from './types.js';
import type { UniqueSpec } from './unique.js';

export const DEFAULT_QUEUE = 'default';
export const DEFAULT_MAX_ATTEMPTS = 25;
/** setTimeout overflows past 2^31 - 1 ms and fires at once; no timer of ours may be longer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Milliseconds `migrate()` and `worker.start()` keep retrying while Postgres cannot be
 * reached. Here a stopped Postgres 18 starts again in under a second and a fresh one
 * (initdb, then start) in about 3 s; a loaded server or a container pulling its image takes
 * longer. A minute covers those with room, and a process manager still hears of a database
 * that stays down. Managed-database failovers can take minutes: raise it there.
 */
export const DEFAULT_STARTUP_TIMEOUT = 60_000;

export const DEFAULT_PRIORITY = 0;

/**
 * A row ready for INSERT, with every option checked. `queue`, `priority` and `maxAttempts`
 * are null when neither the caller nor a task definition gave them: the INSERT then takes
 * them from the tasks table, else the built-in defaults.
 */
export interface JobRow {
  task: string;
  queue: string | null;
  payload: string;
  priority: number | null;
  /** ISO time, or null to use the database's now() + delayMs. */
  runAt: string | null;
  delayMs: number;
  maxAttempts: number | null;
  /** Checked tags, or null for none (the column's default, '{}'). */
  tags: string[] | null;
  /** Meta as JSON text, or null for none (the column's default, '{}'). */
  meta: string | null;
  /** The checked `unique` option; absent for jobs without a key, which take the plain INSERT. */
  unique?: UniqueSpec;
}

export function checkQueueName(option: string, queue: unknown): string {
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > 128 || queue.includes('\u0000')) {
    throw new InvalidOptionError(option, `must be a string of 1 to 128 characters, got ${show(queue)}`);
  }
  return queue;
}

/** `startupTimeout` (QueueOptions, WorkerOptions, migrate()): integer milliseconds, 0 = fail at once. */
export function checkStartupTimeout(value: unknown, fallback = DEFAULT_STARTUP_TIMEOUT): number {
  return checkInt('startupTimeout', value ?? fallback, 0, MAX_TIMER_MS);
}

export function checkInt(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, `must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/**
 * The options of one job: the caller's, then the task definition's, then the built-in
 * defaults. Without a definition, what the caller did not give stays null for the database
 * to fill from the tasks table.
 */
export function resolveJobOptions(
  options: EnqueueOptions,
  task: TaskOptions | undefined,
): Omit<JobRow, 'task' | 'payload' | 'tags' | 'meta'> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `must be an object, got ${show(options)}`);
  }
  const { runAt, delay } = options;
  if (runAt !== undefined && delay !== undefined) {
    throw new InvalidOptionError('runAt', 'give either runAt or delay, not both');
  }
  let at: string | null = null;
  if (runAt !== undefined) {
    if (!(runAt instanceof Date) || Number.isNaN(runAt.getTime())) {
      throw new InvalidOptionError('runAt', `must be a valid Date, got ${show(runAt)}`);
    }
    at = runAt.toISOString();
  }
  let delayMs = 0;
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
      throw new InvalidOptionError(
        'delay',
        `must be a finite number of milliseconds >= 0, got ${show(delay)}`,
      );
    }
    delayMs = delay;
  }
  const queue = options.queue ?? (task ? (task.queue ?? DEFAULT_QUEUE) : undefined);
  const priority = options.priority ?? (task ? (task.priority ?? DEFAULT_PRIORITY) : undefined);
  const maxAttempts = options.maxAttempts ?? (task ? (task.maxAttempts ?? DEFAULT_MAX_ATTEMPTS) : undefined);
  return {
    queue: queue === undefined ? null : checkQueueName('queue', queue),
    priority: priority === undefined ? null : checkInt('priority', priority, -32768, 32767),
    maxAttempts: maxAttempts === undefined ? null : checkInt('maxAttempts', maxAttempts, 1, 1_000_000),
    runAt: at,
    delayMs,
  };
}

/**
 * Checks the options a task definition or contract carries, once, where it is made;
 * `where` names it in errors (`tasks.syncCrm`, `defineTask()`).
 */
export function checkTaskOptions(where: string, def: TaskOptions): void {
  const p = where;
  if (def.queue !== undefined) checkQueueName(`${p}.queue`, def.queue);
  if (def.priority !== undefined) checkInt(`${p}.priority`, def.priority, -32768, 32767);
  if (def.maxAttempts !== undefined) checkInt(`${p}.maxAttempts`, def.maxAttempts, 1, 1_000_000);
  if (def.timeout !== undefined) checkInt(`${p}.timeout`, def.timeout, 1, MAX_TIMER_MS);
  if (def.backoff !== undefined && typeof def.backoff !== 'function' && typeof def.backoff !== 'object') {
    throw new InvalidOptionError(`${p}.backoff`, 'must be a function or { baseDelay, maxDelay, jitter }');
  }
}

export function show(value: unknown): string {
  if (value instanceof Date) return `Date(${value.toString()})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}
