import { ConfigError, InvalidOptionError, UnknownTaskError } from './errors.js';
import { checkQueueName, DEFAULT_QUEUE, show } from './options.js';
import type { Queue } from './queue.js';
import type { Names } from './sql/names.js';
import type { TaskSpec } from './tasks.js';
import { workerTasks } from './tasks.js';
import type { TaskDefinition } from './types.js';
import { Worker } from './worker.js';
import type { WorkerOptions } from './worker-options.js';

/**
 * What a test harness (@queue/testing's drain() and assertions) needs from a Queue beyond its
 * public API: the tables, the due jobs of some tasks and queues, and a worker that runs only
 * those tasks. Built on the Queue's own worker, so a drained job is claimed, run, retried and
 * recorded exactly as in production. Not for production code: it bypasses the task map's
 * ownership of workers (close() does not stop these; the caller does).
 */
export interface DrainScope {
  /** The task names in scope: the ones asked for, or every task with a handler. */
  readonly tasks: readonly string[];
  /** The queues asked for; undefined means every queue. */
  readonly queues: readonly string[] | undefined;
  /** The queues the tasks in scope name ('default' for a task that names none), sorted. */
  readonly taskQueues: readonly string[];
  /** Queues with jobs in scope due now (not failed, run_at reached, queue not paused). */
  dueQueues(): Promise<string[]>;
  /**
   * Makes scheduled jobs in scope due now: those never attempted (`fresh`, a future `runAt` or
   * `delay`) and/or those waiting for a retry's backoff (`retries`). Wakes workers. Returns how many.
   */
  runScheduledNow(which: { fresh: boolean; retries: boolean }): Promise<number>;
  /** A worker of `queues` that claims only the tasks in scope. Call start(), and stop() after. */
  worker(queues: readonly string[], options?: WorkerOptions): Worker;
}

/** The quoted tables of a queue's schema, for harnesses that read them directly. */
export function queueTables(queue: Queue<any>): { jobs: string; history: string } {
  const { q } = namesOf(queue);
  return { jobs: `${q}.jobs`, history: `${q}.job_history` };
}

/**
 * Scope of a drain: `tasks` must be in the queue's task map with a handler (a contract from
 * defineTask() has none); `queues` must be queue names. Bad input throws before any query.
 */
export function drainScope(
  queue: Queue<any>,
  scope: { tasks?: readonly string[]; queues?: readonly string[] } = {},
): DrainScope {
  const internals = queue as unknown as QueueInternals;
  const all = internals.tasks;
  let selected: Map<string, TaskSpec>;
  if (scope.tasks === undefined) {
    selected = new Map([...all].filter(([, spec]) => typeof spec.handler === 'function'));
    if (selected.size === 0) {
      throw new ConfigError(
        'drain needs a Queue with task handlers: this queue has none (only contracts from defineTask(), ' +
          'or no task map). Build the queue the worker side uses, with contract.handle(handler)',
      );
    }
  } else {
    if (!Array.isArray(scope.tasks) || scope.tasks.length === 0) {
      throw new InvalidOptionError(
        'tasks',
        `must be a non-empty array of task names, got ${show(scope.tasks)}`,
      );
    }
    selected = new Map();
    for (const name of scope.tasks) {
      const spec = all.get(name);
      if (!spec) throw new UnknownTaskError(name, [...all.keys()]);
      selected.set(name, spec);
    }
  }
  // Throws ConfigError naming a contract without a handler.
  const defs: ReadonlyMap<string, TaskDefinition> = workerTasks(selected);
  let queues: string[] | undefined;
  if (scope.queues !== undefined) {
    if (!Array.isArray(scope.queues) || scope.queues.length === 0) {
      throw new InvalidOptionError(
        'queues',
        `must be a non-empty array of queue names, got ${show(scope.queues)}`,
      );
    }
    queues = scope.queues.map((q) => checkQueueName('queues', q));
  }
  const names = namesOf(queue);
  const tasks = [...defs.keys()];
  const inScope = `j.task = ANY($1::text[]) AND ($2::text[] IS NULL OR j.queue = ANY($2::text[]))`;
  const taskQueues = [...new Set([...defs.values()].map((d) => d.queue ?? DEFAULT_QUEUE))].sort();
  return {
    tasks,
    queues,
    taskQueues,
    async dueQueues() {
      const { rows } = await queue.pool.query(
        `SELECT DISTINCT j.queue FROM ${names.q}.jobs j
         WHERE ${inScope} AND j.failed_at IS NULL AND j.run_at <= now()
           AND NOT EXISTS (SELECT 1 FROM ${names.q}.queues p WHERE p.name = j.queue AND p.paused_at IS NOT NULL)
         ORDER BY 1`,
        [tasks, queues ?? null],
      );
      return rows.map((r) => r.queue as string);
    },
    async runScheduledNow({ fresh, retries }) {
      if (!fresh && !retries) return 0;
      // One statement moves the rows and queues the wake-ups ({q, d}, as enqueue sends them),
      // delivered at its commit. A row a worker holds is skipped (its advisory lock), as runNow() does.
      const { rows } = await queue.pool.query(
        `WITH moved AS (
           UPDATE ${names.q}.jobs j SET run_at = now()
           WHERE ${inScope} AND j.failed_at IS NULL AND j.run_at > now()
             AND (($3::bool AND j.attempts = 0) OR ($4::bool AND j.attempts > 0))
             AND pg_try_advisory_xact_lock(${names.lockKey('j.id')})
           RETURNING j.queue)
         SELECT count(*)::int AS n,
           (SELECT count(pg_notify(${names.channelLiteral}, q.payload)) FROM
             (SELECT DISTINCT json_build_object('q', queue, 'd', 0)::text AS payload FROM moved) q) AS notified
         FROM moved`,
        [tasks, queues ?? null, fresh, retries],
      );
      return rows[0].n as number;
    },
    worker(workerQueues, options = {}) {
      return new Worker(
        internals.connection,
        names,
        defs,
        {
          ...options,
          queues: [...workerQueues],
          startupTimeout: options.startupTimeout ?? queue.startupTimeout,
          maxResultBytes: options.maxResultBytes ?? internals.maxPayloadBytes,
        },
        options.logger ?? queue.logger,
        queue.pool,
      );
    },
  };
}

/** The Queue's members a harness reads (private or protected there, so not on its public type). */
interface QueueInternals {
  tasks: ReadonlyMap<string, TaskSpec>;
  names: Names;
  connection: ConstructorParameters<typeof Worker>[0];
  maxPayloadBytes: number;
}

function namesOf(queue: Queue<any>): Names {
  return (queue as unknown as QueueInternals).names;
}
