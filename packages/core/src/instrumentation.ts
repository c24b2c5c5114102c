/**
 * A general hook for tracing (or any other instrumentation) around enqueues and job runs,
 * with no dependency on a tracing library: @queue/otel implements it with OpenTelemetry.
 *
 * Without a hook (the default) the enqueue and run paths test one field and do nothing else:
 * no closure, array or object is made per job.
 */
import { ConfigError } from './errors.js';
import { show } from './options.js';
import type { Job, TaskDefinition } from './types.js';

/** What an enqueue call is about to write, told to `Instrumentation.enqueue` before anything is. */
export interface EnqueueOperation {
  /** `enqueue` for one job, `enqueueMany` for a batch (one statement, all or none). */
  operation: 'enqueue' | 'enqueueMany';
  /** The task of each job, in input order. */
  tasks: readonly string[];
  /** True when the jobs are written in the caller's transaction (`client` given). */
  transactional: boolean;
}

/**
 * How one attempt ended, as the worker records it. `final`: no attempt follows (it succeeded,
 * its payload failed the task's schema, or it failed its last allowed attempt). A job
 * cancelled while it ran reports `ok: false` with the JobCancelledError as `error`.
 */
export type AttemptOutcome =
  | { ok: true; final: true }
  | { ok: false; error: unknown; timedOut: boolean; cancelled: boolean; final: boolean };

export interface Instrumentation {
  /**
   * Wraps one enqueue call (enqueue, enqueueMany, with or without `client`). Call `insert`
   * once and return what it returns: the hook runs in the caller's async context, and so does
   * `insert`. `meta` entries given to `insert` are added to the meta of every job it writes
   * (over the caller's entries of the same name): the place for a trace context.
   */
  enqueue(
    operation: EnqueueOperation,
    insert: (meta?: Record<string, unknown>) => Promise<Job[]>,
  ): Promise<Job[]>;
  /**
   * Wraps one attempt of a job (payload check, handler, result encoding) in the worker. Call
   * `attempt` once and await it: the handler runs in the async context `attempt` is called in.
   * `attempt` never rejects; what it resolves to says how the attempt ended. `job.attempts`
   * is this attempt's number (1 for the first).
   */
  run(job: Job, attempt: () => Promise<AttemptOutcome>): Promise<unknown>;
}

/**
 * Where an enqueue call made through the hook carries the hook's meta entries, in its own
 * options object: a key no caller's options have, read only when a hook is set.
 */
export const EXTRA_META: unique symbol = Symbol('queue.extraMeta');

export type WithExtraMeta = { [EXTRA_META]?: Record<string, unknown> | undefined };

/** The meta of a job with an instrumentation's entries added; JSON text as `encodeMeta` makes it. */
export function addMeta(meta: string | null, extra: Record<string, unknown> | undefined): string | null {
  if (extra === undefined) return meta;
  const merged = meta === null ? extra : { ...JSON.parse(meta), ...extra };
  return JSON.stringify(merged);
}

/** Checks a Queue's `instrumentation` option: an object with `enqueue` and `run` functions. */
export function checkInstrumentation(value: unknown): Instrumentation | undefined {
  if (value === undefined) return undefined;
  const hooks = value as Partial<Instrumentation> | null;
  if (hooks === null || typeof hooks.enqueue !== 'function' || typeof hooks.run !== 'function') {
    throw new ConfigError(
      `instrumentation must be an object with enqueue() and run() functions (such as ` +
        `queueInstrumentation() from @queue/otel), got ${show(value)}`,
    );
  }
  return hooks as Instrumentation;
}

/** Where a worker's task definition carries the queue's hook to runJob (run-job.ts). */
export const RUN_HOOK: unique symbol = Symbol('queue.instrumentation');

export type InstrumentedTask = TaskDefinition & { [RUN_HOOK]?: Instrumentation };

/**
 * A worker's task map with the hook on each definition (copies), or the map itself without a
 * hook: the worker passes definitions to runJob, which so needs no new parameter.
 */
export function instrumentTasks<T extends TaskDefinition>(
  tasks: ReadonlyMap<string, T>,
  hook: Instrumentation | undefined,
): ReadonlyMap<string, T> {
  if (hook === undefined) return tasks;
  return new Map([...tasks].map(([name, def]) => [name, { ...def, [RUN_HOOK]: hook }]));
}
