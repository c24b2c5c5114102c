import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import {
  type Job,
  type JobContext,
  JobTimeoutError,
  LockLostError,
  WorkerStoppingError,
} from '../src/index.js';
import { emptyClaims, gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('worker', () => {
  it('gives the handler its payload, job, attempt, signal and logger', async () => {
    let seen: any;
    const queue = makeQueue({
      tasks: {
        greet: async (payload: { name: string }, ctx) => {
          seen = {
            payload,
            id: ctx.job.id,
            attempt: ctx.attempt,
            aborted: ctx.signal.aborted,
            log: typeof ctx.logger.info,
          };
        },
      },
    });
    const worker = await startWorker(queue);
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    const job = await queue.enqueue('greet', { name: 'Ada' });
    await done;
    expect(seen).toEqual({
      payload: { name: 'Ada' },
      id: job.id,
      attempt: 1,
      aborted: false,
      log: 'function',
    });
    expect((await queue.getJob(job.id))?.state).toBe('completed');
    await worker.stop();
  });

  it('retries with backoff, records each error with its stack, and keeps the job as failed at the end', async () => {
    const attempts: number[] = [];
    const queue = makeQueue({
      tasks: {
        flaky: {
          maxAttempts: 3,
          backoff: { baseDelay: 20, jitter: false },
          handler: async (_: null, { attempt }) => {
            attempts.push(attempt);
            throw new Error(`nope ${attempt}`);
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const retried: number[] = [];
    worker.on('retried', (e) => retried.push(e.delayMs));
    const failed = nextEvent<{ job: Job; error: Error }>(worker, 'failed');
    const job = await queue.enqueue('flaky', null);
    const event = await failed;
    expect(event.error.message).toBe('nope 3');
    expect(attempts).toEqual([1, 2, 3]);
    // Exponential: 20 ms after the first failure, 40 ms after the second.
    expect(retried.map((d) => Math.round(d / 10) * 10)).toEqual([20, 40]);
    const stored = await queue.getJob(job.id);
    expect(stored).toMatchObject({ state: 'failed', attempts: 3 });
    expect(stored!.failedAt).toBeInstanceOf(Date);
    expect(stored!.errors.map((e) => [e.attempt, e.message])).toEqual([
      [1, 'Error: nope 1'],
      [2, 'Error: nope 2'],
      [3, 'Error: nope 3'],
    ]);
    expect(stored!.errors[2]!.stack).toMatch(/worker\.test\.ts/);
    await worker.stop();
  });

  it('aborts the signal on timeout and counts it as a failed attempt', async () => {
    const queue = makeQueue({
      tasks: {
        slow: {
          timeout: 50,
          maxAttempts: 1,
          handler: (_: null, { signal }) =>
            new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job; error: unknown }>(worker, 'failed');
    const job = await queue.enqueue('slow', null);
    const { error } = await failed;
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect((await queue.getJob(job.id))?.errors[0]?.message).toMatch(/ran past its timeout of 50 ms/);
    await worker.stop();
  });

  it('holds a timed-out job until its handler returns, so it never runs twice at once', async () => {
    const release = gate();
    let running = 0;
    let maxRunning = 0;
    const queue = makeQueue({
      tasks: {
        stubborn: {
          timeout: 30,
          maxAttempts: 2,
          backoff: () => 0,
          handler: async () => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await release.opened; // ignores its signal
            running--;
          },
        },
      },
    });
    const a = await startWorker(queue, { pollInterval: 20 });
    const b = await startWorker(queue, { pollInterval: 20 });
    const started = nextEvent(a, 'started').then(() => 'a');
    const startedB = nextEvent(b, 'started').then(() => 'b');
    await queue.enqueue('stubborn', null);
    await Promise.race([started, startedB]);
    // Let both workers poll many times while the timed-out handler is still running.
    const retried = new Promise((r) => {
      a.on('retried', r);
      b.on('retried', r);
    });
    await Promise.all([emptyClaims(a, 5), emptyClaims(b, 5)]);
    expect(maxRunning).toBe(1);
    release.open();
    await retried;
    await Promise.all([a.stop(), b.stop()]);
    expect(maxRunning).toBe(1);
  });

  it('leaves a job whose task it does not know for a worker that does', async () => {
    const queue = makeQueue({ tasks: { known: async () => {} } });
    const other = makeQueue({ tasks: { known: async () => {}, special: async () => {} } });
    const worker = await startWorker(queue);
    const job = await other.enqueue('special', null);
    const known = nextEvent<{ job: Job }>(worker, 'completed');
    await queue.enqueue('known', null);
    await known; // the worker has claimed since the special job was enqueued
    expect(await queue.getJob(job.id)).toMatchObject({ state: 'available', attempts: 0 });
    const capable = await startWorker(other);
    const done = nextEvent<{ job: Job }>(capable, 'completed', (e) => e.job.id === job.id);
    await done;
    await Promise.all([worker.stop(), capable.stop()]);
  });

  it('runs no more jobs at once than each queue allows', async () => {
    let running = 0;
    let peak = 0;
    const queue = makeQueue({
      tasks: {
        work: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running--;
        },
      },
    });
    const worker = await startWorker(queue, { queues: { default: 3 } });
    let completed = 0;
    const all = new Promise<void>((resolve) =>
      worker.on('completed', () => {
        if (++completed === 60) resolve();
      }),
    );
    await queue.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ task: 'work', payload: i })));
    await all;
    expect(peak).toBe(3);
    await worker.stop();
  });

  it('runs lower priority numbers first, then by due time', async () => {
    const order: number[] = [];
    const queue = makeQueue({ tasks: { p: async (n: number) => void order.push(n) } });
    await queue.enqueueMany([
      { task: 'p', payload: 3, options: { priority: 5 } },
      { task: 'p', payload: 1, options: { priority: -1 } },
      { task: 'p', payload: 2, options: { priority: 0 } },
    ]);
    const worker = await startWorker(queue, { concurrency: 1 });
    await new Promise<void>((resolve) => worker.on('completed', () => order.length === 3 && resolve()));
    expect(order).toEqual([1, 2, 3]);
    await worker.stop();
  });

  it('starts a scheduled job at its time, not at the next poll', async () => {
    const queue = makeQueue({ tasks: { later: async () => {} } });
    // Polling once a minute: only the scheduled-job timer can start it in time.
    const worker = await startWorker(queue, { pollInterval: 60_000 });
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await queue.enqueue('later', null, { delay: 400 });
    const { job: run } = await started;
    const [{ late }] = await db.query(`SELECT extract(epoch FROM now() - $1::timestamptz) * 1000 AS late`, [
      job.runAt,
    ]);
    expect(run.id).toBe(job.id);
    // Not before its time (by the database clock), and well before a poll would have found it.
    expect(Number(late)).toBeGreaterThanOrEqual(-5);
    expect(Number(late)).toBeLessThan(250);
    await worker.stop();
  });

  it('also wakes for a job scheduled before the worker started', async () => {
    const queue = makeQueue({ tasks: { later: async () => {} } });
    await queue.enqueue('later', null, { delay: 300 });
    const worker = await startWorker(queue, { pollInterval: 60_000 });
    await nextEvent(worker, 'completed');
    await worker.stop();
  });

  it('pausing a queue stops claiming from it cluster-wide; resuming wakes workers', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const worker = await startWorker(queue, { pollInterval: 20 });
    await queue.pauseQueue('default');
    const job = await queue.enqueue('t', null);
    // Several polls pass without a claim.
    await emptyClaims(worker, 5);
    expect(await queue.getJob(job.id)).toMatchObject({ state: 'available' });
    expect((await queue.countJobs()).find((c) => c.queue === 'default')).toMatchObject({
      paused: true,
      available: 1,
    });
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    await queue.resumeQueue('default');
    expect((await done).job.id).toBe(job.id);
    await worker.stop();
  });

  it('emits started, completed, retried and failed; enqueued on the queue', async () => {
    const events: string[] = [];
    const queue = makeQueue({
      tasks: {
        ok: async () => {},
        bad: { maxAttempts: 2, backoff: () => 0, handler: async () => Promise.reject(new Error('x')) },
      },
    });
    queue.on('enqueued', (e) => events.push(`enqueued ${e.job.task}`));
    const worker = await startWorker(queue, { concurrency: 1 });
    for (const e of ['started', 'completed', 'retried', 'failed'] as const) {
      worker.on(e, (ev: { job: Job }) => events.push(`${e} ${ev.job.task}`));
    }
    const failed = nextEvent(worker, 'failed');
    await queue.enqueue('ok', null);
    await nextEvent(worker, 'completed');
    await queue.enqueue('bad', null);
    await failed;
    expect(events).toEqual([
      'enqueued ok',
      'started ok',
      'completed ok',
      'enqueued bad',
      'started bad',
      'retried bad',
      'started bad',
      'failed bad',
    ]);
    await worker.stop();
  });
});

describe('fencing', () => {
  it('gives each attempt a fencing token: the same throughout it, greater with each attempt', async () => {
    const tokens: { attempt: number; first: string; later: string }[] = [];
    const queue = makeQueue({
      tasks: {
        // Ten attempts: the token must still sort in attempt order past 9 -> 10.
        flaky: {
          maxAttempts: 10,
          backoff: () => 0,
          handler: async (_: null, ctx) => {
            const first = ctx.fencingToken;
            await new Promise((r) => setImmediate(r));
            tokens.push({ attempt: ctx.attempt, first, later: ctx.fencingToken });
            if (ctx.attempt < 10) throw new Error(`attempt ${ctx.attempt} fails`);
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    const job = await queue.enqueue('flaky', null);
    await done;
    expect(tokens.map((t) => t.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const t of tokens) {
      expect(t.later).toBe(t.first);
      expect(t.first).toBe(`${job.id}:${String(t.attempt).padStart(10, '0')}`);
    }
    const asText = tokens.map((t) => t.first);
    expect([...asText].sort()).toEqual(asText);
    expect(new Set(asText).size).toBe(10);
    await worker.stop();
  });

  it('assertOwnership() passes while the job is owned, and throws LockLostError once its session is gone', async () => {
    const checked = gate();
    const terminated = gate();
    const seen: { first?: unknown; second?: unknown; reason?: unknown; after?: unknown } = {};
    let saved: JobContext | undefined;
    const queue = makeQueue({
      tasks: {
        guarded: async (_: null, ctx) => {
          if (ctx.attempt > 1) return;
          saved = ctx;
          seen.first = await ctx.assertOwnership().then(
            () => 'owned',
            (e) => e,
          );
          checked.open();
          await terminated.opened;
          seen.second = await ctx.assertOwnership().then(
            () => 'owned',
            (e) => e,
          );
          seen.reason = ctx.signal.reason;
        },
      },
    });
    const worker = await startWorker(queue, { pollInterval: 100 });
    const completed: Job[] = [];
    worker.on('completed', (e) => completed.push(e.job));
    const job = await queue.enqueue('guarded', null);
    await checked.opened;
    expect(seen.first).toBe('owned');
    await db.query('SELECT pg_terminate_backend($1)', [worker.backendPids.claimer]);
    terminated.open();
    const again = await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    expect(seen.second).toBeInstanceOf(LockLostError);
    expect((seen.second as LockLostError).code).toBe('QUEUE_LOCK_LOST');
    expect(seen.reason).toBeInstanceOf(LockLostError);
    // Nothing was recorded by the lost first attempt; the second ran and completed, once.
    expect(again.job.attempts).toBe(2);
    expect(completed).toHaveLength(1);
    // Once its attempt is over, a context can no longer claim to own the job.
    seen.after = await saved!.assertOwnership().then(
      () => 'owned',
      (e) => e,
    );
    expect(seen.after).toBeInstanceOf(LockLostError);
    await worker.stop();
  });
});

describe('stop()', () => {
  it('is safe before start() and when called twice', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const never = queue.worker();
    await never.stop();
    await never.stop();
    const worker = await startWorker(queue);
    const a = worker.stop();
    const b = worker.stop();
    expect(a).toBe(b);
    await a;
  });

  it('waits for running handlers, and their results are recorded', async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { t: async () => release.opened } });
    const worker = await startWorker(queue);
    const started = nextEvent<{ job: Job }>(worker, 'started');
    const job = await queue.enqueue('t', null);
    await started;
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    // New jobs are not claimed once stopping.
    const later = await queue.enqueue('t', null);
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    expect((await queue.getJob(job.id))?.state).toBe('completed');
    expect(await queue.getJob(later.id)).toMatchObject({ state: 'available', attempts: 0 });
  });

  it('aborts handlers still running after shutdownTimeout; the job runs again with no backoff', async () => {
    let signalReason: unknown;
    const queue = makeQueue({
      tasks: {
        long: (_: null, { signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              signalReason = signal.reason;
              reject(signal.reason);
            }),
          ),
      },
    });
    const worker = await startWorker(queue, { shutdownTimeout: 50 });
    const started = nextEvent(worker, 'started');
    const job = await queue.enqueue('long', null);
    await started;
    await worker.stop();
    expect(signalReason).toBeInstanceOf(WorkerStoppingError);
    const stored = await queue.getJob(job.id);
    expect(stored).toMatchObject({ state: 'available', attempts: 1 });
    expect(stored!.errors[0]!.message).toMatch(/shutting down/);
  });

  it('a handler that ignores its signal is released when the session closes, and counts as interrupted', async () => {
    const queue = makeQueue({ tasks: { deaf: () => new Promise(() => {}) } });
    const worker = await startWorker(queue, { shutdownTimeout: 20, abortGrace: 20 });
    const started = nextEvent(worker, 'started');
    const job = await queue.enqueue('deaf', null);
    await started;
    await worker.stop();
    // Not running any more (no lock), and the next claim will record the interrupted attempt.
    expect(await queue.getJob(job.id)).toMatchObject({ state: 'available', attempts: 1 });
    const other = makeQueue({ tasks: { deaf: async () => {} } });
    const w2 = await startWorker(other);
    const errors = new Promise<Job>((resolve) => w2.on('started', (e) => resolve(e.job)));
    expect((await errors).errors[0]?.message).toMatch(/interrupted/);
    await nextEvent(w2, 'completed');
    await w2.stop();
  });
});

describe('stop() during start()', () => {
  it('leaves no connection of the worker open', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const worker = queue.worker();
    const starting = worker.start();
    await worker.stop();
    await starting;
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = $1 AND application_name IN ('queue-claimer', 'queue-listener')`,
      [db.name],
    );
    expect(n).toBe(0);
  });
});
