// Type tests: vitest's typecheck compiles them (never runs them), and a type error inside an
// `it` fails that test; so does each @ts-expect-error line that meets no error. This program
// declares no task map (FastifyQueueTypes stays empty).
import { defineTasks, Queue, type TaskMap } from '@queue/core';
import Fastify from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import { fastifyQueue } from '../../../src/index.js';

const tasks = defineTasks({ sendEmail: async (payload: { to: string }) => payload.to });

describe('without a declared map, the queue takes any task and the plugin any Queue', () => {
  it('register takes a Queue typed by its own tasks, or options with tasks', async () => {
    const app = Fastify();
    await app.register(fastifyQueue, {
      queue: new Queue({ connectionString: 'postgres://localhost/app', tasks }),
    });
    await app.register(fastifyQueue, { connectionString: 'postgres://localhost/app', tasks, worker: false });
    // @ts-expect-error: a queue and the options to create one
    await app.register(fastifyQueue, { queue: new Queue({ tasks }), pool: undefined, schema: 'jobs' });
  });

  it('app.queue is a Queue over any task map', async () => {
    const app = Fastify();
    expectTypeOf(app.queue).toEqualTypeOf<Queue<TaskMap>>();
    await app.queue.enqueue('anything', { at: 'all' });
  });
});
