import { checkMetricsMount, type Logger, type MetricsHandler, Queue, type Worker } from '@queue/core';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AlreadyAttachedError } from './errors.js';
import { type FastifyQueueOptions, resolveOptions, startupTimeouts } from './options.js';
import { joinShutdown } from './signals.js';
import type { RegisteredTasks } from './types.js';

const queuePlugin: FastifyPluginAsync<FastifyQueueOptions<RegisteredTasks>> = async (fastify, options) => {
  const { metrics, ...rest } = (options ?? {}) as FastifyQueueOptions<RegisteredTasks>;
  const setup = resolveOptions(options === null || typeof options !== 'object' ? options : rest);
  const metricsMount = checkMetricsMount(metrics, '@queue/fastify');
  if (fastify.hasDecorator('queue')) {
    throw new AlreadyAttachedError('fastify.queue exists already: register the plugin once per instance');
  }
  const owned = setup.queue === undefined;
  const queue: Queue<any> =
    setup.queue ??
    new Queue({ ...setup.queueOptions, logger: setup.queueOptions.logger ?? fastifyLogger(fastify) });

  let worker: Worker | null = null;
  let scrape: MetricsHandler | undefined;
  try {
    const wait = startupTimeouts(fastify.initialConfig.pluginTimeout, queue, setup);
    if (setup.migrate) await queue.migrate({ startupTimeout: wait.migrate });
    // Created now, started on onReady: bad worker options fail the boot, not the first job.
    // With handleSignals it joins core's shutdown, where a second signal aborts its jobs.
    if (setup.worker) {
      worker = queue.worker({
        ...setup.worker,
        startupTimeout: wait.worker,
        handleSignals: setup.handleSignals,
      });
    }
    scrape = metricsMount?.attach(queue, worker);
  } catch (error) {
    if (owned) await queue.close();
    throw error;
  }

  fastify.decorate('queue', queue);
  fastify.decorate('queueWorker', worker);
  if (scrape && metricsMount) {
    const handler = scrape;
    // GET (and the HEAD Fastify adds), outside any prefix: the plugin is not encapsulated.
    fastify.get(metricsMount.path, async (request, reply) => {
      const r = await handler.handle({ headers: request.headers, raw: request });
      return reply.code(r.status).headers(r.headers).send(r.body);
    });
  }
  if (worker) {
    const started = worker;
    // onReady, not onListen: `inject()` tests and workers-only processes never listen.
    fastify.addHook('onReady', async () => {
      // Refuses a schema nobody migrated (SchemaNotMigratedError), naming what to run.
      await started.start();
    });
  }
  // Fastify runs onClose hooks after in-flight requests finish and in reverse order of
  // registration, so plugins registered before this one (@fastify/postgres, whose pool the
  // handlers may use) are still open while the worker drains.
  fastify.addHook('onClose', async () => {
    await worker?.stop();
    // close() also ends the pool when the queue created it; a pool you passed stays yours.
    if (owned) await queue.close();
    scrape?.close();
  });
  if (setup.handleSignals) joinShutdown(fastify);
};

/**
 * Fastify's logger is pino when logging is on. When it is off (Fastify's default) it is a
 * no-op, and the queue's warnings (a lost connection, a failed claim) would vanish; then
 * core's console default stays.
 */
function fastifyLogger(fastify: FastifyInstance): Logger | undefined {
  return typeof fastify.log.level === 'string' ? fastify.log.child({ plugin: '@queue/fastify' }) : undefined;
}

/** `fastify.register(fastifyQueue, { connectionString, tasks })` decorates `fastify.queue`. */
export const fastifyQueue: FastifyPluginAsync<FastifyQueueOptions<RegisteredTasks>> = fp(queuePlugin, {
  name: '@queue/fastify',
  fastify: '5.x',
});
