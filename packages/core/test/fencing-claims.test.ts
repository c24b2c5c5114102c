/**
 * Fencing tokens count claims, which a manual retry never resets: every run of a job, before
 * and after `retryJob`/`retryFailed`, gets a greater token than all runs before it.
 */
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

interface Run {
  attempt: number;
  token: string;
  owned: unknown;
}

function flakyQueue(runs: Run[], succeedOnRun: number) {
  return makeQueue({
    tasks: {
      flaky: {
        maxAttempts: 2,
        backoff: () => 0,
        handler: async (_: null, ctx) => {
          const owned = await ctx.assertOwnership().then(
            () => 'owned',
            (e) => e,
          );
          runs.push({ attempt: ctx.attempt, token: ctx.fencingToken, owned });
          if (runs.length < succeedOnRun) throw new Error(`run ${runs.length} fails`);
        },
      },
    },
  });
}

const pad = (n: number) => String(n).padStart(10, '0');

describe('fencing tokens across manual retries', () => {
  it('gives a job retried by hand greater tokens than any of its earlier attempts', async () => {
    const runs: Run[] = [];
    const queue = flakyQueue(runs, 5);
    const worker = await startWorker(queue);
    const job = await queue.enqueue('flaky', null);

    await nextEvent<{ job: Job }>(worker, 'failed', (e) => e.job.id === job.id);
    // retryJob resets attempts, not the claim count.
    expect(await queue.retryJob(job.id)).toMatchObject({ attempts: 0, failedAt: null });
    await nextEvent<{ job: Job }>(worker, 'failed', (e) => e.job.id === job.id);
    expect(await queue.retryFailed({ task: 'flaky' })).toBe(1);
    await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);

    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 1, 2, 1]);
    expect(runs.map((r) => r.token)).toEqual([1, 2, 3, 4, 5].map((n) => `${job.id}:${pad(n)}`));
    for (let i = 1; i < runs.length; i++) {
      for (const earlier of runs.slice(0, i)) expect(runs[i]!.token > earlier.token).toBe(true);
    }
    // assertOwnership() compares the claim count, so it still passes after a reset of attempts.
    expect(runs.map((r) => r.owned)).toEqual(Array(5).fill('owned'));
    await worker.stop();
  });

  it('carries on from attempts for a row claimed before the claim count existed', async () => {
    const runs: Run[] = [];
    const queue = flakyQueue(runs, 1);
    const job = await queue.enqueue('flaky', null);
    // As a version without `claims` left a job after one failed attempt (token ...:1 handed out).
    await db.query('UPDATE queue.jobs SET attempts = 1, claims = 0, max_attempts = 3 WHERE id = $1', [
      job.id,
    ]);
    const worker = queue.worker({ pollInterval: 100 });
    const done = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    await worker.start();
    await done;
    expect(runs).toEqual([{ attempt: 2, token: `${job.id}:${pad(2)}`, owned: 'owned' }]);
    await worker.stop();
  });

  it('counts on from the stored claim count when it is ahead of attempts', async () => {
    const runs: Run[] = [];
    const queue = flakyQueue(runs, 1);
    const job = await queue.enqueue('flaky', null);
    // As after seven claims and manual retries (or claims handed back unstarted by stop(),
    // which un-count the attempt but never the claim).
    await db.query('UPDATE queue.jobs SET claims = 7 WHERE id = $1', [job.id]);
    const worker = await startWorker(queue);
    await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    expect(runs[0]!.token).toBe(`${job.id}:${pad(8)}`);
    await worker.stop();
  });
});
