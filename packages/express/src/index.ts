import type { Queue, TaskMap } from '@queue/core';
import type { PoolClient } from 'pg';

export { withTransaction } from './checkout.js';
export type { ExpressQueueOptions } from './create-queue.js';
export { createQueue, ExpressQueue } from './create-queue.js';
export { AlreadyAttachedError, MissingPoolError, QueueClosedError } from './errors.js';
export { transaction } from './transaction.js';

/**
 * Declaration-merging hook that types `req.queue` with your tasks, once for the whole app:
 *
 *   declare module '@queue/express' {
 *     interface Register { tasks: typeof tasks }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, apps merge their tasks into it
export interface Register {}

/** The task map apps registered through `Register`, or any task when they did not. */
export type RegisteredTasks = Register extends { tasks: infer M extends TaskMap } ? M : TaskMap;

declare global {
  namespace Express {
    interface Request {
      /** The app's queue, set by the middleware `createQueue(app, …)` adds. Typed through `Register`. */
      queue: Queue<RegisteredTasks>;
      /**
       * The request's transaction, on routes behind `transaction()`: committed or rolled back
       * with the response. Pass it as `enqueue(…, { client: req.tx })`.
       */
      tx: PoolClient;
    }
  }
}
