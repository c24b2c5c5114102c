import { nextEvent, useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Job, Worker } from '../../src/index.js';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

/** Resolves once the worker's claim statement is waiting for a row lock. */
async function claimWaitsOnRowLock(worker: Worker): Promise<void> {
  const pid = worker.backendPids.claimer;
  await waitFor('the claim to wait on the row lock', async () => {
    const [row] = await db.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
    return row?.wait_event_type === 'Lock';
  });
}

const jobLocks = async () =>
  (
    await db.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND d.datname = $1`,
      [db.name],
    )
  )[0].n as number;

describe('fault 3: MVCC race between a claim snapshot and its lock', () => {
  // The previous holder's DELETE (or retry UPDATE) is made but not committed when the claim
  // takes its snapshot; the advisory lock is free, so the claim locks the row it still sees.
  // Only the re-check after locking stands between that and running the job again.
  for (const [change, sql, expectRow] of [
    ['completed and deleted', 'DELETE FROM queue.jobs WHERE id = $1', false],
    ['retried for later', `UPDATE queue.jobs SET run_at = now() + interval '1 hour' WHERE id = $1`, true],
  ] as const) {
    it(`a job ${change} by its holder after the snapshot is never run`, async () => {
      const started: Job[] = [];
      const queue = makeQueue({ tasks: { t: async () => {} } });
      const job = await queue.enqueue('t', null);
      const holder = new pg.Client(db.url);
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(sql, [job.id]);
        const worker = queue.worker({ pollInterval: 60_000 });
        worker.on('started', (e) => started.push(e.job));
        const claimed = nextEvent<{ count: number }>(worker, 'claimed');
        await worker.start();
        await claimWaitsOnRowLock(worker);
        await holder.query('COMMIT');
        const { count } = await claimed;
        const locksAfter = await jobLocks();
        recordFigure({
          scenario: 3,
          name: `MVCC race (${change})`,
          figure: `claimed ${count}, runs ${started.length}, job locks left ${locksAfter}`,
          pass: count === 0 && started.length === 0 && locksAfter === 0,
        });
        expect(count).toBe(0);
        expect(started).toEqual([]);
        expect(locksAfter).toBe(0);
        expect((await queue.getJob(job.id)) !== null).toBe(expectRow);
        await worker.stop();
      } finally {
        await holder.end();
      }
    });
  }
});
