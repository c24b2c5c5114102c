import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { type Job, JobNotFoundError, JobRunningError } from '../src/index.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('admin API', () => {
  it('gets, lists and counts jobs by state, including running ones from the locks held', async () => {
    const release = gate();
    const queue = makeQueue({
      tasks: {
        hold: async () => release.opened,
        fail: { maxAttempts: 1, handler: async () => Promise.reject(new Error('bad')) },
        idle: async () => {},
      },
    });
    const worker = await startWorker(queue, { queues: { busy: 1 } });
    const started = nextEvent(worker, 'started');
    const running = await queue.enqueue('hold', null, { queue: 'busy' });
    await started;
    const failedEvent = nextEvent(worker, 'failed');
    const failed = await queue.enqueue('fail', null, { queue: 'busy' });
    const available = await queue.enqueue('idle', null, { queue: 'other' });
    const scheduled = await queue.enqueue('idle', null, { queue: 'other', delay: 3_600_000 });
    expect((await queue.getJob(running.id))?.state).toBe('running');
    expect((await queue.getJob(available.id))?.state).toBe('available');
    expect((await queue.getJob(scheduled.id))?.state).toBe('scheduled');
    release.open();
    await failedEvent;
    expect((await queue.getJob(failed.id))?.state).toBe('failed');
    expect(await queue.countJobs()).toEqual([
      { queue: 'busy', available: 0, scheduled: 0, running: 0, failed: 1, paused: false },
      { queue: 'other', available: 1, scheduled: 1, running: 0, failed: 0, paused: false },
    ]);
    expect((await queue.listJobs({ state: 'failed' })).map((j) => j.id)).toEqual([failed.id]);
    expect((await queue.listJobs({ queue: 'other' })).map((j) => j.id)).toEqual([available.id, scheduled.id]);
    expect((await queue.listJobs({ task: 'idle', state: 'scheduled' })).map((j) => j.id)).toEqual([
      scheduled.id,
    ]);
    const page1 = await queue.listJobs({ limit: 1 });
    const page2 = await queue.listJobs({ limit: 1, after: page1[0]!.id });
    expect(page2[0]!.id).not.toBe(page1[0]!.id);
    expect(BigInt(page2[0]!.id) > BigInt(page1[0]!.id)).toBe(true);
    await worker.stop();
  });

  it('retries a failed job, which then completes', async () => {
    let fail = true;
    const queue = makeQueue({
      tasks: {
        flip: { maxAttempts: 1, handler: async () => (fail ? Promise.reject(new Error('once')) : undefined) },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job }>(worker, 'failed');
    const job = await queue.enqueue('flip', null);
    await failed;
    fail = false;
    const completed = nextEvent<{ job: Job }>(worker, 'completed');
    const retried = await queue.retryJob(job.id);
    expect(retried).toMatchObject({ attempts: 0, failedAt: null });
    expect((await completed).job.id).toBe(job.id);
    await worker.stop();
  });

  it('retryFailed retries all failed jobs, optionally filtered by queue and task', async () => {
    const queue = makeQueue({ tasks: { a: async () => {}, b: async () => {} } });
    const jobs = await queue.enqueueMany([
      { task: 'a', payload: 1, options: { queue: 'q1' } },
      { task: 'b', payload: 2, options: { queue: 'q1' } },
      { task: 'a', payload: 3, options: { queue: 'q2' } },
    ]);
    await db.query(`UPDATE queue.jobs SET failed_at = now(), attempts = max_attempts`);
    expect(await queue.retryFailed({ queue: 'q1', task: 'a' })).toBe(1);
    expect((await queue.getJob(jobs[0]!.id))?.state).toBe('available');
    expect(await queue.retryFailed()).toBe(2);
    expect((await queue.listJobs({ state: 'failed' })).length).toBe(0);
  });

  it('deletes a waiting job, refuses to delete a running one, and names a missing one', async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { hold: async () => release.opened, other: async () => {} } });
    const waiting = await queue.enqueue('other', null, { delay: 60_000 });
    expect((await queue.deleteJob(waiting.id)).id).toBe(waiting.id);
    expect(await queue.getJob(waiting.id)).toBeNull();
    await expect(queue.deleteJob(waiting.id)).rejects.toThrow(JobNotFoundError);
    const worker = await startWorker(queue);
    const started = nextEvent(worker, 'started');
    const running = await queue.enqueue('hold', null);
    await started;
    const error = await queue.deleteJob(running.id).catch((e) => e);
    expect(error).toBeInstanceOf(JobRunningError);
    expect(error.code).toBe('QUEUE_JOB_RUNNING');
    await expect(queue.retryJob(running.id)).rejects.toThrow(JobRunningError);
    release.open();
    await nextEvent(worker, 'completed');
    await worker.stop();
  });

  it('reports completed jobs and failed attempts per minute', async () => {
    const queue = makeQueue({
      tasks: {
        ok: async () => {},
        bad: { maxAttempts: 1, handler: async () => Promise.reject(new Error('x')) },
      },
    });
    const worker = await startWorker(queue, { queues: ['default', 'x'] });
    let n = 0;
    const all = new Promise<void>((resolve) => {
      const count = () => ++n === 4 && resolve();
      worker.on('completed', count);
      worker.on('failed', count);
    });
    await queue.enqueueMany([
      { task: 'ok', payload: 1 },
      { task: 'ok', payload: 2 },
      { task: 'ok', payload: 3, options: { queue: 'x' } },
      { task: 'bad', payload: 4 },
    ]);
    await all;
    await worker.stop();
    const stats = await queue.jobStats({ minutes: 5 });
    const total = (q: string, k: 'completed' | 'failed') =>
      stats.filter((s) => s.queue === q).reduce((a, s) => a + s[k], 0);
    expect([total('default', 'completed'), total('default', 'failed'), total('x', 'completed')]).toEqual([
      2, 1, 1,
    ]);
  });
});

