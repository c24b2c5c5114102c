import { useTestDatabase } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFaultTables, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const MAX_ATTEMPTS = 3;

describe('fault 10: a poison job that kills its process every time', () => {
  it('ends as failed after its max attempts, each death on record', async () => {
    const producer = makeQueue({ tasks: { poison: async () => {} } });
    const job = await producer.enqueue('poison', null, { maxAttempts: MAX_ATTEMPTS });
    let deaths = 0;
    let finalWorker: Awaited<ReturnType<typeof spawnFixture>> | undefined;
    // Each new worker process picks the job up again; the last one finds it used up.
    for (let spawned = 0; spawned <= MAX_ATTEMPTS + 1 && !finalWorker; spawned++) {
      const worker = await spawnFixture('fault-worker.ts', {
        env: { DATABASE_URL: db.url, POISON_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
      });
      const outcome = await Promise.race([
        worker.exited,
        worker.event((e) => e.event === 'failed' && e.id === job.id, 'the job to be failed'),
      ]);
      if ('event' in outcome) finalWorker = worker;
      else if (outcome.signal === 'SIGKILL') deaths++;
      else throw new Error(`the worker process exited with ${outcome.code ?? outcome.signal}`);
    }
    finalWorker?.child.kill('SIGTERM');
    const exit = await finalWorker?.exited;
    const stored = await producer.getJob(job.id);
    const attemptsOnRecord = stored?.errors.map((e) => e.attempt) ?? [];
    const interrupted = stored?.errors.filter((e) => /interrupted/.test(e.message)).length ?? 0;
    recordFigure({
      scenario: 10,
      name: 'poison job (kills its process)',
      figure: `process deaths ${deaths}; final state ${stored?.state} with attempts ${stored?.attempts}/${MAX_ATTEMPTS}, errors for attempts [${attemptsOnRecord.join(', ')}] "interrupted" ${interrupted}/${attemptsOnRecord.length}; the next process survived and stopped by ${exit?.signal ?? exit?.code}`,
    });
    expect(deaths).toBe(MAX_ATTEMPTS);
    expect(stored).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
    expect(stored!.failedAt).toBeInstanceOf(Date);
    expect(attemptsOnRecord).toEqual([1, 2, 3]);
    expect(interrupted).toBe(MAX_ATTEMPTS);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
