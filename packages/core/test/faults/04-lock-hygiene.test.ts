import {
  expectNoAdvisoryLocks,
  heldAdvisoryLocks,
  nextEvent,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Job,
  JobRunningError,
  JobTimeoutError,
  PayloadValidationError,
  type Worker,
} from '../../src/index.js';
import { emptyClaims, gate, queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFaultTables, jobLocks, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

/**
 * The end of every case: no job lock is held while the worker still runs (the error path
 * released it, not the session's end), and none at all once the worker has stopped.
 */
async function hygiene(what: string, worker: Worker, extra: { ok: boolean; note: string }) {
  const during = await jobLocks(db);
  await worker.stop();
  const after = (await heldAdvisoryLocks(db)).length;
  recordFigure({
    scenario: 4,
    name: `lock hygiene: ${what}`,
    figure: `job locks while the worker runs ${during}, advisory locks after stop() ${after}; ${extra.note}`,
    pass: during === 0 && after === 0 && extra.ok,
  });
  expect(during).toBe(0);
  await expectNoAdvisoryLocks(db);
  expect(extra.ok).toBe(true);
}

describe('fault 4: lock hygiene on every error path', () => {
  it('handler throws synchronously', async () => {
    const queue = makeQueue({
      tasks: {
        boom: {
          maxAttempts: 1,
          handler: () => {
            throw new Error('thrown before any await');
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job; error: Error }>(worker, 'failed');
    const job = await queue.enqueue('boom', null);
    const event = await failed;
    const stored = await queue.getJob(job.id);
    await hygiene('handler throws synchronously', worker, {
      ok: event.error.message === 'thrown before any await' && stored?.state === 'failed',
      note: `state ${stored?.state}, error "${stored?.errors[0]?.message}"`,
    });
  });

  it('handler returns a rejected promise of a non-Error value', async () => {
    const values: Record<string, unknown> = {
      object: { reason: 'nope' },
      string: 'plain string',
      undefined: undefined,
      null: null,
      number: 42,
    };
    const queue = makeQueue({
      tasks: { reject: { maxAttempts: 1, handler: (kind: string) => Promise.reject(values[kind]) } },
    });
    const worker = await startWorker(queue);
    const failures: Job[] = [];
    const allFailed = new Promise<void>((resolve) =>
      worker.on('failed', (e) => {
        failures.push(e.job);
        if (failures.length === Object.keys(values).length) resolve();
      }),
    );
    const jobs = await Promise.all(Object.keys(values).map((kind) => queue.enqueue('reject', kind)));
    await allFailed;
    const messages = await Promise.all(jobs.map(async (j) => (await queue.getJob(j.id))?.errors[0]?.message));
    const expected = [
      'non-Error thrown: {"reason":"nope"}',
      'non-Error thrown: plain string',
      'non-Error thrown: undefined',
      'non-Error thrown: null',
      'non-Error thrown: 42',
    ];
    await hygiene('handler rejects with non-Error values', worker, {
      ok: JSON.stringify(messages) === JSON.stringify(expected),
      note: `messages ${JSON.stringify(messages)}`,
    });
    expect(messages).toEqual(expected);
  });

  it('payload fails the task schema: permanent failure at the first attempt', async () => {
    // The producer has no schema (an older deploy, or SQL enqueue); the worker's task does.
    const producer = makeQueue({ tasks: { typed: async () => {} } });
    let ran = false;
    const queue = makeQueue({
      tasks: {
        typed: {
          schema: z.object({ n: z.number() }),
          handler: async () => {
            ran = true;
          },
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = nextEvent<{ job: Job; error: unknown }>(worker, 'failed');
    const job = await producer.enqueue('typed', { n: 'not a number' });
    const event = await failed;
    const stored = await queue.getJob(job.id);
    await hygiene('payload fails the schema', worker, {
      ok:
        event.error instanceof PayloadValidationError &&
        !ran &&
        stored?.state === 'failed' &&
        stored.attempts === 1 &&
        stored.maxAttempts === 25,
      note: `state ${stored?.state} after ${stored?.attempts} of ${stored?.maxAttempts} attempts, handler ran ${ran}`,
    });
  });

  it('job timeout', async () => {
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
    const event = await failed;
    const stored = await queue.getJob(job.id);
    await hygiene('job timeout', worker, {
      ok: event.error instanceof JobTimeoutError && stored?.state === 'failed',
      note: `state ${stored?.state}, error "${stored?.errors[0]?.message}"`,
    });
  });

  it('a job whose task the worker does not know is never locked', async () => {
    const producer = makeQueue({ tasks: { mystery: async () => {} } });
    const queue = makeQueue({ tasks: { known: async () => {} } });
    const job = await producer.enqueue('mystery', null);
    const worker = await startWorker(queue, { pollInterval: 20 });
    await emptyClaims(worker, 5);
    const stored = await queue.getJob(job.id);
    await hygiene('unknown task', worker, {
      ok: stored?.state === 'available' && stored.attempts === 0,
      note: `left ${stored?.state} with ${stored?.attempts} attempts after 5 claims`,
    });
  });

  it('a job deleted by an admin while it runs (completing, and failing)', async () => {
    const release = gate();
    const queue = makeQueue({
      tasks: {
        held: {
          maxAttempts: 1,
          handler: async (outcome: 'ok' | 'fail') => {
            await release.opened;
            if (outcome === 'fail') throw new Error('fails after its row is gone');
          },
        },
      },
    });
    const worker = await startWorker(queue);
    let started = 0;
    const bothStarted = new Promise<void>((resolve) =>
      worker.on('started', () => ++started === 2 && resolve()),
    );
    const ok = await queue.enqueue('held', 'ok');
    const fail = await queue.enqueue('held', 'fail');
    await bothStarted;
    // The admin API refuses: the job is running.
    const refused = await queue.deleteJob(ok.id).catch((e) => e);
    expect(refused).toBeInstanceOf(JobRunningError);
    // An admin at the SQL prompt does not ask.
    await db.query('DELETE FROM queue.jobs WHERE id = ANY($1::bigint[])', [[ok.id, fail.id]]);
    const completed = nextEvent<{ job: Job }>(worker, 'completed');
    release.open();
    await completed;
    // The failure of a deleted job has no event (nothing was recorded): wait on the locks.
    await waitFor('both job locks to be released', async () => (await jobLocks(db)) === 0);
    const rows = await db.query('SELECT id FROM queue.jobs');
    await hygiene('job deleted by an admin while running', worker, {
      ok: refused instanceof JobRunningError && rows.length === 0,
      note: `deleteJob() refused with ${refused?.name}; rows left ${rows.length}`,
    });
  });

  it('a job exhausted by crashes (max attempts used by a killed process) is failed and unlocked', async () => {
    const producer = makeQueue({ tasks: { hold: async () => {} } });
    const job = await producer.enqueue('hold', null, { maxAttempts: 1 });
    const victim = await spawnFixture('fault-worker.ts', { env: { DATABASE_URL: db.url } });
    await waitFor(
      'the job to start in the victim',
      async () => (await db.query('SELECT 1 FROM started')).length === 1,
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    let ran = false;
    const queue = makeQueue({
      tasks: {
        hold: async () => {
          ran = true;
        },
      },
    });
    const worker = await startWorker(queue);
    const failed = await nextEvent<{ job: Job; error: Error }>(worker, 'failed');
    const stored = await queue.getJob(job.id);
    await hygiene('exhausted by crashes', worker, {
      ok:
        failed.job.id === job.id &&
        !ran &&
        stored?.state === 'failed' &&
        stored.attempts === 1 &&
        /interrupted/.test(stored.errors[0]?.message ?? ''),
      note: `state ${stored?.state}, attempts ${stored?.attempts}/1, ran again ${ran}`,
    });
  });

  it('stop() with a handler that ignores its signal leaves no lock', async () => {
    const queue = makeQueue({ tasks: { deaf: () => new Promise(() => {}) } });
    const worker = await startWorker(queue, { shutdownTimeout: 20, abortGrace: 20 });
    const started = nextEvent(worker, 'started');
    const job = await queue.enqueue('deaf', null);
    await started;
    expect(await jobLocks(db)).toBe(1);
    await worker.stop();
    const after = (await heldAdvisoryLocks(db)).length;
    const stored = await queue.getJob(job.id);
    recordFigure({
      scenario: 4,
      name: 'lock hygiene: stop() with a deaf handler',
      figure: `advisory locks after stop() ${after}; job ${stored?.state}`,
      pass: after === 0 && stored?.state === 'available',
    });
    await expectNoAdvisoryLocks(db);
    expect(stored?.state).toBe('available');
  });
});
