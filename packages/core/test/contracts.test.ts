import { useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  defineTask,
  InvalidOptionError,
  type Job,
  PayloadValidationError,
  Queue,
  silentLogger,
  type Tasks,
  type Worker,
} from '../src/index.js';
import { queueFactory, startWorker } from './helpers.js';

// A job is the same wherever it is enqueued: a task declared with queue 'crm', priority 3
// and maxAttempts 5 gets those from every kind of producer, and a worker that serves only
// 'crm' runs it.

const db = useTestDatabase();
const makeQueue = queueFactory(db);
afterEach(() => db.query('TRUNCATE queue.tasks'));

type SyncCrm = { from: string };
const syncCrm = defineTask<SyncCrm>({ queue: 'crm', maxAttempts: 5, priority: 3 });
const CRM = { queue: 'crm', priority: 3, max_attempts: 5 };
const CRM_JOB = { queue: 'crm', priority: 3, maxAttempts: 5 };

const jobRows = (ids: string[]) =>
  db.query<{ id: string; queue: string; priority: number; max_attempts: number }>(
    'SELECT id::text, queue, priority, max_attempts FROM queue.jobs WHERE id = ANY($1::bigint[]) ORDER BY jobs.id',
    [ids],
  );

function completions(worker: Worker, n: number): Promise<Job[]> {
  const done: Job[] = [];
  return new Promise((resolve) => {
    worker.on('completed', ({ job }) => {
      done.push(job);
      if (done.length === n) resolve(done);
    });
  });
}

