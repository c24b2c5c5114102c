import {
  type AdapterOptions,
  ConfigError,
  DEFAULT_STARTUP_TIMEOUT,
  type MetricsMount,
  type Queue,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
  type TaskMap,
} from '@queue/core';

/**
 * The options every adapter takes: `worker`, `migrate`, `handleSignals`, and either your own
 * `queue` (you close it) or core's `QueueOptions` to create one (the plugin closes it).
 */
export type FastifyQueueOptions<M extends TaskMap = TaskMap> = AdapterOptions<M> & {
  /**
   * A Prometheus scrape of this queue and worker, served at its path (GET /metrics) behind its
   * own `auth`/`basicAuth`/`unsafeNoAuth`: `metrics: metricsEndpoint({ basicAuth })` from
   * @queue/metrics.
   */
  metrics?: MetricsMount;
};

/** Checks what only the plugin knows about; the queue and worker options are core's to check. */
export function resolveOptions(options: FastifyQueueOptions<any>): ResolvedAdapterOptions {
  return resolveAdapterOptions(options, '@queue/fastify');
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
  setup: ResolvedAdapterOptions,
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
    throw new ConfigError(
      `@queue/fastify: ${name} is ${value} ms, but Fastify's pluginTimeout (${pluginTimeout} ms) would end the boot ` +
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
