import { defineTasks, task, UnknownTaskError } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { DrainIncompleteError, queueTesting } from '../src/index.js';
import { queueFactory, signupTasks } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('drain()', () => {
  it('runs every due job to completion, with its result, and leaves nothing behind', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    await queue.enqueue('sendWelcomeEmail', { userId: 'u1' });
    await queue.enqueue('syncCrm', { userId: 'u1' });
    const report = await t.drain();
    expect(report).toMatchObject({ completed: 2, failed: 0, retried: 0, cancelled: 0 });
    expect(ran.sort()).toEqual(['crm:u1:1', 'email:u1']);
    const email = report.jobs.find((j) => j.task === 'sendWelcomeEmail');
    expect(email).toMatchObject({
      outcome: 'completed',
      result: { sent: true },
      job: { payload: { userId: 'u1' } },
    });
    await t.expectNotEnqueued();
    // The worker recorded them as production does: in the history.
    const history = await db.query(`SELECT task, outcome FROM queue.job_history ORDER BY task`);
    expect(history).toEqual([
      { task: 'sendWelcomeEmail', outcome: 'completed' },
      { task: 'syncCrm', outcome: 'completed' },
    ]);
  });

  it('runs the jobs those jobs enqueue, also onto queues not known when it began', async () => {
    const ran: string[] = [];
    const tasks = defineTasks({
      signup: task<{ userId: string }>({
        handler: async ({ userId }) => {
          ran.push(`signup:${userId}`);
          await queue.enqueue('audit', { userId }, { queue: 'audit-log' });
        },
      }),
      audit: task<{ userId: string }>({
        handler: async ({ userId }) => {
          ran.push(`audit:${userId}`);
        },
      }),
    });
    const queue = makeQueue(tasks);
    await queue.enqueue('signup', { userId: 'u1' });
    const report = await queueTesting(queue).drain();
    expect(ran).toEqual(['signup:u1', 'audit:u1']);
    expect(report.jobs.map((j) => [j.task, j.job.queue, j.outcome])).toEqual([
      ['signup', 'default', 'completed'],
      ['audit', 'audit-log', 'completed'],
    ]);
  });

  it('reports a failed attempt as retried and leaves the retry to its backoff, or runs it now with retries: true', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    await queue.enqueue('syncCrm', { userId: 'flaky-1' });
    const first = await t.drain();
    expect(first).toMatchObject({ completed: 0, retried: 1 });
    expect(first.jobs[0]).toMatchObject({ outcome: 'retried', error: { message: 'CRM down (attempt 1)' } });
    expect(first.jobs[0]?.retryIn).toBeGreaterThanOrEqual(30_000); // baseDelay 60 s, with jitter
    await t.expectEnqueued('syncCrm', { userId: 'flaky-1' }, { state: 'scheduled' });

    const second = await t.drain({ retries: true });
    expect(second.jobs.map((j) => [j.job.attempts, j.outcome])).toEqual([
      [2, 'retried'],
      [3, 'completed'],
    ]);
    expect(ran).toEqual(['crm:flaky-1:1', 'crm:flaky-1:2', 'crm:flaky-1:3']);
  });

  it('with retries: true, a job that keeps failing ends failed for good after maxAttempts', async () => {
    const queue = makeQueue(signupTasks([]));
    const t = queueTesting(queue);
    await queue.enqueue('syncCrm', { userId: 'broken-1' });
    const report = await t.drain({ retries: true });
    expect(report.jobs.map((j) => j.outcome)).toEqual(['retried', 'retried', 'failed']);
    expect(report.jobs[2]?.error).toMatchObject({ message: 'CRM refuses this user' });
    await t.expectEnqueued('syncCrm', { userId: 'broken-1' }, { state: 'failed', count: 1 });
  });

  it('leaves jobs scheduled for later unless scheduled: true', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    await queue.enqueue('sendWelcomeEmail', { userId: 'later' }, { delay: 3_600_000 });
    expect(await t.drain()).toMatchObject({ completed: 0, jobs: [] });
    await t.expectEnqueued('sendWelcomeEmail', { userId: 'later' }, { state: 'scheduled' });
    expect(await t.drain({ scheduled: true })).toMatchObject({ completed: 1 });
    expect(ran).toEqual(['email:later']);
  });

  it('runs only the tasks or queues asked for', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    await queue.enqueue('sendWelcomeEmail', { userId: 'u1' });
    await queue.enqueue('syncCrm', { userId: 'u1' });
    await queue.enqueue('syncCrm', { userId: 'u2' }, { queue: 'crm-bulk' });
    expect(await t.drain({ tasks: ['sendWelcomeEmail'] })).toMatchObject({ completed: 1 });
    expect(ran).toEqual(['email:u1']);
    expect(await t.drain({ queues: ['crm-bulk'] })).toMatchObject({ completed: 1 });
    expect(ran).toEqual(['email:u1', 'crm:u2:1']);
    await t.expectEnqueued('syncCrm', { userId: 'u1' }, { count: 1 });
  });

  it('stops a job that keeps enqueueing itself at maxJobs, with what ran so far', async () => {
    const tasks = defineTasks({
      again: task<{ n: number }>({
        handler: async ({ n }) => {
          await queue.enqueue('again', { n: n + 1 });
        },
      }),
    });
    const queue = makeQueue(tasks);
    await queue.enqueue('again', { n: 0 });
    const error = await queueTesting(queue)
      .drain({ maxJobs: 5 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(DrainIncompleteError);
    expect(error.code).toBe('QUEUE_DRAIN_INCOMPLETE');
    expect(error.message).toMatch(/after maxJobs \(5\) attempts/);
    // Up to `concurrency` (1) more may have been claimed with the fifth one's result.
    expect(error.report.completed).toBeGreaterThanOrEqual(5);
    expect(error.report.completed).toBeLessThanOrEqual(6);
  });

  it('reports a job cancelled while it runs as cancelled', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const tasks = defineTasks({
      slow: task<{ n: number }>({
        handler: async (_payload, { signal }) => {
          started();
          await new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason)),
          );
        },
      }),
    });
    const queue = makeQueue(tasks);
    const job = await queue.enqueue('slow', { n: 1 });
    const draining = queueTesting(queue).drain();
    await running;
    await queue.cancelJob(job.id);
    const report = await draining;
    expect(report).toMatchObject({
      cancelled: 1,
      completed: 0,
      jobs: [{ task: 'slow', outcome: 'cancelled' }],
    });
    expect(report.jobs[0]?.error).toMatchObject({ code: 'QUEUE_JOB_CANCELLED' });
  });

  it('refuses bad input before running anything', async () => {
    const ran: string[] = [];
    const queue = makeQueue(signupTasks(ran));
    const t = queueTesting(queue);
    await queue.enqueue('sendWelcomeEmail', { userId: 'u1' });
    await expect(t.drain({ tasks: ['nope' as never] })).rejects.toThrow(UnknownTaskError);
    await expect(t.drain({ queues: [] })).rejects.toThrow(/queues: must be a non-empty array/);
    await expect(t.drain({ retry: true } as never)).rejects.toThrow(/drain\(\) has no option "retry"/);
    await expect(t.drain({ timeout: 0 })).rejects.toThrow(/timeout: must be a positive integer/);
    expect(ran).toEqual([]);
  });
});
