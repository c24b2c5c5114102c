import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { type Job, JobTimeoutError } from '../../src/index.js';
import { emptyClaims, gate, queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('fault 11: job timeouts', () => {
  it('aborts a job past its timeout and never runs it twice at the same time', async () => {
    const release = gate();
    let running = 0;
    let peak = 0;
    const reasons: unknown[] = [];
    const queue = makeQueue({
      tasks: {
        slow: {
          timeout: 100,
          maxAttempts: 2,
          backoff: () => 0,
          handler: async (_: null, { attempt, signal }) => {
            running++;
            peak = Math.max(peak, running);
            signal.addEventListener('abort', () => reasons.push(signal.reason));
            // Attempt 1 ignores its signal until the test lets it go; attempt 2 is quick.
            if (attempt === 1) await release.opened;
            running--;
          },
        },
      },
    });
    // Two workers polling fast: either could take the job the moment it were released.
    const a = await startWorker(queue, { pollInterval: 20 });
    const b = await startWorker(queue, { pollInterval: 20 });
    const retried = new Promise<Job>((resolve) => {
      a.on('retried', (e) => resolve(e.job));
      b.on('retried', (e) => resolve(e.job));
    });
    const done = new Promise<Job>((resolve) => {
      a.on('completed', (e) => resolve(e.job));
      b.on('completed', (e) => resolve(e.job));
    });
    const started = Promise.race([nextEvent(a, 'started'), nextEvent(b, 'started')]);
    await queue.enqueue('slow', null);
    await started;
    // Well past the timeout, and many polls later, the first attempt still holds the job.
    await Promise.all([emptyClaims(a, 10), emptyClaims(b, 10)]);
    const abortedInTime = reasons.length === 1 && reasons[0] instanceof JobTimeoutError;
    const heldWhileRunning = (await queue.getJob((await queue.listJobs())[0]!.id))?.state === 'running';
    release.open();
    await retried;
    const final = await done;
    recordFigure({
      scenario: 11,
      name: 'job timeout',
      figure: `aborted with JobTimeoutError: ${abortedInTime}; held until the handler returned: ${heldWhileRunning}; most runs at once ${peak}; completed on attempt ${final.attempts}; timeouts over 2^31-1 ms refused at setup`,
      pass: abortedInTime && heldWhileRunning && peak === 1 && final.attempts === 2,
    });
    expect(abortedInTime).toBe(true);
    expect(heldWhileRunning).toBe(true);
    expect(peak).toBe(1);
    expect(final.errors.at(-1)?.message).toMatch(/timeout of 100 ms/);
    expect(final.attempts).toBe(2);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('refuses timeouts that timers cannot hold (over 2^31 - 1 ms)', () => {
    for (const timeout of [2 ** 31, 2 ** 40, 1.5, 0, -1]) {
      expect(() => makeQueue({ tasks: { t: { timeout, handler: async () => {} } } })).toThrow(
        /tasks.t.timeout/,
      );
    }
    expect(() =>
      makeQueue({ tasks: { t: { timeout: 2 ** 31 - 1, handler: async () => {} } } }),
    ).not.toThrow();
  });
});