describe('task contracts and the tasks table', () => {
  it('gives one task the same queue, priority and attempts from every producer; a crm-only worker runs them all', async () => {
    const ran: { from: string; job: Job }[] = [];
    const workerQueue = makeQueue({
      tasks: {
        syncCrm: syncCrm.handle(async (payload, { job }) => void ran.push({ from: payload.from, job })),
      },
    });
    // Paused, so the jobs stay in the table to be compared before the worker runs them.
    await workerQueue.pauseQueue('crm');
    const worker = await startWorker(workerQueue, { queues: ['crm'] });
    const done = completions(worker, 4);

    // (a) a producer-only queue with the contract
    const withContract = makeQueue({ tasks: { syncCrm } });
    const a = await withContract.enqueue('syncCrm', { from: 'contract' });
    // (b) a producer that has only the payload types; the worker registered the task at start()
    const typesOnly = makeQueue<Tasks<{ syncCrm: SyncCrm }>>();
    const b = await typesOnly.enqueue('syncCrm', { from: 'types' });
    // (c) SQL, with the options left out
    const [c] = await db.query<{ id: string }>(
      `SELECT queue.enqueue('syncCrm', '{"from": "sql"}')::text AS id`,
    );
    // (d) the worker process's own queue
    const d = await workerQueue.enqueue('syncCrm', { from: 'worker' });

    const rows = await jobRows([a.id, b.id, c!.id, d.id]);
    expect(rows.map(({ id, ...options }) => options)).toEqual([CRM, CRM, CRM, CRM]);
    // The Job each enqueue returns says what the row says, including (b)'s, which the database resolved.
    for (const job of [a, b, d]) expect(job).toMatchObject(CRM_JOB);

    await workerQueue.resumeQueue('crm');
    const completed = await done;
    expect(ran.map((r) => r.from).sort()).toEqual(['contract', 'sql', 'types', 'worker']);
    expect(completed.map((j) => j.id).sort()).toEqual([a.id, b.id, c!.id, d.id].sort());
    for (const { job } of ran) expect(job).toMatchObject(CRM_JOB);
  });

  it('wakes the resolved queue: every enqueue path notifies "crm", not "default"', async () => {
    await makeQueue({ tasks: { syncCrm } }).registerTasks();
    const listener = new pg.Client(db.url);
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(JSON.parse(n.payload ?? '{}').q));
    try {
      await listener.query('LISTEN "queue:jobs"');
      const typesOnly = makeQueue<Tasks<{ syncCrm: SyncCrm }>>();
      await typesOnly.enqueue('syncCrm', { from: 'pool' });
      await typesOnly.enqueueMany([{ task: 'syncCrm', payload: { from: 'many' } }]);
      const client = new pg.Client(db.url);
      await client.connect();
      try {
        await client.query('BEGIN');
        const job = await typesOnly.enqueue('syncCrm', { from: 'tx' }, { client });
        expect(job).toMatchObject(CRM_JOB);
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
      await db.query(`SELECT queue.enqueue('syncCrm', '{}')`);
      // The pool path's NOTIFY is sent after its commit: a round trip on the listener's
      // connection after close() (which flushes it) delivers whatever was sent before.
      await typesOnly.close();
      await listener.query('SELECT 1');
      expect(heard).toEqual(['crm', 'crm', 'crm', 'crm']);
    } finally {
      await listener.end();
    }
  });

  it('gives a task nobody registered the built-in defaults', async () => {
    const typesOnly = makeQueue<Tasks<{ unknownTask: null }>>();
    const one = await typesOnly.enqueue('unknownTask', null);
    const [many] = await typesOnly.enqueueMany([{ task: 'unknownTask', payload: null }]);
    const [sql] = await db.query<{ id: string }>(`SELECT queue.enqueue('unknownTask')::text AS id`);
    const [nulls] = await db.query<{ id: string }>(
      `SELECT queue.enqueue('unknownTask', NULL, NULL, NULL, NULL, NULL)::text AS id`,
    );
    const defaults = { queue: 'default', priority: 0, max_attempts: 25 };
    const rows = await jobRows([one.id, many!.id, sql!.id, nulls!.id]);
    expect(rows.map(({ id, ...o }) => o)).toEqual([defaults, defaults, defaults, defaults]);
    expect(one).toMatchObject({ queue: 'default', priority: 0, maxAttempts: 25 });
  });

  it('lets options given at enqueue win over the tasks table, option by option', async () => {
    await makeQueue({ tasks: { syncCrm } }).registerTasks();
    const typesOnly = makeQueue<Tasks<{ syncCrm: SyncCrm }>>();
    const one = await typesOnly.enqueue('syncCrm', { from: 'x' }, { queue: 'other', priority: 1 });
    const [many] = await typesOnly.enqueueMany([
      { task: 'syncCrm', payload: { from: 'y' }, options: { maxAttempts: 2 } },
    ]);
    const [sql] = await db.query<{ id: string }>(
      `SELECT queue.enqueue('syncCrm', '{}', priority => 9, max_attempts => 7)::text AS id`,
    );
    const rows = await jobRows([one.id, many!.id, sql!.id]);
    expect(rows.map(({ id, ...o }) => o)).toEqual([
      { queue: 'other', priority: 1, max_attempts: 5 },
      { queue: 'crm', priority: 3, max_attempts: 2 },
      { queue: 'crm', priority: 9, max_attempts: 7 },
    ]);
    expect(one).toMatchObject({ queue: 'other', priority: 1, maxAttempts: 5 });
    expect(many).toMatchObject({ queue: 'crm', priority: 3, maxAttempts: 2 });
  });

  it('lets a definition win over the tasks table, its unset options being the built-in defaults', async () => {
    await makeQueue({ tasks: { syncCrm } }).registerTasks();
    const own = makeQueue({ tasks: { syncCrm: { queue: 'fast', handler: async () => {} } } });
    const job = await own.enqueue('syncCrm', {});
    expect((await jobRows([job.id])).map(({ id, ...o }) => o)).toEqual([
      { queue: 'fast', priority: 0, max_attempts: 25 },
    ]);
  });

  it('enqueueMany without definitions resolves each row and keeps the input order', async () => {
    await makeQueue({ tasks: { syncCrm } }).registerTasks();
    const typesOnly = makeQueue<Tasks<{ syncCrm: SyncCrm; other: number }>>();
    const jobs = await typesOnly.enqueueMany([
      { task: 'syncCrm', payload: { from: '0' } },
      { task: 'other', payload: 1 },
      { task: 'syncCrm', payload: { from: '2' }, options: { queue: 'q2' } },
      { task: 'other', payload: 3, options: { priority: -1 } },
    ]);
    const rows = await db.query<{
      id: string;
      task: string;
      payload: unknown;
      queue: string;
      priority: number;
    }>('SELECT id::text, task, payload, queue, priority FROM queue.jobs ORDER BY jobs.id');
    expect(rows.map((r) => [r.task, r.payload, r.queue, r.priority])).toEqual([
      ['syncCrm', { from: '0' }, 'crm', 3],
      ['other', 1, 'default', 0],
      ['syncCrm', { from: '2' }, 'q2', 3],
      ['other', 3, 'default', -1],
    ]);
    expect(jobs.map((j) => [j.id, j.task, j.payload, j.queue, j.priority])).toEqual(
      rows.map((r) => [r.id, r.task, r.payload, r.queue, r.priority]),
    );
  });

  it('keeps input order once the session has cached the insert plan (many batches on one connection)', async () => {
    await makeQueue({ tasks: { syncCrm } }).registerTasks();
    const typesOnly = makeQueue<Tasks<{ syncCrm: SyncCrm; other: number }>>();
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      // PL/pgSQL plans a statement for its parameters five times, then may keep a generic plan.
      for (let batch = 0; batch < 8; batch++) {
        const items = Array.from({ length: 200 }, (_, i) =>
          i % 3 === 0
            ? { task: 'other' as const, payload: batch * 1000 + i }
            : { task: 'syncCrm' as const, payload: { from: `${batch * 1000 + i}` } },
        );
        const jobs = await typesOnly.enqueueMany(items, { client });
        expect(jobs.map((j) => j.payload)).toEqual(items.map((i) => i.payload));
        const rows = await db.query<{ id: string; payload: unknown; queue: string }>(
          'SELECT id::text, payload, queue FROM queue.jobs WHERE id = ANY($1::bigint[]) ORDER BY jobs.id',
          [jobs.map((j) => j.id)],
        );
        expect(rows.map((r) => [r.id, r.payload, r.queue])).toEqual(
          jobs.map((j) => [j.id, j.payload, j.queue]),
        );
        const crm = items.filter((i) => i.task === 'syncCrm').length;
        expect(jobs.filter((j) => j.queue === 'crm').length).toBe(crm);
      }
    } finally {
      await client.end();
    }
  });

  it('checks the payload against a contract schema at the producer', async () => {
    const resize = defineTask({ schema: z.object({ width: z.number() }), queue: 'images' });
    const producer = makeQueue({ tasks: { resize } });
    await expect(producer.enqueue('resize', { width: 'wide' } as never)).rejects.toThrow(
      PayloadValidationError,
    );
    expect(await producer.enqueue('resize', { width: 3 })).toMatchObject({ queue: 'images' });
  });
});

