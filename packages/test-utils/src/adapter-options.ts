import type { Queue, WorkerOptions } from '../../core/src/index.js';

/**
 * The options @queue/express, @queue/fastify and @queue/nest all take, spelled out once, with
 * the type each must have. adapter-options.test-d.ts checks `ExpressQueueOptions`,
 * `FastifyQueueOptions` and `QueueModuleOptions` against it, so an adapter that renames or
 * retypes one fails the typecheck. Their defaults are the same too (one shared
 * resolveAdapterOptions, copied into each adapter and kept identical by a test):
 * worker true, migrate true, handleSignals true.
 */
export interface CommonAdapterOptions {
  /** true (a worker with core's defaults), worker options, or false (enqueue only). */
  worker?: boolean | Omit<WorkerOptions, 'handleSignals'>;
  /** Create or update the queue's tables when the app starts. */
  migrate?: boolean;
  /** Bring your own Queue, instead of the options to create one. */
  queue?: Queue<any>;
  /** Stop taking requests, finish running jobs and close on SIGTERM/SIGINT. */
  handleSignals?: boolean;
  /** How long the boot waits for an unreachable Postgres (core's option). */
  startupTimeout?: number;
}
