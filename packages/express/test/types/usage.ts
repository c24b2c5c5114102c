// Compiled by test/types.test.ts with its own tsconfig, because the Register augmentation
// below applies to the whole program it is part of.
import { task } from '@queue/core';
import express from 'express';
import type { PoolClient } from 'pg';
import { createQueue, transaction } from '../../src/index.js';

const tasks = {
  sendEmail: async (_payload: { to: string }) => {},
  resize: task<{ width: number }>({ queue: 'images', handler: async () => {} }),
};

declare module '../../src/index.js' {
  interface Register {
    tasks: typeof tasks;
  }
}

const app = express();
const jobs = createQueue(app, { connectionString: 'postgres://localhost/app', tasks });

app.post('/typed', transaction(), async (req, res) => {
  const client: PoolClient = req.tx;
  await req.queue.enqueue('sendEmail', { to: 'ada@example.com' }, { client });
  await req.queue.enqueue('resize', { width: 200 });
  // @ts-expect-error: not a registered task
  await req.queue.enqueue('sendSms', { to: '+1' });
  // @ts-expect-error: wrong payload for the task
  await req.queue.enqueue('sendEmail', { to: 42 });
  // @ts-expect-error: the payload is required
  await req.queue.enqueue('resize');
  res.status(201).end();
});

// The handle is typed by the tasks it was given, with or without Register.
void jobs.queue.enqueue('resize', { width: 1 });
// @ts-expect-error: wrong payload through the handle too
void jobs.queue.enqueue('resize', { width: '1' });
// @ts-expect-error: worker signal handling is the adapter's option, not the worker's
createQueue(express(), { connectionString: '', worker: { handleSignals: true } });
