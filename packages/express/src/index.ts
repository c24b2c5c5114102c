import type { Queue, TaskMap } from '@queue/core';
import type { PoolClient } from 'pg';

export type { AdapterBehaviour, AdapterWorkerOptions } from '@queue/core';
export { NotMigratedError, withTransaction } from '@queue/core';
export type { ExpressQueueOptions } from './create-queue.js';
export { createQueue, ExpressQueue } from './create-queue.js';
export { AlreadyAttachedError, MissingPoolError } from './errors.js';
export { transaction } from './transaction.js';

/**
 * Declaration-merging hook that types `req.queue` with your tasks, once for the whole app.
 * The same interface, under the same name, types `fastify.queue` in @queue/fastify and the
 * queue `@InjectQueue()` gives in @queue/nest:
 *
 *   declare module '@queue/express' {
 *     interface Register { tasks: typeof tasks }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, apps merge their tasks into it
export interface Register {}

/** The task map apps registered through `Register`, or any task when they did not. */
export type RegisteredTasks = Register extends { tasks: infer M extends TaskMap } ? M : TaskMap;

/** The queue typed by the registered tasks: the type of `req.queue`. */
export type RegisteredQueue = Queue<RegisteredTasks>;

declare global {
  namespace Express {
    interface Request {
      /** The app's queue, set by the middleware `createQueue(app, …)` adds. Typed through `Register`. */
      queue: RegisteredQueue;
      /**
       * The request's transaction, on routes behind `transaction()`: committed or rolled back
       * with the response. Pass it as `enqueue(…, { client: req.tx })`.
       */
      tx: PoolClient;
    }
  }
}
