// Type tests: vitest's typecheck compiles them (never runs them), and a type error inside an
// `it` fails that test; so does each @ts-expect-error line that meets no error.
import fastifyPostgres from '@fastify/postgres';
import { defineTasks, Queue, task, type Worker } from '@queue/core';
import Fastify from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import { fastifyQueue } from '../../../src/index.js';

const tasks = defineTasks({
  sendEmail: async (payload: { to: string }) => payload.to,
  resize: task<{ width: number }>({ queue: 'images', handler: async () => {} }),
});

// Applies to the whole program: why this directory is compiled alone.
declare module '../../../src/index.js' {
  interface Register {
    tasks: typeof tasks;
  }
}

describe('fastify.queue and the options follow the task map an app declares', () => {
  it('register takes options, an options factory or a queue, typed by the declared map', async () => {
    const app = Fastify();
    await app.register(fastifyPostgres, { connectionString: 'postgres://localhost/app' });
    await app.register(fastifyQueue, {
      connectionString: 'postgres://localhost/app',
      tasks,
      worker: { concurrency: 4 },
    });
    await app.register(fastifyQueue, (parent) => ({
      pool: parent.pg.pool,
      tasks,
      migrate: true,
      handleSignals: true,
    }));
    await app.register(fastifyQueue, {
      queue: new Queue({ connectionString: 'postgres://localhost/app', tasks }),
    });
    const url = 'postgres://localhost/app';
    // @ts-expect-error: signals are the plugin's handleSignals, not the worker's
    await app.register(fastifyQueue, { connectionString: url, tasks, worker: { handleSignals: true } });
    // @ts-expect-error: a queue and the options to create one
    await app.register(fastifyQueue, { queue: new Queue({ tasks }), connectionString: url });
    // @ts-expect-error: tasks must be the declared map
    await app.register(fastifyQueue, { connectionString: url, tasks: { other: () => {} } });
  });

  it('app.queue enqueues the declared tasks with their payloads, in a transaction', () => {
    const app = Fastify();
    app.post('/signup', async () => {
      return app.pg.transact(async (client) => {
        const job = await app.queue.enqueue('sendEmail', { to: 'ada@example.com' }, { client });
        expectTypeOf(job.task).toEqualTypeOf<'sendEmail'>();
        expectTypeOf(job.payload.to).toEqualTypeOf<string>();
        await app.queue.enqueue('resize', { width: 100 }, { client, delay: 1000 });
        await app.queue.enqueueMany([{ task: 'resize', payload: { width: 1 } }], { client });
        // @ts-expect-error: not a task of the map
        await app.queue.enqueue('sendSms', { to: 'x' });
        // @ts-expect-error: the payload of another task
        await app.queue.enqueue('sendEmail', { width: 100 });
        return job.id;
      });
    });
  });

  it('app.queueWorker is the worker, or null with worker: false', () => {
    const app = Fastify();
    expectTypeOf(app.queueWorker).toEqualTypeOf<Worker | null>();
    app.queueWorker?.on('failed', ({ job, error }) =>
      app.log.error({ jobId: job.id, err: error }, 'job failed'),
    );
  });
});