describe('admin API: pages, running jobs, run now', () => {
  it('pages oldest-first and newest-first by id, and filters by state', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const jobs = await queue.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ task: 't' as const, payload: i })),
    );
    const ids = jobs.map((j) => j.id);
    const asc1 = await queue.listJobs({ limit: 2 });
    const asc2 = await queue.listJobs({ limit: 2, after: asc1[1]!.id });
    expect([...asc1, ...asc2].map((j) => j.id)).toEqual(ids.slice(0, 4));
    const desc1 = await queue.listJobs({ order: 'desc', limit: 2 });
    const desc2 = await queue.listJobs({ order: 'desc', limit: 2, before: desc1[1]!.id });
    expect([...desc1, ...desc2].map((j) => j.id)).toEqual([...ids].reverse().slice(0, 4));
    await expect(queue.listJobs({ order: 'desc', after: ids[0] })).rejects.toThrow(
      /after: does not go with order 'desc'/,
    );
    await expect(queue.listJobs({ state: 'done' as never })).rejects.toThrow(/state: must be one of/);
  });

  it('lists running jobs with their worker pid and start time', async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { hold: async () => release.opened } });
    const worker = await startWorker(queue);
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await queue.enqueue('hold', null);
    await started;
    const running = await queue.runningJobs();
    expect(running.map((j) => j.id)).toEqual([job.id]);
    expect(running[0]!.pid).toBe(worker.backendPids.claimer);
    expect(running[0]!.startedAt).toBeInstanceOf(Date);
    expect(running[0]!.runningMs).toBeGreaterThanOrEqual(0);
    release.open();
    await nextEvent(worker, 'completed');
    expect(await queue.runningJobs()).toEqual([]);
    await worker.stop();
  });

  it('runNow makes a scheduled job due at once and keeps its attempts; refuses a failed one', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const later = await queue.enqueue('t', null, { delay: 3_600_000 });
    await db.query(`UPDATE queue.jobs SET attempts = 2 WHERE id = $1`, [later.id]);
    const now = await queue.runNow(later.id);
    expect(now.attempts).toBe(2);
    expect((await queue.getJob(later.id))?.state).toBe('available');
    await db.query(`UPDATE queue.jobs SET failed_at = now() WHERE id = $1`, [later.id]);
    const error = await queue.runNow(later.id).catch((e) => e);
    expect(error.code).toBe('QUEUE_JOB_STATE');
    expect(error.message).toMatch(/is failed; retry it with retryJob/);
  });
});
