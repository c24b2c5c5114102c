// Type tests: vitest's typecheck compiles them (never runs them), and a type error inside an
// `it` fails that test; so does each @ts-expect-error line that meets no error.
import { task } from '@queue/core';
import express from 'express';
import type { PoolClient } from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { createQueue, transaction } from '../../src/index.js';

const tasks = {
  sendEmail: async (_payload: { to: string }) => {},
  resize: task<{ width: number }>({ queue: 'images', handler: async () => {} }),
};

// Applies to the whole program: why this directory is compiled apart from the other tests.
declare module '../../src/index.js' {
  interface Register {
    tasks: typeof tasks;
  }
}

describe('Register types req.queue with the app tasks, and req.tx is a pg client', () => {
  it('req.queue takes the registered tasks and their payloads; req.tx is a PoolClient', () => {
    const app = express();
    app.post(
      '/typed',
      transaction(async (req, res) => {
        expectTypeOf(req.tx).toEqualTypeOf<PoolClient>();
        await req.queue.enqueue('sendEmail', { to: 'ada@example.com' }, { client: req.tx });
        await req.queue.enqueue('resize', { width: 200 });
        // @ts-expect-error: not a registered task
        await req.queue.enqueue('sendSms', { to: '+1' });
        // @ts-expect-error: wrong payload for the task
        await req.queue.enqueue('sendEmail', { to: 42 });
        // @ts-expect-error: the payload is required
        await req.queue.enqueue('resize');
        res.status(201).end();
      }),
    );
  });

  it('the handle createQueue returns is typed by the tasks it was given', () => {
    const jobs = createQueue(express(), { connectionString: 'postgres://localhost/app', tasks });
    void jobs.queue.enqueue('resize', { width: 1 });
    // @ts-expect-error: wrong payload through the handle too
    void jobs.queue.enqueue('resize', { width: '1' });
  });

  it('worker signal handling is the adapter option, not the worker option', () => {
    // @ts-expect-error: worker signal handling is the adapter's option, not the worker's
    createQueue(express(), { connectionString: '', worker: { handleSignals: true } });
  });
});
