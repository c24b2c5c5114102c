import type { Queue, TaskMap, Worker } from '@queue/core';

/**
 * Merge your task map in here and `fastify.queue` is typed by it (task names and payloads):
 *
 *   declare module '@queue/fastify' {
 *     interface Register { tasks: typeof tasks }
 *   }
 *
 * A decorator's type cannot follow the options of one `register` call, so a
 * declaration-merging interface is how Fastify plugins type what they decorate. The same
 * interface, under the same name, types `req.queue` in @queue/express and the queue
 * `@InjectQueue()` gives in @queue/nest.
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, apps merge their task map into it.
export interface Register {}

/** The task map apps declared through `Register`, or any task when they did not. */
export type RegisteredTasks = Register extends { tasks: infer M extends TaskMap } ? M : TaskMap;

/** The queue typed by the registered tasks: the type of `fastify.queue`. */
export type RegisteredQueue = Queue<RegisteredTasks>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The queue: `enqueue(task, payload, { client })` inside your transaction, admin calls. */
    queue: RegisteredQueue;
    /** The worker this instance runs, for its events and `activeCount`; null with `worker: false`. */
    queueWorker: Worker | null;
  }
}
