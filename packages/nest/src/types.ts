import type { Queue, TaskMap } from '@queue/core';
import type { NamedQueue } from './named-queue.js';

/**
 * Merge your task map in here and type the queue you inject with `RegisteredQueue`:
 *
 *   declare module '@queue/nest' {
 *     interface Register { tasks: Tasks<{ sendWelcomeEmail: { userId: string } }> }
 *   }
 *   constructor(@InjectQueue() private readonly queue: RegisteredQueue) {}
 *
 * A decorator cannot type the parameter it decorates, so the type comes from this interface,
 * under the same name as in @queue/express (`req.queue`) and @queue/fastify (`fastify.queue`).
 */
// biome-ignore lint/suspicious/noEmptyInterface: empty on purpose, apps merge their task map into it.
export interface Register {}

/** The task map apps declared through `Register`, or any task when they did not. */
export type RegisteredTasks = Register extends { tasks: infer M extends TaskMap } ? M : TaskMap;

/** The queue typed by the registered tasks: the type to give what `@InjectQueue()` injects. */
export type RegisteredQueue = Queue<RegisteredTasks>;

/** What `@InjectQueue('audio')` injects, typed by the registered tasks. */
export type RegisteredNamedQueue = NamedQueue<RegisteredTasks>;
