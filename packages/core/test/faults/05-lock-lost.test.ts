import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { type Job, LockLostError } from '../../src/index.js';
import { gate, queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('fault 5: the claimer connection is lost while a handler runs', () => {
  it('aborts the handler, records nothing for the job it no longer owns, and the job runs again', async () => {
    const finishFirstRun = gate();
    const firstAborted = gate();
    const runs: { attempt: number; abortedWith?: unknown }[] = [];
    const queue = makeQueue({
      tasks: {
        sync: async (_: null, { attempt, signal }) => {
          const run: { attempt: number; abortedWith?: unknown } = { attempt };
          runs.push(run);
          signal.addEventListener('abort', () => {
            run.abortedWith = signal.reason;
            if (attempt === 1) firstAborted.open();
          });
          // The first run ignores its signal and carries on to the end, as a careless handler would.
          if (attempt === 1) await finishFirstRun.opened;
        },
      },
    });
    const worker = await startWorker(queue, { pollInterval: 100 });
    const completions: Job[] = [];
    worker.on('completed', (e) => completions.push(e.job));
    const started = nextEvent(worker, 'started');
    const job = await queue.enqueue('sync', null);
    await started;

    const lostAt = performance.now();
    await db.query('SELECT pg_terminate_backend($1)', [worker.backendPids.claimer]);
    await firstAborted.opened;
    const detectMs = performance.now() - lostAt;
    expect(runs[0]!.abortedWith).toBeInstanceOf(LockLostError);

    // The careless first run now finishes: its result must not be written.
    finishFirstRun.open();
    const second = await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === job.id);
    expect(second.job.attempts).toBe(2);
    expect(completions).toHaveLength(1);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2]);
    expect((await queue.getJob(job.id))?.state).toBe('completed');
    const interrupted = /interrupted/.test(second.job.errors[0]?.message ?? '');
    recordFigure({
      scenario: 5,
      name: 'claimer connection lost mid-job',
      figure: `handler aborted ${detectMs.toFixed(0)} ms after the backend was terminated; writes by the lost owner 0; job ran again (attempt 2)`,
      pass: completions.length === 1 && interrupted,
    });
    expect(interrupted).toBe(true);
    await worker.stop();
  });
});
