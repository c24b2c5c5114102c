import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, type Job, LockLostError, Queue, WorkerStalledError } from '../src/index.js';
import { captureLogger } from './faults/process-kit.js';
import { FreezingProxy } from './faults/tcp-proxy.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
let proxy: FreezingProxy | undefined;

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

/** Keeps the event loop from turning for `ms`, as a long GC pause or a paused process would. */
function blockLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

const STALL_MS = 100;
const JOBS = 8;

describe('assertOwnership() from many jobs at once', () => {
  it('answers each job for itself when many check at once', async () => {
    const allStarted = gate();
    const tampered = gate();
    let startedCount = 0;
    const results = new Map<string, unknown>();
    const queue = makeQueue({
      tasks: {
        guarded: async (_: null, ctx) => {
          if (ctx.attempt > 1) return;
          if (++startedCount === JOBS) allStarted.open();
          await tampered.opened;
          results.set(
            ctx.job.id,
            await ctx.assertOwnership().then(
              () => 'owned',
              (e) => e,
            ),
          );
        },
      },
    });
    const worker = await startWorker(queue, { concurrency: JOBS });
    const jobs = await queue.enqueueMany(
      Array.from({ length: JOBS }, () => ({ task: 'guarded' as const, payload: null })),
    );
    await allStarted.opened;
    // One row changed behind the worker's back: its job is no longer on the attempt it runs.
    const victim = jobs[3]!.id;
    await db.query('UPDATE queue.jobs SET attempts = attempts + 1, claims = claims + 1 WHERE id = $1', [
      victim,
    ]);
    const rerun = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === victim);
    tampered.open();
    expect((await rerun).job.attempts).toBe(3);
    for (const job of jobs) {
      if (job.id !== victim) expect(results.get(job.id)).toBe('owned');
    }
    const lost = results.get(victim) as LockLostError;
    expect(lost).toBeInstanceOf(LockLostError);
    expect((lost.cause as Error).message).toBe(`job ${victim} is on claim 2, not 1`);
    await worker.stop();
  });
});

describe('event-loop stall detection', () => {
  it('re-verifies the session after a stall, and leaves running jobs alone when it is still theirs', async () => {
    const logger = captureLogger();
    const stallNow = gate();
    let abortedDuringRun: boolean | undefined;
    const queue = makeQueue({
      tasks: {
        heavy: async (_: null, { signal }) => {
          await stallNow.opened;
          blockLoop(STALL_MS * 4);
          await logger.next(/re-verified after the stall/);
          abortedDuringRun = signal.aborted;
        },
      },
    });
    const worker = await startWorker(queue, { stallThreshold: STALL_MS, logger });
    const started = nextEvent(worker, 'started');
    const completed = nextEvent<{ job: Job }>(worker, 'completed');
    await queue.enqueue('heavy', null);
    await started;
    stallNow.open();
    await completed;
    expect(abortedDuringRun).toBe(false);
    const stalled = logger.lines.find((l) => /event loop stalled/.test(l.msg));
    expect(stalled).toBeDefined();
    expect((stalled!.fields as { stalledMs: number }).stalledMs).toBeGreaterThanOrEqual(STALL_MS * 2);
    await worker.stop();
  });

  it('aborts running jobs with WorkerStalledError when the session gives no answer after a stall', async () => {
    const target = new URL(db.url);
    proxy = new FreezingProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const stallNow = gate();
    const aborted = gate();
    let reason: unknown;
    let abortedAfterMs = 0;
    const tasks = {
      heavy: async (_: null, { attempt, signal }: { attempt: number; signal: AbortSignal }) => {
        if (attempt > 1) return;
        await stallNow.opened;
        blockLoop(STALL_MS * 4);
        const resumedAt = performance.now();
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            abortedAfterMs = performance.now() - resumedAt;
            aborted.open();
            resolve();
          }),
        );
      },
    };
    // The worker reaches Postgres only through the proxy, which goes silent during the stall.
    const behindProxy = new Queue({ connectionString: proxy.url(db.url), logger: captureLogger(), tasks });
    const worker = behindProxy.worker({ stallThreshold: STALL_MS, queryTimeout: 2_000, pollInterval: 100 });
    await worker.start();
    const producer = makeQueue({ tasks });
    const started = nextEvent(worker, 'started');
    const job = await producer.enqueue('heavy', null);
    await started;
    proxy.freeze();
    stallNow.open();
    await aborted.opened;
    expect(reason).toBeInstanceOf(WorkerStalledError);
    expect((reason as WorkerStalledError).code).toBe('QUEUE_WORKER_STALLED');
    expect((reason as WorkerStalledError).stalledMs).toBeGreaterThanOrEqual(STALL_MS * 2);
    expect((reason as Error).message).toMatch(/event loop stalled for \d+ ms/);
    // Aborted once the re-check had no answer within stallThreshold, not at queryTimeout.
    expect(abortedAfterMs).toBeLessThan(1_500);

    // The frozen session still holds the job's lock; once it is gone the job runs again, once.
    const completed = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    proxy.dropFrozenUpstreams();
    expect((await completed).job.attempts).toBe(2);
    await behindProxy.close();
  });

  it('refuses a stallThreshold that is not 0 or 50 ms and more, naming the option', () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    expect(() => queue.worker({ stallThreshold: 10 })).toThrow(InvalidOptionError);
    expect(() => queue.worker({ stallThreshold: 10 })).toThrow(/stallThreshold.*0 \(off\)/);
    expect(() => queue.worker({ stallThreshold: 0 })).not.toThrow();
  });
});
