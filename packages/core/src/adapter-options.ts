/**
 * What the framework adapters (@queue/express, @queue/fastify, @queue/nest) share: the options
 * every adapter takes under the same names, types, defaults and errors, and their checks. In
 * core, framework-neutral, so that the three adapters hold no copies of it.
 */
import { ConfigError } from './errors.js';
import { Queue, type QueueOptions } from './queue.js';
import type { TaskMap } from './types.js';
import type { WorkerOptions } from './worker-options.js';

/** Core's worker options, less `handleSignals`: signals are the adapter's `handleSignals`. */
export type AdapterWorkerOptions = Omit<WorkerOptions, 'handleSignals'>;

/** What every adapter adds to core's options: the same names, types and defaults in all three. */
export interface AdapterBehaviour {
  /**
   * The worker this process runs while the app runs: `true` (default) for core's defaults,
   * worker options (`concurrency`, `queues`, `shutdownTimeout`, …), or `false` for a web
   * process that only enqueues while other processes run the jobs.
   */
  worker?: boolean | AdapterWorkerOptions;
  /**
   * Create or update the queue's tables when the app starts, before the worker starts.
   * Default true. Many processes may migrate at once (they queue up on an advisory lock);
   * set it to false where a deploy step runs `migrate()` (or `queue migrate`) instead.
   */
  migrate?: boolean;
  /**
   * On SIGTERM/SIGINT: stop taking requests, let running jobs finish (up to the worker's
   * `shutdownTimeout`), close the queue, then end the process by the same signal (unless the
   * app listens to it too). A second signal aborts running jobs; they run again later.
   * Default true. Goes through @queue/core's `onShutdownSignal`.
   */
  handleSignals?: boolean;
}

/**
 * A Queue is invariant in its task map, so an app that declared none (M is the wide
 * TaskMap) may pass a Queue typed by any map.
 */
export type QueueFor<M extends TaskMap> = TaskMap extends M ? Queue<any> : Queue<M>;

/** Either your own Queue (it stays yours to close), or the options to create one. */
export type QueueSource<M extends TaskMap = TaskMap> =
  | ({ queue?: undefined } & QueueOptions<M>)
  | ({ queue: QueueFor<M> } & { [K in keyof QueueOptions]?: never });

export type AdapterOptions<M extends TaskMap = TaskMap> = AdapterBehaviour & QueueSource<M>;

// Typed as a record of every key, so a new core option fails the typecheck here until listed.
const queueOptionKeys: Record<keyof QueueOptions, true> = {
  connectionString: true,
  connection: true,
  pool: true,
  schema: true,
  lockNamespace: true,
  tasks: true,
  maxPayloadBytes: true,
  schedules: true,
  limits: true,
  logger: true,
  startupTimeout: true,
  instrumentation: true,
};

export interface ResolvedAdapterOptions {
  /** The Queue the app passed, or undefined when the adapter creates (and closes) one. */
  queue: Queue<any> | undefined;
  /** The options to create the queue with, when none was passed. */
  queueOptions: QueueOptions;
  worker: AdapterWorkerOptions | false;
  migrate: boolean;
  handleSignals: boolean;
}

/**
 * Checks and splits the options every adapter takes. `where` starts each error message
 * ('createQueue(app, options)', '@queue/fastify', 'QueueModule'); `tasksFrom` says where a
 * worker's tasks come from, when not from the options (Nest finds them on processors).
 */
export function resolveAdapterOptions(
  options: unknown,
  where: string,
  tasksFrom?: string,
): ResolvedAdapterOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`${where}: options must be an object, got ${show(options)}`);
  }
  const {
    queue,
    worker = true,
    migrate = true,
    handleSignals = true,
    ...queueOptions
  } = options as AdapterOptions<any>;
  if (queue !== undefined) {
    if (!(queue instanceof Queue)) {
      throw new ConfigError(`${where}: \`queue\` must be a Queue from @queue/core (is it installed twice?)`);
    }
    const clash = Object.keys(queueOptions).filter((k) => k in queueOptionKeys);
    if (clash.length > 0) {
      throw new ConfigError(
        `${where}: give either \`queue\` or the options to create one, not both (got queue and ${clash.join(', ')})`,
      );
    }
  }
  if (typeof worker !== 'boolean' && (worker === null || typeof worker !== 'object')) {
    throw new ConfigError(`${where}: \`worker\` must be true, false or worker options, got ${show(worker)}`);
  }
  if (typeof worker === 'object' && 'handleSignals' in worker) {
    throw new ConfigError(
      `${where}: \`worker.handleSignals\` is not an option here: signals are the adapter's \`handleSignals\``,
    );
  }
  for (const [name, value] of [
    ['migrate', migrate],
    ['handleSignals', handleSignals],
  ] as const) {
    if (typeof value !== 'boolean') {
      throw new ConfigError(`${where}: \`${name}\` must be true or false, got ${show(value)}`);
    }
  }
  if (worker !== false && queue === undefined && queueOptions.tasks === undefined && !tasksFrom) {
    throw new ConfigError(
      `${where}: a worker needs \`tasks\`: pass them, or \`worker: false\` for an app that only enqueues`,
    );
  }
  return {
    queue,
    queueOptions,
    worker: worker === true ? {} : worker,
    migrate,
    handleSignals,
  };
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}
