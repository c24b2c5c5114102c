import type { Logger } from './logger.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { UniqueOptions, UniqueResult } from './unique.js';

/** Anything with node-postgres' `query`: a `pg.Client`, a `pg.PoolClient` inside your transaction, a `pg.Pool`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
}

/** One entry per failed attempt, oldest first. */
export interface JobError {
  attempt: number;
  /** ISO timestamp from the database clock. */
  at: string;
  message: string;
  stack?: string;
}

/**
 * Live states come from the jobs table (`running` is a held lock); `completed` and
 * `cancelled` from the history, while the queue's retention keeps them.
 */
export type JobState = 'available' | 'scheduled' | 'running' | 'failed' | 'completed' | 'cancelled';

/** How a job left the live table: what its history row says. */
export type JobOutcome = 'completed' | 'cancelled';

export interface Job<Payload = unknown, Task extends string = string> {
  /** bigint id as a decimal string: ids past 2^53 stay exact. */
  id: string;
  task: Task;
  queue: string;
  payload: Payload;
  priority: number;
  runAt: Date;
  /** Attempts started so far, including the one running now. */
  attempts: number;
  maxAttempts: number;
  errors: JobError[];
  failedAt: Date | null;
  createdAt: Date;
  /** When the current or last attempt started (database clock); null before the first. */
  startedAt: Date | null;
  /** Short strings set at enqueue, for filtering (`listJobs({ tag })`). */
  tags: string[];
  /** A small object set at enqueue, for search (`listJobs({ search })`); `{}` when none. */
  meta: Record<string, unknown>;
  /**
   * Only on the Job an enqueue with `unique` returns: the key and whether the job was inserted,
   * deduplicated (this is the existing job) or replaced. Absent everywhere else.
   */
  unique?: UniqueResult;
}

/** A job from the history: completed or cancelled, kept per its queue's retention. */
export interface FinishedJob<Payload = unknown, Result = unknown> extends Job<Payload> {
  outcome: JobOutcome;
  /** The handler's return value (completed jobs); null when it returned nothing. */
  result: Result | null;
  /** The last progress the handler reported, if any. */
  progress: unknown;
  finishedAt: Date;
  /** The id of the worker that ran the last attempt; null for a job cancelled before it ran. */
  worker: string | null;
}

export interface JobContext<Payload = unknown> {
  job: Job<Payload>;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * Aborted on timeout, on shutdown past the grace period, when the job's lock is lost, and
   * after an event-loop stall the worker could not re-verify its session from.
   */
  signal: AbortSignal;
  logger: Logger;
  /**
   * This attempt's fencing token, `<job id>:<claims>`: how many times the job has been claimed,
   * this claim included, zero-padded to 10 digits (`"42:0000000003"`). The same throughout one
   * attempt, and greater (compared as text) with every new claim of the job, also after a
   * manual `retryJob`/`retryFailed`, which resets `attempts` but not the claim count. Hand it
   * with a side effect to a system that can fence: it keeps the highest token it has accepted
   * per job id and refuses a write carrying a lower one, so a stale attempt cannot overwrite a
   * newer one's. To do an effect once per job rather than per attempt, key it by `job.id`.
   */
  fencingToken: string;
  /**
   * Proves that this worker still owns the job right now: one round trip on the session that
   * holds the job's lock, checking that it is alive, still holds the lock, and that the job is
   * still on this claim. Throws a LockLostError (and aborts `signal` with it) if not. Call it
   * right before a side effect that must not be done by two attempts at once; what it proves
   * holds when Postgres answered, so pass `fencingToken` along where the target can fence.
   */
  assertOwnership(): Promise<void>;
  /**
   * Reports how far the job has got: a finite number (a percentage, a count) or a small JSON
   * value (string, boolean, array, object; `null` clears it), at most 1 KB as JSON, shown as
   * `progress` by `runningJobs()` and kept with the finished job. A bad value throws
   * InvalidProgressError at once and nothing is written. Call it as often as you like: the
   * worker writes the first value at once, then at most one per `progressInterval` (default
   * 1 s) per job, always ending with the latest. The promise resolves when a value sent at once
   * is written, and at once when the value is held for a later write; it never rejects (a
   * failed write is logged, and the job goes on).
   */
  progress(value: number | string | boolean | object | null): Promise<void>;
  /**
   * For a job a schedule enqueued: the tick it stands for (database clock; `meta.scheduledAt`),
   * the same on every attempt, so a handler can key its effect by it. undefined for other jobs.
   */
  scheduledAt: Date | undefined;
}

/**
 * Runs one attempt. What it returns (or resolves to) is the job's result: stored with the
 * finished job as JSON, given to `waitFor()` and the `completed` event.
 */
export type TaskHandler<Payload = any, Result = unknown> = (
  payload: Payload,
  ctx: JobContext<Payload>,
) => Result | Promise<Result>;

