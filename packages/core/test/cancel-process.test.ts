import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { spawnFixture, useProcessCleanup } from './faults/process-kit.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();

describe('cancelJob on a job running in another worker process', () => {
  it("reaches that worker, which aborts the handler's signal with JobCancelledError within a second", async () => {
    const queue = makeQueue({ tasks: { watch: async () => {} } });
    const proc = await spawnFixture('cancel-worker.ts', { env: { DATABASE_URL: db.url } });
    const job = await queue.enqueue('watch', null);
    await proc.event((e) => e.event === 'started' && e.id === job.id, 'the job to start');
    const t0 = performance.now();
    expect(await queue.cancelJob(job.id)).toMatchObject({ state: 'cancelling', job: { id: job.id } });
    const line = await proc.line((l) => l.startsWith('aborted '), 'the handler to be aborted');
    const ms = performance.now() - t0;
    expect(JSON.parse(line.slice(8))).toEqual({
      id: job.id,
      name: 'JobCancelledError',
      code: 'QUEUE_JOB_CANCELLED',
    });
    expect(ms).toBeLessThan(1_000);
    proc.child.kill('SIGTERM');
    await proc.exited;
    await db.query('TRUNCATE queue.job_history');
  });

  it('records the outcome cancelled, and does not run the job again', async () => {
    const queue = makeQueue({ tasks: { watch: async () => {} } });
    const proc = await spawnFixture('cancel-worker.ts', { env: { DATABASE_URL: db.url } });
    const job = await queue.enqueue('watch', null);
    await proc.event((e) => e.event === 'started' && e.id === job.id, 'the job to start');
    await queue.cancelJob(job.id);
    await expect(queue.waitFor(job.id, { timeout: 5_000 })).rejects.toMatchObject({
      name: 'JobCancelledError',
    });
    const rows = await db.query('SELECT outcome, attempts, worker IS NOT NULL AS ran FROM queue.job_history');
    expect(rows).toEqual([{ outcome: 'cancelled', attempts: 1, ran: true }]);
    expect(await db.query('SELECT id FROM queue.jobs')).toEqual([]);
    proc.child.kill('SIGTERM');
    await proc.exited;
    expect(proc.events().filter((e) => e.event === 'started')).toHaveLength(1);
    expect(proc.events().some((e) => e.event === 'retried' || e.event === 'failed')).toBe(false);
    await db.query('TRUNCATE queue.job_history');
  });
});
