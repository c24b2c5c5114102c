import type { Queue, TaskMap } from '@queue/core';

export type { AdapterBehaviour, AdapterWorkerOptions } from '@queue/core';
export { SchemaNotMigratedError, withTransaction } from '@queue/core';
export type { ExpressQueueOptions } from './create-queue.js';
export { createQueue, ExpressQueue } from './create-queue.js';
export {
  AlreadyAttachedError,
  MissingPoolError,
  NoTransactionError,
  QueueAfterRoutesError,
} from './errors.js';
export type { TxHandler, TxRequest } from './transaction.js';
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
      // No `tx` here: only the handler `transaction(handler)` runs has it (`TxRequest`). On any
      // other route of the app, reading req.tx throws NoTransactionError at run time.
    }
  }
}
