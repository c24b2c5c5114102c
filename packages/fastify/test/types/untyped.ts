// Compiled by types.test.ts: an app that declares no task map gets an untyped queue,
// and may still hand the plugin a Queue typed by its own tasks.
import { defineTasks, Queue, type TaskMap } from '@queue/core';
import Fastify from 'fastify';
import { fastifyQueue } from '../../src/index.js';

const tasks = defineTasks({ sendEmail: async (payload: { to: string }) => payload.to });

export async function build() {
  const app = Fastify();
  await app.register(fastifyQueue, {
    queue: new Queue({ connectionString: 'postgres://localhost/app', tasks }),
  });
  await app.register(fastifyQueue, { connectionString: 'postgres://localhost/app', tasks, worker: false });
  const queue: Queue<TaskMap> = app.queue;
  await queue.enqueue('anything', { at: 'all' });
  // @ts-expect-error: a queue and the options to create one
  await app.register(fastifyQueue, { queue: new Queue({ tasks }), pool: undefined, schema: 'jobs' });
  return app;
}
