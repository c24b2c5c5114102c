import { nextEvent, waitFor as until, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCK_NAMESPACE,
  InvalidOptionError,
  type Job,
  JobCancelledError,
  JobFinishedError,
  JobNotFoundError,
  silentLogger,
} from '../src/index.js';
import { Listener } from '../src/listener.js';
import { makeNames } from '../src/sql/names.js';
import { queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
afterEach(async () => {
  await db.query('TRUNCATE queue.job_history');
});

/** A job's advisory-lock key, as the queue computes it (names.lockKey). */
const LOCK_KEY = `$1::bigint # (${DEFAULT_LOCK_NAMESPACE}::bigint << 32)`;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client(db.url);
  await client.connect();
  return client;
}

describe('cancelJob', () => {
  it('removes a queued job and records it cancelled in the history', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', { n: 1 }, { queue: 'q1', delay: 60_000 });
    const result = await queue.cancelJob(job.id);
    expect(result).toMatchObject({ state: 'cancelled', job: { id: job.id, task: 't', queue: 'q1' } });
    expect(await db.query('SELECT id FROM queue.jobs')).toEqual([]);
    const [row] = await db.query(
      `SELECT id::text, queue, task, payload, outcome, result, attempts, worker, finished_at <= now() AS past
       FROM queue.job_history`,
    );
    expect(row).toEqual({
      id: job.id,
      queue: 'q1',
      task: 't',
      payload: { n: 1 },
      outcome: 'cancelled',
      result: null,
      attempts: 0,
      worker: null,
      past: true,
    });
  });

  it("records nothing for a queue that keeps no history (keep '0')", async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    await db.query(`INSERT INTO queue.queues (name, keep) VALUES ('nokeep', '0')`);
    const job = await queue.enqueue('t', null, { queue: 'nokeep' });
    expect((await queue.cancelJob(job.id)).state).toBe('cancelled');
    expect(await db.query('SELECT id FROM queue.jobs UNION ALL SELECT id FROM queue.job_history')).toEqual(
      [],
    );
  });

  it('flags a job whose lock another session holds, and tells the workers on the jobs channel', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const job = await queue.enqueue('t', null);
    // Another session holds the job as a worker would: a session advisory lock on its key.
    const holder = await connect();
    const heard: string[] = [];
    let heardFirst!: (id: string) => void;
    const got = new Promise<string>((resolve) => {
      heardFirst = resolve;
    });
    const listener = new Listener(
      db.url,
      makeNames(),
      {
        onWake: () => {},
        onCancel: (id) => {
          heard.push(id);
          heardFirst(id);
        },
        onListening: () => {},
      },
      silentLogger,
      { heartbeatInterval: 10_000, queryTimeout: 8_000 },
    );
    await listener.start();
    try {
      await holder.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [job.id]);
      // Wait for the listener to be in place: a cancel before it would not be heard.
      await until(
        'the listener',
        async () =>
          (await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'queue-listener'`)).length,
      );
      const result = await queue.cancelJob(job.id);
      expect(result).toMatchObject({ state: 'cancelling', job: { id: job.id } });
      expect(await got).toBe(job.id);
      const [row] = await db.query('SELECT cancel_requested_at IS NOT NULL AS flagged FROM queue.jobs');
      expect(row).toEqual({ flagged: true });
      const running = await queue.runningJobs();
      expect(running.map((r) => [r.id, r.cancelRequestedAt instanceof Date])).toEqual([[job.id, true]]);
      // Again while it still runs: the same answer, the flag kept, the workers told again.
      expect((await queue.cancelJob(job.id)).state).toBe('cancelling');
      await until('a second request', () => heard.length === 2);
    } finally {
      await listener.stop();
      await holder.end();
    }
  });

  it("aborts the running handler's signal with JobCancelledError within a second", async () => {
    let reason: unknown;
    const queue = makeQueue({
      tasks: {
        watch: {
          maxAttempts: 1,
          handler: (_: null, ctx) =>
            new Promise((_resolve, reject) =>
              ctx.signal.addEventListener('abort', () => {
                reason = ctx.signal.reason;
                reject(ctx.signal.reason);
              }),
            ),
        },
      },
    });
    const worker = await startWorker(queue);
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await queue.enqueue('watch', null);
    await started;
    const ended = nextEvent(worker, 'cancelled');
    const t0 = performance.now();
    expect((await queue.cancelJob(job.id)).state).toBe('cancelling');
    await ended;
    const ms = performance.now() - t0;
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(reason).toMatchObject({ code: 'QUEUE_JOB_CANCELLED', jobId: job.id });
    expect(ms).toBeLessThan(1_000);
    await worker.stop();
  });

  it('after its listener reconnects, a worker aborts a running job whose cancel request it missed', async () => {
    let aborted!: (reason: unknown) => void;
    const abortedWith = new Promise<unknown>((r) => {
      aborted = r;
    });
    const queue = makeQueue({
      tasks: {
        watch: {
          maxAttempts: 1,
          handler: (_: null, ctx) =>
            new Promise((_resolve, reject) =>
              ctx.signal.addEventListener('abort', () => {
                aborted(ctx.signal.reason);
                reject(ctx.signal.reason);
              }),
            ),
        },
      },
    });
    const worker = await startWorker(queue);
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await queue.enqueue('watch', null);
    await started;
    // The request as cancelJob() makes it, but its notification lost: the flag alone.
    await db.query('UPDATE queue.jobs SET cancel_requested_at = now() WHERE id = $1', [job.id]);
    await db.query('SELECT pg_terminate_backend($1)', [worker.backendPids.listener]);
    expect(await abortedWith).toBeInstanceOf(JobCancelledError);
    await worker.stop();
  });

  it('refuses an unknown id, a finished job and a failed-for-good one, by name', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    await expect(queue.cancelJob('999999')).rejects.toThrow(JobNotFoundError);
    await expect(queue.cancelJob('x')).rejects.toThrow(InvalidOptionError);
    const job = await queue.enqueue('t', null);
    await queue.cancelJob(job.id);
    const again = await queue.cancelJob(job.id).catch((e) => e);
    expect(again).toBeInstanceOf(JobFinishedError);
    expect(again).toMatchObject({ code: 'QUEUE_JOB_FINISHED', jobId: job.id, outcome: 'cancelled' });
    expect(again.message).toBe(
      `cannot cancel job ${job.id}: it was already cancelled; nothing is left to cancel`,
    );
    await db.query(`UPDATE queue.job_history SET outcome = 'completed'`);
    await expect(queue.cancelJob(job.id)).rejects.toMatchObject({ outcome: 'completed' });
    const failed = await queue.enqueue('t', null);
    await db.query('UPDATE queue.jobs SET failed_at = now() WHERE id = $1', [failed.id]);
    const error = await queue.cancelJob(failed.id).catch((e) => e);
    expect(error).toMatchObject({ name: 'JobFinishedError', outcome: 'failed' });
    expect(error.message).toMatch(
      /failed for good; delete it with deleteJob\(\), or run it again with retryJob\(\)/,
    );
    expect(await db.query('SELECT count(*)::int AS n FROM queue.jobs')).toEqual([{ n: 1 }]);
  });
});

describe('cancelJobs', () => {
  it('cancels the queued jobs of a queue and task, leaving running and failed ones', async () => {
    const queue = makeQueue({ tasks: { a: async () => {}, b: async () => {} } });
    // Over two batches of 1,000, with a held job in the first and a failed one in the second.
    const many = await queue.enqueueMany(
      Array.from({ length: 2_300 }, (_, i) => ({ task: 'a' as const, payload: i, options: { queue: 'q1' } })),
    );
    const other = await queue.enqueueMany([
      { task: 'b', payload: 0, options: { queue: 'q1' } },
      { task: 'a', payload: 0, options: { queue: 'q2' } },
    ]);
    await db.query('UPDATE queue.jobs SET failed_at = now() WHERE id = $1', [many[1_500]!.id]);
    const holder = await connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [many[10]!.id]);
      expect(await queue.cancelJobs({ queue: 'q1', task: 'a' })).toBe(2_298);
    } finally {
      await holder.end();
    }
    const left = await db.query<{ id: string }>('SELECT j.id::text AS id FROM queue.jobs j ORDER BY j.id');
    expect(left.map((r) => r.id)).toEqual([many[10]!.id, many[1_500]!.id, other[0]!.id, other[1]!.id]);
    const [h] = await db.query(`SELECT count(*)::int AS n, min(outcome) AS o FROM queue.job_history`);
    expect(h).toEqual({ n: 2_298, o: 'cancelled' });
    expect(await queue.cancelJobs()).toBe(3);
    await expect(queue.cancelJobs({ queue: '' })).rejects.toThrow(InvalidOptionError);
  });
});
