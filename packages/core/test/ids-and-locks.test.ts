import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/index.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

describe('job ids and lock keys', () => {
  for (const [label, start] of [
    ['past 2^31', 2n ** 31n + 5n],
    ['past 2^53', 2n ** 53n + 5n],
  ] as const) {
    it(`claims, completes and reports ids ${label} exactly`, async () => {
      await db.query(`SELECT setval(pg_get_serial_sequence('queue.jobs', 'id'), $1::bigint)`, [
        start.toString(),
      ]);
      const seen: string[] = [];
      const queue = makeQueue({ tasks: { t: async (_: null, { job }) => void seen.push(job.id) } });
      const worker = await startWorker(queue);
      const jobs = await queue.enqueueMany([
        { task: 't', payload: null },
        { task: 't', payload: null },
      ]);
      expect(jobs.map((j) => BigInt(j.id))).toEqual([start + 1n, start + 2n]);
      await new Promise<void>((resolve) => {
        let n = 0;
        worker.on('completed', () => ++n === 2 && resolve());
      });
      expect(seen.sort()).toEqual(jobs.map((j) => j.id).sort());
      expect((await queue.getJob(jobs[0]!.id))?.state).toBe('completed');
      await worker.stop();
    });
  }

  it('keys job locks by a configurable namespace, visible in pg_locks', async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { hold: async () => release.opened }, lockNamespace: 4242 });
    const worker = await startWorker(queue);
    const started = nextEvent<{ job: Job }>(worker, 'started');
    await db.query(`SELECT setval(pg_get_serial_sequence('queue.jobs', 'id'), 1000)`);
    const job = await queue.enqueue('hold', null);
    await started;
    const locks = await db.query(
      `SELECT classid::int8 AS ns, objid::int8 AS id FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND d.datname = $1 AND l.objsubid = 1`,
      [db.name],
    );
    expect(locks).toEqual([{ ns: '4242', id: job.id }]);
    // The application's own advisory lock on the same number is a different lock.
    const [{ got }] = await db.query(`SELECT pg_try_advisory_lock($1::bigint) AS got`, [job.id]);
    expect(got).toBe(true);
    expect((await queue.getJob(job.id))?.state).toBe('running');
    release.open();
    await nextEvent(worker, 'completed');
    await worker.stop();
  });
});
