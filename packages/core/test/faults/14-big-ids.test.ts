import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { gate, queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFaultTables, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const setNextId = (after: bigint) =>
  db.query(`SELECT setval(pg_get_serial_sequence('queue.jobs', 'id'), $1::bigint)`, [after.toString()]);

const ranges = [
  ['past 2^31', 2n ** 31n + 5n],
  ['past 2^53', 2n ** 53n + 5n],
  ['near 2^63', 2n ** 63n - 1_000n],
] as const;

describe('fault 14: big job ids', () => {
  for (const [label, start] of ranges) {
    it(`ids ${label} are claimed, completed and reported exactly, in process and across a process boundary`, async () => {
      // ---- in this process: run, running state, failure, admin retry ----
      await setNextId(start);
      const seen: string[] = [];
      const failedOnce = new Set<string>();
      const release = gate();
      const queue = makeQueue({
        tasks: {
          plain: async (_: null, { job }) => void seen.push(job.id),
          gated: async (_: null, { job }) => {
            seen.push(job.id);
            await release.opened;
          },
          failFirst: {
            maxAttempts: 1,
            handler: async (_: null, { job }) => {
              if (!failedOnce.has(job.id)) {
                failedOnce.add(job.id);
                throw new Error('fails the first time');
              }
              seen.push(job.id);
            },
          },
        },
      });
      const worker = await startWorker(queue);
      const completed: string[] = [];
      worker.on('completed', (e) => completed.push(e.job.id));
      const gatedStarted = nextEvent<{ job: Job }>(worker, 'started', (e) => e.job.task === 'gated');
      // Listing 'running' must not race the cycle that records the other three: wait for it.
      const plainsDone = new Promise<void>((resolve) => {
        let n = 0;
        worker.on('completed', (e) => {
          if (e.job.task === 'plain' && ++n === 2) resolve();
        });
      });
      const failed = nextEvent<{ job: Job }>(worker, 'failed');
      const jobs = await queue.enqueueMany([
        { task: 'plain', payload: null },
        { task: 'plain', payload: null },
        { task: 'gated', payload: null },
        { task: 'failFirst', payload: null },
      ]);
      const ids = jobs.map((j) => j.id);
      const expectedIds = [1n, 2n, 3n, 4n].map((d) => (start + d).toString());
      const [plainA, plainB, gated, failing] = ids as [string, string, string, string];
      expect((await gatedStarted).job.id).toBe(gated);
      const runningState = (await queue.getJob(gated))?.state;
      const failedEvent = (await failed).job.id;
      await plainsDone;
      const listedRunning = (await queue.listJobs({ state: 'running' })).map((j) => j.id);
      const failedState = await queue.getJob(failing);
      const afterFirst = (await queue.listJobs({ after: plainA })).map((j) => j.id);
      const retriedJob = await queue.retryJob(failing);
      const retriedDone = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === failing);
      await retriedDone;
      const gatedDone = nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === gated);
      release.open();
      await gatedDone;
      await worker.stop();
      const inProcessOk =
        JSON.stringify(ids) === JSON.stringify(expectedIds) &&
        runningState === 'running' &&
        JSON.stringify(listedRunning) === JSON.stringify([gated]) &&
        failedEvent === failing &&
        failedState?.state === 'failed' &&
        failedState.id === failing &&
        afterFirst.includes(failing) &&
        afterFirst.includes(gated) &&
        afterFirst.every((id) => BigInt(id) > BigInt(plainA)) &&
        retriedJob.id === failing &&
        [...seen].sort().join() === [...ids].sort().join() &&
        [...completed].sort().join() === [plainA, plainB, gated, failing].sort().join();

      // ---- across the process boundary: a worker process runs jobs and reports their ids ----
      await setNextId(start + 100n);
      const producer = makeQueue({ tasks: { record: async () => {}, flaky: async () => {} } });
      const remote = await producer.enqueueMany([
        { task: 'record', payload: null },
        { task: 'record', payload: null },
        { task: 'flaky', payload: null },
      ]);
      const remoteIds = remote.map((j) => j.id);
      const proc = await spawnFixture('fault-worker.ts', {
        env: { DATABASE_URL: db.url, POLL_INTERVAL: '100' },
      });
      await Promise.all(
        remoteIds.map((id) => proc.event((e) => e.event === 'completed' && e.id === id, `job ${id}`)),
      );
      proc.child.kill('SIGTERM');
      await proc.exited;
      const reported = proc
        .events()
        .filter((e) => e.event === 'completed')
        .map((e) => e.id!);
      const retriedRemote = proc.events().find((e) => e.event === 'retried')?.id;
      const recorded = (await db.query(`SELECT job_id::text AS id FROM effects ORDER BY job_id`)).map(
        (r) => r.id as string,
      );
      const stamped = (await db.query(`SELECT DISTINCT job_id::text AS id FROM stamps`)).map(
        (r) => r.id as string,
      );
      const expectedRemote = [101n, 102n, 103n].map((d) => (start + d).toString());
      const crossOk =
        JSON.stringify(remoteIds) === JSON.stringify(expectedRemote) &&
        JSON.stringify([...reported].sort()) === JSON.stringify([...remoteIds].sort()) &&
        retriedRemote === remoteIds[2] &&
        JSON.stringify(recorded) === JSON.stringify(remoteIds.slice(0, 2)) &&
        JSON.stringify(stamped) === JSON.stringify([remoteIds[2]]);
      const left = (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

      recordFigure({
        scenario: 14,
        name: `big ids ${label}`,
        figure: `ids ${ids[0]}..${remoteIds[2]}: in process (run, 'running' state, failed, retryJob, listJobs after) exact: ${inProcessOk}; worker process reported and recorded ${reported.length}/3 exact (retry included): ${crossOk}; jobs left ${left}`,
        pass: inProcessOk && crossOk && left === 0,
      });
      expect(ids).toEqual(expectedIds);
      expect(runningState).toBe('running');
      expect(listedRunning).toEqual([gated]);
      expect(failedState).toMatchObject({ id: failing, state: 'failed' });
      // Keyset paging past a big id: only larger ids, in order (the running and the failed job among them).
      expect(afterFirst.every((id) => BigInt(id) > BigInt(plainA))).toBe(true);
      expect(afterFirst).toEqual([...afterFirst].sort());
      expect(afterFirst).toEqual(expect.arrayContaining([gated, failing]));
      expect(retriedJob.id).toBe(failing);
      expect([...seen].sort()).toEqual([...ids].sort());
      expect(remoteIds).toEqual(expectedRemote);
      expect([...reported].sort()).toEqual([...remoteIds].sort());
      expect(retriedRemote).toBe(remoteIds[2]);
      expect(recorded).toEqual(remoteIds.slice(0, 2));
      expect(stamped).toEqual([remoteIds[2]]);
      expect(left).toBe(0);
    });
  }
});
