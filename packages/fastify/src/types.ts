import type { Queue, TaskMap, Worker } from '@queue/core';

/**
 * Merge your task map in here and `fastify.queue` is typed by it (task names and payloads):
 *
 *   declare module '@queue/fastify' {
 *     interface FastifyQueueTypes { tasks: typeof tasks }
 *   }
 *
 * A decorator's type cannot follow the options of one `register` call, so a
 * declaration-merging interface is how Fastify plugins type what they decorate.
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, apps merge their task map into it.
export interface FastifyQueueTypes {}

/** The task map apps declared through `FastifyQueueTypes`, or any task when they did not. */
export type RegisteredTasks = FastifyQueueTypes extends { tasks: infer M extends TaskMap } ? M : TaskMap;

declare module 'fastify' {
  interface FastifyInstance {
    /** The queue: `enqueue(task, payload, { client })` inside your transaction, admin calls. */
    queue: Queue<RegisteredTasks>;
    /** The worker this instance runs, for its events and `activeCount`; null with `worker: false`. */
    queueWorker: Worker | null;
  }
}
