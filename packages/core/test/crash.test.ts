import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { queueFactory, startWorker } from './helpers.js';
import { spawnWorker } from './processes.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

beforeEach(async () => {
  await db.query(`
    DROP TABLE IF EXISTS started, effects, duplicates;
    CREATE TABLE started (job_id bigint NOT NULL, pid int NOT NULL);
    CREATE TABLE effects (job_id bigint PRIMARY KEY, pid int NOT NULL);
    CREATE TABLE duplicates (job_id bigint NOT NULL);`);
});

const count = async (table: string) =>
  (await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

describe('crash semantics with real processes', () => {
  it('a worker killed with SIGKILL while holding jobs: a second worker finishes each exactly once', async () => {
    const producer = makeQueue({ tasks: { hold: async () => {} } });
    const jobs = await producer.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({ task: 'hold' as const, payload: i })),
    );
    const victim = await spawnWorker(db.url, { CONCURRENCY: '20' });
    await waitFor('all 20 jobs to be running in the victim', async () => (await count('started')) === 20);
    expect((await producer.countJobs())[0]).toMatchObject({ running: 20, available: 0 });

    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();

    // The rescuer records each job's effect; the unique key on effects catches a second run.
    const rescuer = makeQueue({
      tasks: {
        hold: async (_: number, { job }) => {
          await db.query('INSERT INTO effects (job_id, pid) VALUES ($1, $2)', [job.id, process.pid]);
        },
      },
    });
    const worker = await startWorker(rescuer, { concurrency: 8, pollInterval: 200 });
    let firstStart = 0;
    worker.once('started', () => {
      firstStart = Date.now();
    });
    const finished: Job[] = [];
    await new Promise<void>((resolve) =>
      worker.on('completed', (e) => {
        finished.push(e.job);
        if (finished.length === 20) resolve();
      }),
    );
    await worker.stop();
    expect(await count('effects')).toBe(20);
    expect(new Set(finished.map((j) => j.id))).toEqual(new Set(jobs.map((j) => j.id)));
    // Each job's interrupted first attempt is on record, and it counted.
    expect(finished.every((j) => j.attempts === 2 && /interrupted/.test(j.errors[0]?.message ?? ''))).toBe(
      true,
    );
    // No lease to wait out: the locks died with the connection (bounded by one poll interval).
    expect(firstStart - killedAt).toBeLessThan(1500);
    expect(await count('queue.jobs')).toBe(0);
  });

  it('a job that kills its worker every time ends as failed after its max attempts', async () => {
    const producer = makeQueue({ tasks: { poison: { maxAttempts: 3, handler: async () => {} } } });
    const job = await producer.enqueue('poison', null);
    let deaths = 0;
    for (;;) {
      const worker = await spawnWorker(db.url);
      const outcome = await Promise.race([
        worker.exited,
        waitFor('the job to be failed', async () => (await producer.getJob(job.id))?.state === 'failed'),
      ]);
      if (outcome === true) {
        worker.child.kill('SIGTERM');
        // The worker stops gracefully, then lets SIGTERM end the process as it would have.
        expect(await worker.exited).toEqual({ code: null, signal: 'SIGTERM' });
        break;
      }
      expect(outcome).toMatchObject({ signal: 'SIGKILL' });
      deaths++;
      expect(deaths).toBeLessThanOrEqual(3);
    }
    expect(deaths).toBe(3);
    const stored = await producer.getJob(job.id);
    expect(stored).toMatchObject({ state: 'failed', attempts: 3 });
    expect(stored!.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(stored!.errors.every((e) => /interrupted/.test(e.message))).toBe(true);
  });

  it('4 worker processes x concurrency 8 on 5,000 jobs: every effect exactly once', async () => {
    const producer = makeQueue({ tasks: { record: async () => {} } });
    const workers = await Promise.all(
      Array.from({ length: 4 }, () => spawnWorker(db.url, { CONCURRENCY: '8', POLL_INTERVAL: '100' })),
    );
    for (let i = 0; i < 5_000; i += 1_000) {
      await producer.enqueueMany(
        Array.from({ length: 1_000 }, (_, j) => ({ task: 'record' as const, payload: i + j })),
      );
    }
    await waitFor('5,000 effects', async () => (await count('effects')) === 5_000, {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    for (const w of workers) w.child.kill('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.exited));
    expect(exits.every((e) => e.signal === 'SIGTERM')).toBe(true);
    expect(await count('duplicates')).toBe(0);
    expect(await count('queue.jobs')).toBe(0);
    // The work was shared.
    const pids = await db.query(`SELECT pid, count(*)::int AS n FROM effects GROUP BY pid`);
    expect(pids.length).toBe(4);
  });
});
