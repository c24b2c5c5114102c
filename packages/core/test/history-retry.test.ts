import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, type Job, JobNotFoundError } from '../src/index.js';
import { queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

/** Runs `n` jobs of `task` to completion on a worker, then stops it. */
async function complete(queue: any, n: number, options: Record<string, unknown> = {}): Promise<Job[]> {
  const worker = await startWorker(queue);
  let left = n;
  const all = new Promise<void>((resolve) =>
    worker.on('completed', () => {
      if (--left === 0) resolve();
    }),
  );
  const jobs: Job[] = [];
  for (let i = 0; i < n; i++) jobs.push(await queue.enqueue('echo', { i }, options));
  await all;
  await worker.stop();
  return jobs;
}

describe('retry and delete from history', () => {
  it('retryJob puts a completed job back under its own id; it runs again with a greater fencing token', async () => {
    const tokens: string[] = [];
    const queue = makeQueue({
      tasks: {
        echo: async (p: { i: number }, ctx) => {
          tokens.push(ctx.fencingToken);
          return p;
        },
      },
    });
    const [job] = await complete(queue, 1);
    const back = await queue.retryJob(job!.id);
    expect(back).toMatchObject({ id: job!.id, task: 'echo', attempts: 0, payload: { i: 0 } });
    const [history] = await db.query('SELECT count(*)::int AS n FROM queue.job_history');
    expect(history.n).toBe(0);
    const worker = await startWorker(queue);
    const done = await nextEvent<{ job: Job; result: unknown }>(worker, 'completed');
    await worker.stop();
    expect(done.job.id).toBe(job!.id);
    expect(done.result).toEqual({ i: 0 });
    expect(tokens).toHaveLength(2);
    expect(tokens[1]! > tokens[0]!).toBe(true);
  });

  it('deleteJob removes a history row; an unknown id is JobNotFoundError', async () => {
    const queue = makeQueue({ tasks: { echo: async () => 1 } });
    const [job] = await complete(queue, 1);
    expect((await queue.deleteJob(job!.id)).id).toBe(job!.id);
    await expect(queue.deleteJob(job!.id)).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(queue.retryJob(job!.id)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('retryJobs and deleteJobs act on a filtered set: by state, queue, task, tag and ids', async () => {
    const queue = makeQueue({
      tasks: {
        echo: async () => 1,
        broken: {
          maxAttempts: 1,
          handler: async () => {
            throw new Error('no');
          },
        },
      },
    });
    const done = await complete(queue, 4);
    // Two failed jobs, one tagged.
    const worker = await startWorker(queue);
    let failed = 0;
    const bothFailed = new Promise<void>((resolve) =>
      worker.on('failed', () => {
        if (++failed === 2) resolve();
      }),
    );
    await queue.enqueue('broken', null);
    await db.query(
      `INSERT INTO queue.jobs (task, payload, tags, max_attempts) VALUES ('broken', 'null', '{vip}', 1)`,
    );
    await bothFailed;
    await worker.stop();
    expect(await queue.retryJobs({ state: 'failed', tag: 'vip' })).toBe(1);
    expect(await queue.deleteJobs({ state: 'failed' })).toBe(0 + 1);
    expect(await queue.retryJobs({ state: 'completed', ids: [done[0]!.id, done[1]!.id] })).toBe(2);
    expect(await queue.deleteJobs({ state: 'completed', task: 'echo' })).toBe(2);
    const [left] = await db.query(
      `SELECT (SELECT count(*) FROM queue.jobs)::int AS live, (SELECT count(*) FROM queue.job_history)::int AS history`,
    );
    // Live: the two retried completed jobs and the retried tagged failure; history: none.
    expect(left).toEqual({ live: 3, history: 0 });
  });

  it('reaches each id of a selection once, though a job can move to the history between its two steps', async () => {
    const queue = makeQueue({ tasks: { echo: async () => 1 } });
    const failed = await queue.enqueue('echo', null, { maxAttempts: 1 });
    await db.query('UPDATE queue.jobs SET failed_at = now() WHERE id = $1', [failed.id]);
    // What a worker finishing the retried job before the history step would leave: a history
    // row of the same id (made by hand here, so the test does not depend on the race's timing).
    await db.query(
      `INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, attempts, max_attempts,
         errors, tags, meta, created_at, run_at)
       SELECT id, queue, task, payload, priority, 'completed', 1, max_attempts, errors, tags, meta,
         created_at, run_at FROM queue.jobs WHERE id = $1`,
      [failed.id],
    );
    expect(await queue.retryJobs({ ids: [failed.id] })).toBe(1);
    expect(await queue.deleteJobs({ ids: [failed.id] })).toBe(1);
    const [left] = await db.query(
      'SELECT (SELECT count(*) FROM queue.jobs)::int AS live, (SELECT count(*) FROM queue.job_history)::int AS history',
    );
    expect(left).toEqual({ live: 0, history: 1 });
  });

  it('a job with a unique key comes back with it, holding its queued slot unless a waiting job of the key does', async () => {
    const queue = makeQueue({ tasks: { echo: async () => 1 } });
    const keyed = (key: string) =>
      db.query(`SELECT id::text, unique_queued AS queued FROM queue.jobs WHERE unique_key = $1 ORDER BY id`, [
        key,
      ]);
    // The slot is free: the job takes it, and a new enqueue of the key is deduplicated against it.
    const [a] = await complete(queue, 1, { unique: { key: 'a' } });
    await queue.retryJob(a!.id);
    expect(await keyed('a')).toEqual([{ id: a!.id, queued: true }]);
    const again = await queue.enqueue('echo', { i: 9 }, { unique: { key: 'a' } });
    expect(again.unique).toEqual({ key: 'a', outcome: 'deduplicated', existingId: a!.id });

    // A job of the key waits: the retried one comes back with its key but not the slot.
    const [b] = await complete(queue, 1, { unique: { key: 'b' } });
    const waiting = await queue.enqueue('echo', { i: 1 }, { unique: { key: 'b' }, delay: 60_000 });
    expect(waiting.unique?.outcome).toBe('inserted');
    await queue.retryJob(b!.id);
    expect(await keyed('b')).toEqual(
      [
        { id: b!.id, queued: null },
        { id: waiting.id, queued: true },
      ].sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1)),
    );
    expect((await queue.enqueue('echo', { i: 2 }, { unique: { key: 'b' } })).id).toBe(waiting.id);

    // Two finished jobs of a key retried together: the later one takes the slot.
    const [c1] = await complete(queue, 1, { unique: { key: 'c' } });
    const [c2] = await complete(queue, 1, { unique: { key: 'c' } });
    expect(await queue.retryJobs({ ids: [c1!.id, c2!.id] })).toBe(2);
    expect(await keyed('c')).toEqual([
      { id: c1!.id, queued: null },
      { id: c2!.id, queued: true },
    ]);
  });

  it('refuses a selection without ids or state, and unknown keys, before touching anything', async () => {
    const queue = makeQueue({ tasks: { echo: async () => 1 } });
    await complete(queue, 1);
    await expect(queue.deleteJobs({ queue: 'default' } as never)).rejects.toThrow(/needs ids or a state/);
    await expect(queue.retryJobs({ state: 'done' } as never)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(queue.deleteJobs({ ids: ['1'], colour: 'red' } as never)).rejects.toThrow(/colour/);
    await expect(queue.retryJobs({ state: 'available' })).rejects.toThrow(/already due/);
    const [history] = await db.query('SELECT count(*)::int AS n FROM queue.job_history');
    expect(history.n).toBe(1);
  });
});
