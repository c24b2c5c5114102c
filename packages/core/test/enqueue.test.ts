import { nextEvent, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTasks, type Job, PayloadValidationError, task } from '../src/index.js';
import { queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const noop = async () => {};

describe('enqueue', () => {
  it('stores a job with its options and returns it with a string id', async () => {
    const queue = makeQueue({ tasks: { send: noop } });
    const runAt = new Date(Date.now() + 3_600_000);
    const job = await queue.enqueue(
      'send',
      { to: 'a@b.c' },
      { queue: 'mail', priority: -3, maxAttempts: 4, runAt },
    );
    expect(job).toMatchObject({ task: 'send', queue: 'mail', priority: -3, maxAttempts: 4, attempts: 0 });
    expect(job.id).toMatch(/^\d+$/);
    expect(job.runAt.getTime()).toBe(runAt.getTime());
    expect(job.payload).toEqual({ to: 'a@b.c' });
    expect(await queue.getJob(job.id)).toMatchObject({ id: job.id, state: 'scheduled' });
  });

  it('computes delay on the database clock', async () => {
    const queue = makeQueue({ tasks: { send: noop } });
    const job = await queue.enqueue('send', null, { delay: 60_000 });
    const [{ ms }] = await db.query(
      `SELECT extract(epoch FROM run_at - created_at) * 1000 AS ms FROM queue.jobs WHERE id = $1`,
      [job.id],
    );
    expect(Number(ms)).toBeCloseTo(60_000, -1);
  });

  it('takes queue, priority and maxAttempts defaults from the task definition', async () => {
    const queue = makeQueue({
      tasks: { sync: { queue: 'crm', priority: 5, maxAttempts: 3, handler: noop } },
    });
    expect(await queue.enqueue('sync', {})).toMatchObject({ queue: 'crm', priority: 5, maxAttempts: 3 });
  });

  it('enqueueMany writes a batch in order, in one statement', async () => {
    const queue = makeQueue({ tasks: { a: noop, b: noop } });
    const jobs = await queue.enqueueMany([
      { task: 'a', payload: 1 },
      { task: 'b', payload: 2, options: { queue: 'other', delay: 1000 } },
      { task: 'a', payload: 3 },
    ]);
    expect(jobs.map((j) => j.payload)).toEqual([1, 2, 3]);
    expect(jobs[1]).toMatchObject({ task: 'b', queue: 'other' });
    expect(BigInt(jobs[0]!.id) < BigInt(jobs[2]!.id)).toBe(true);
  });

  it('inside the caller transaction: invisible to workers until COMMIT', async () => {
    const queue = makeQueue({ tasks: { tx: noop } });
    const worker = await startWorker(queue);
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      await client.query('BEGIN');
      const job = await queue.enqueue('tx', { n: 1 }, { client });
      // Not visible outside the transaction, so no worker can have it.
      expect(await queue.getJob(job.id)).toBeNull();
      const completed = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
      await client.query('COMMIT');
      // The NOTIFY queued in the transaction is delivered at commit and wakes the worker.
      await completed;
      expect((await queue.getJob(job.id))?.state).toBe('completed');
    } finally {
      await client.end();
      await worker.stop();
    }
  });

  it('inside the caller transaction: gone after ROLLBACK, and nothing runs', async () => {
    const queue = makeQueue({ tasks: { tx: noop } });
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      await client.query('BEGIN');
      const [a, b] = await queue.enqueueMany(
        [
          { task: 'tx', payload: 1 },
          { task: 'tx', payload: 2 },
        ],
        { client },
      );
      await queue.enqueue('tx', 3, { client });
      await client.query('ROLLBACK');
      expect(await queue.getJob(a!.id)).toBeNull();
      expect(await queue.getJob(b!.id)).toBeNull();
      const rows = await db.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE task = 'tx'`);
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('the SQL function enqueues from a trigger and wakes a worker', async () => {
    await db.query(`CREATE TABLE signups (id serial PRIMARY KEY, email text NOT NULL)`);
    await db.query(`CREATE FUNCTION on_signup() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM queue.enqueue('welcome', jsonb_build_object('email', NEW.email), queue => 'mail');
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER signup_welcome AFTER INSERT ON signups FOR EACH ROW EXECUTE FUNCTION on_signup()`,
    );
    const seen: unknown[] = [];
    const queue = makeQueue({
      tasks: { welcome: { queue: 'mail', handler: async (p: { email: string }) => void seen.push(p) } },
    });
    const worker = await startWorker(queue, { pollInterval: 60_000 });
    const completed = nextEvent(worker, 'completed');
    await db.query(`INSERT INTO signups (email) VALUES ('ada@example.com')`);
    await completed;
    expect(seen).toEqual([{ email: 'ada@example.com' }]);
    await worker.stop();
  });

  it('validates payloads with a Standard Schema before writing, and hands the handler its output', async () => {
    const received: unknown[] = [];
    const tasks = defineTasks({
      resize: task({
        schema: z.object({ url: z.string().url(), width: z.coerce.number().int().positive() }),
        handler: async (p) => {
          // p is the schema's output type: width is a number.
          received.push(p.width + 1);
        },
      }),
    });
    const queue = makeQueue({ tasks });
    await expect(queue.enqueue('resize', { url: 'not a url', width: 3 })).rejects.toThrow(
      PayloadValidationError,
    );
    await expect(queue.enqueue('resize', { url: 'not a url', width: 3 })).rejects.toThrow(/url/);
    const rows = await db.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE task = 'resize'`);
    expect(rows[0].n).toBe(0);
    const worker = await startWorker(queue);
    const completed = nextEvent(worker, 'completed');
    await queue.enqueue('resize', { url: 'https://x.test/a.png', width: '41' as unknown as number });
    await completed;
    expect(received).toEqual([42]);
    await worker.stop();
  });
});