describe('workers and contracts', () => {
  it('refuses to create a worker for a contract without a handler, naming the task', () => {
    const queue = makeQueue({ tasks: { syncCrm, ping: async () => {} } });
    const error = (() => {
      try {
        queue.worker();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/task "syncCrm".*defineTask\(\) has no handler.*handle\(/);
    expect((error as Error).message).not.toContain('"ping"');
  });

  it('registers its task options at start(): last writer wins, an unchanged row is not rewritten', async () => {
    const first = makeQueue({ tasks: { syncCrm: syncCrm.handle(async () => {}) } });
    const w1 = await startWorker(first, { queues: ['crm'] });
    const read = () =>
      db.query<{ queue: string; priority: number; max_attempts: number; version: string; updated_at: Date }>(
        `SELECT queue, priority, max_attempts, xmin::text AS version, updated_at FROM queue.tasks WHERE name = 'syncCrm'`,
      );
    const [one] = await read();
    expect(one).toMatchObject(CRM);
    await w1.stop();

    // The same options again: no new row version.
    const again = await startWorker(makeQueue({ tasks: { syncCrm: syncCrm.handle(async () => {}) } }));
    const [two] = await read();
    expect(two).toEqual(one);
    await again.stop();

    // A deploy with other options for the task: its worker's start() overwrites the row.
    const moved = defineTask<SyncCrm>({ queue: 'crm2' });
    await startWorker(makeQueue({ tasks: { syncCrm: moved.handle(async () => {}) } }));
    const [three] = await read();
    expect(three).toMatchObject({ queue: 'crm2', priority: 0, max_attempts: 25 });
    expect(three!.updated_at.getTime()).toBeGreaterThanOrEqual(one!.updated_at.getTime());
    expect(three!.version).not.toBe(one!.version);
  });

  it('migrate() registers the task options of a producer with contracts', async () => {
    const producer = makeQueue({ tasks: { syncCrm } });
    await producer.migrate();
    expect(await db.query('SELECT name, queue, priority, max_attempts FROM queue.tasks')).toEqual([
      { name: 'syncCrm', ...CRM },
    ]);
  });

  it('names an outdated schema (no tasks table) at start() and at enqueue without definitions', async () => {
    const options = { connectionString: db.url, schema: 'before_tasks', logger: silentLogger };
    const queue = new Queue({ ...options, tasks: { syncCrm: syncCrm.handle(async () => {}) } });
    const typesOnly = new Queue<Tasks<{ syncCrm: SyncCrm }>>(options);
    try {
      await queue.migrate();
      await db.query('DROP TABLE before_tasks.tasks');
      const worker = queue.worker({ startupTimeout: 0 });
      const outdated =
        /relation "(before_tasks\.)?tasks" does not exist: the queue's schema "before_tasks" is missing or older than this version of @queue\/core\. Run queue\.migrate\(\)/;
      const started = await worker.start().catch((e: unknown) => e);
      expect(started).toBeInstanceOf(ConfigError);
      expect((started as Error).message).toMatch(outdated);
      expect(worker.backendPids).toEqual({ claimer: undefined, listener: undefined });
      await expect(typesOnly.enqueue('syncCrm', { from: 'x' })).rejects.toThrow(outdated);
      // A queue with the definition sends its options and never reads the table.
      expect(await queue.enqueue('syncCrm', { from: 'x' })).toMatchObject(CRM_JOB);
    } finally {
      await Promise.all([queue.close(), typesOnly.close()]);
      await db.query('DROP SCHEMA before_tasks CASCADE');
    }
  });
});

describe('defineTask input', () => {
  it('refuses a handler, unknown options and bad values, naming them', () => {
    expect(() => defineTask({ handler: async () => {} } as never)).toThrow(
      /declares a task without its handler: attach one with contract\.handle/,
    );
    expect(() => defineTask({ maxAttemps: 5 } as never)).toThrow(/unknown option "maxAttemps"/);
    expect(() => defineTask({ queue: '' })).toThrow(InvalidOptionError);
    expect(() => defineTask({ queue: '' })).toThrow(/defineTask\(\)\.queue/);
    expect(() => defineTask({ schema: {} as never })).toThrow(
      /defineTask\(\)\.schema must be a Standard Schema/,
    );
    expect(() => syncCrm.handle('nope' as never)).toThrow(/needs a handler function, got "nope"/);
  });

  it('still refuses a plain object without a handler in the task map, pointing at defineTask()', () => {
    expect(() => makeQueue({ tasks: { bad: { queue: 'crm' } as never } })).toThrow(
      /task "bad" needs a handler function.*defineTask\(\)/,
    );
  });

  it('makes an immutable contract whose handle() returns a plain definition', () => {
    expect(Object.isFrozen(syncCrm)).toBe(true);
    expect({ ...syncCrm }).toEqual({ queue: 'crm', maxAttempts: 5, priority: 3 });
    const handler = async () => {};
    expect(syncCrm.handle(handler)).toEqual({ queue: 'crm', maxAttempts: 5, priority: 3, handler });
  });
});
