import {
  DEFAULT_STARTUP_TIMEOUT,
  Queue,
  type QueueOptions,
  type TaskMap,
  type WorkerOptions,
} from '@queue/core';
import { FastifyQueueConfigError } from './errors.js';

interface PluginOptions {
  /**
   * Run a worker in this instance (started on `onReady`, stopped gracefully on `onClose`):
   * `true` (default), worker options, or `false` for a web-only instance that only enqueues.
   */
  worker?: boolean | WorkerOptions;
  /**
   * Create or update the queue's tables while the plugin loads. Default false: production
   * apps often migrate in a deploy step, with rights the web process should not hold.
   */
  migrate?: boolean;
  /**
   * On SIGTERM or SIGINT, `fastify.close()` the whole instance: the server stops taking
   * requests, then the worker finishes its jobs. A second signal aborts running jobs.
   * Default false: many apps already own their signals (close-with-grace and the like).
   */
  closeOnSignals?: boolean;
}

/**
 * A Queue is invariant in its task map, so an app that declared none (M is the wide
 * TaskMap) may pass a Queue typed by any map.
 */
type QueueFor<M extends TaskMap> = TaskMap extends M ? Queue<any> : Queue<M>;

/** Either your own Queue (you close it), or the options to create one (the plugin closes it). */
export type FastifyQueueOptions<M extends TaskMap = TaskMap> = PluginOptions &
  (
    | ({ queue?: undefined } & QueueOptions<M>)
    | ({ queue: QueueFor<M> } & { [K in keyof QueueOptions]?: never })
  );

// Typed as a record of every key, so a new core option fails the typecheck here until listed.
const queueOptionKeys: Record<keyof QueueOptions, true> = {
  connectionString: true,
  connection: true,
  pool: true,
  schema: true,
  lockNamespace: true,
  tasks: true,
  maxPayloadBytes: true,
  logger: true,
  startupTimeout: true,
};

export interface ResolvedOptions {
  queue: Queue<any> | undefined;
  queueOptions: QueueOptions;
  worker: WorkerOptions | false;
  migrate: boolean;
  closeOnSignals: boolean;
}

/** Checks what only the plugin knows about; the queue and worker options are core's to check. */
export function resolveOptions(options: FastifyQueueOptions<any>): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new FastifyQueueConfigError(`options must be an object, got ${typeof options}`);
  }
  const { queue, worker = true, migrate = false, closeOnSignals = false, ...queueOptions } = options;
  if (queue !== undefined) {
    if (!(queue instanceof Queue)) {
      throw new FastifyQueueConfigError(
        '`queue` must be a Queue from @queue/core (is @queue/core installed twice?)',
      );
    }
    const clash = Object.keys(queueOptions).filter((k) => k in queueOptionKeys);
    if (clash.length > 0) {
      throw new FastifyQueueConfigError(
        `give either \`queue\` or the options to create one, not both (got queue and ${clash.join(', ')})`,
      );
    }
  } else if (worker !== false && queueOptions.tasks === undefined) {
    throw new FastifyQueueConfigError(
      'a worker needs `tasks`; pass them, or `worker: false` for an instance that only enqueues',
    );
  }
  if (typeof worker !== 'boolean' && (worker === null || typeof worker !== 'object')) {
    throw new FastifyQueueConfigError('`worker` must be true, false or worker options');
  }
  for (const [name, value] of [
    ['migrate', migrate],
    ['closeOnSignals', closeOnSignals],
  ] as const) {
    if (typeof value !== 'boolean') throw new FastifyQueueConfigError(`\`${name}\` must be a boolean`);
  }
  const workerOptions = worker === true ? {} : worker;
  return {
    queue,
    queueOptions,
    // A signal closes the whole app; the worker's own handler then only serves a second
    // signal, which aborts running jobs instead of waiting for them.
    worker: workerOptions && closeOnSignals ? { handleSignals: true, ...workerOptions } : workerOptions,
    migrate,
    closeOnSignals,
  };
}

/** Room left under Fastify's pluginTimeout for the last connection attempt and the rest of the boot. */
const PLUGIN_TIMEOUT_MARGIN_MS = 1_000;

/**
 * How long migrate (while the plugin loads) and the worker's start (in onReady) may wait for
 * an unreachable Postgres. Fastify ends a plugin or an onReady hook that runs past its
 * `pluginTimeout` (10 s by default) with an error that blames the plugin and leaves the wait
 * running; ours must end first, with its own error naming the database. So a default
 * `startupTimeout` is capped a second below pluginTimeout, and one you set that cannot fit
 * is refused at registration.
 */
export function startupTimeouts(
  pluginTimeout: number | undefined,
  queue: Queue<any>,
  setup: ResolvedOptions,
): { migrate: number; worker: number } {
  const limit =
    pluginTimeout && pluginTimeout > 0
      ? Math.max(0, pluginTimeout - PLUGIN_TIMEOUT_MARGIN_MS)
      : Number.POSITIVE_INFINITY;
  // A queue you passed in carries no trace of its options: a value other than core's default was set.
  const queueExplicit = setup.queue
    ? queue.startupTimeout !== DEFAULT_STARTUP_TIMEOUT
    : setup.queueOptions.startupTimeout !== undefined;
  const fit = (value: number, explicit: boolean, name: string) => {
    if (value <= limit) return value;
    if (!explicit) return limit;
    throw new FastifyQueueConfigError(
      `${name} is ${value} ms, but Fastify's pluginTimeout (${pluginTimeout} ms) would end the boot ` +
        `first: raise it, e.g. Fastify({ pluginTimeout: ${value + PLUGIN_TIMEOUT_MARGIN_MS} }) (0 for none), ` +
        `or lower ${name}`,
    );
  };
  const workerOwn = setup.worker ? setup.worker.startupTimeout : undefined;
  return {
    migrate: fit(queue.startupTimeout, queueExplicit, 'startupTimeout'),
    worker:
      workerOwn === undefined
        ? fit(queue.startupTimeout, queueExplicit, 'startupTimeout')
        : fit(workerOwn, true, 'worker.startupTimeout'),
  };
}