/** Delay before retry number `attempt` (1 after the first failure); or the exponential defaults' settings. */
export type Backoff =
  | ((attempt: number, error: unknown) => number)
  | { baseDelay?: number; maxDelay?: number; jitter?: boolean };

/**
 * What a task declares besides its handler. `queue`, `priority` and `maxAttempts` are
 * enqueue options: every producer with the definition or contract applies them, and workers
 * record them in the database for producers without it (see the README's "Task options").
 */
export interface TaskOptions {
  /** Queue the task's jobs go to unless `enqueue` says otherwise. Default 'default'. */
  queue?: string;
  /** Lower runs first. Default 0. */
  priority?: number;
  /** Default 25. */
  maxAttempts?: number;
  /** Milliseconds; past it the signal is aborted and the attempt counts as failed. */
  timeout?: number;
  backoff?: Backoff;
  /**
   * The jobs' concurrency key for flow control (README "Flow control"): a payload field's
   * name, or a function of the payload returning a string. The enqueue option wins.
   */
  concurrencyKey?: string | ((payload: any) => string);
}

export interface TaskDefinition<Input = any, Output = Input, Result = unknown> extends TaskOptions {
  handler: TaskHandler<Output, Result>;
  /** A Standard Schema (zod, valibot, arktype…) checked before enqueue and again before the handler runs. */
  schema?: StandardSchemaV1<Input, Output>;
}

/**
 * A task's options and payload type without its handler, made by `defineTask()`: what a
 * producer needs to enqueue the task exactly as its workers expect, and what a worker turns
 * into a full definition with `handle()`. It carries no name: the task map names it.
 */
export interface TaskContract<Input = any, Output = Input, Result = unknown> extends TaskOptions {
  readonly schema?: StandardSchemaV1<Input, Output>;
  /** Types only, never set at runtime: the payload and result types the contract carries. */
  readonly '~types'?: { readonly input: Input; readonly output: Output; readonly result: Result };
  /** This contract's options and schema with a handler: a full task definition for a worker. */
  handle(handler: TaskHandler<Output, Result>): TaskDefinition<Input, Output, Result>;
}

/**
 * The result type of a task: what its handler resolves to, or what its contract declares
 * (`defineTask<Payload, Result>()`); `unknown` when neither says.
 */
export type ResultOf<D> =
  D extends TaskContract<any, any, infer R>
    ? R
    : D extends { handler: (...args: any[]) => infer R }
      ? Awaited<R>
      : D extends (...args: any[]) => infer R
        ? Awaited<R>
        : unknown;

export type TaskMap = {
  [task: string]: TaskHandler<any> | TaskDefinition<any, any> | TaskContract<any, any>;
};

/** The payload type `enqueue` accepts for one task definition or contract. */
export type PayloadOf<D> =
  D extends TaskContract<infer In, any>
    ? In
    : D extends TaskDefinition<infer In, any>
      ? In
      : D extends TaskHandler<infer P>
        ? P
        : never;

/** For producers that do not import the handlers: `new Queue<Tasks<{ sendEmail: { to: string } }>>(…)`. */
export type Tasks<Payloads extends Record<string, unknown>> = {
  [K in keyof Payloads & string]: TaskHandler<Payloads[K]>;
};

export interface EnqueueOptions {
  /** When to run, by the wall clock you pass. Exclusive with `delay`. */
  runAt?: Date;
  /** Milliseconds from now by the database clock. Exclusive with `runAt`. */
  delay?: number;
  priority?: number;
  queue?: string;
  maxAttempts?: number;
  /**
   * Short labels for filtering (`listJobs({ tag })`), kept on the job and its history row: at
   * most 16, each 1 to 64 characters. Refused with InvalidOptionError before anything is written.
   */
  tags?: readonly string[];
  /**
   * A small plain object for search (`listJobs({ search })`), kept like tags: JSON values
   * only, at most 4 KB as JSON. Refused with InvalidOptionError before anything is written.
   */
  meta?: Record<string, unknown>;
  /**
   * A unique key and what to do when a job with it exists: skip (`mode: 'queued'`, the default,
   * or `'active'`), replace the waiting job (`'replace'`), at most once per `period`, `debounce`
   * or `throttle`. Enforced by the database for every producer; the returned Job's `unique`
   * says whether it was inserted, deduplicated or replaced. Bad input throws
   * InvalidUniqueError before anything is written. See the README's "Unique jobs".
   */
  unique?: UniqueOptions;
  /** The job's key for per-key limits and fairness (README "Flow control"); a string. */
  concurrencyKey?: string;
  /**
   * Write the job with this client, e.g. inside your own transaction: workers see it only
   * after your COMMIT, and never if you roll back.
   */
  client?: Queryable;
}
