import { nextEvent, useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { ms } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const JOBS = 100;

describe('fault 17: the application pool is exhausted', () => {
  it('does not stall the claimer or the listener, and completions do not need the app pool', async () => {
    const appPool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const ran = new Set<unknown>();
      const tasks = { t: async (payload: unknown) => void ran.add(payload) };
      const app = makeQueue({ pool: appPool, tasks });
      // Polling once a minute: the jobs below are found through the worker's LISTEN session.
      const worker = await startWorker(app, { pollInterval: 60_000, concurrency: 16 });

      // Long-held checkouts take every connection of the app pool...
      const held = [await appPool.connect(), await appPool.connect()];
      // ...so an enqueue through the app's queue has to wait for one.
      let pendingDone = false;
      const pending = app.enqueue('t', 'through the exhausted pool').then((job) => {
        pendingDone = true;
        return job;
      });
      await new Promise((r) => setImmediate(r));
      const waitingBefore = appPool.waitingCount;

      // Jobs enqueued through another Queue (its own pool) are claimed and completed meanwhile.
      const other = makeQueue({ tasks });
      let completed = 0;
      const allDone = new Promise<void>((resolve) =>
        worker.on('completed', () => {
          if (++completed === JOBS) resolve();
        }),
      );
      const t0 = performance.now();
      await other.enqueueMany(
        Array.from({ length: JOBS / 2 }, (_, i) => ({ task: 't' as const, payload: i })),
      );
      await Promise.all(Array.from({ length: JOBS / 2 }, (_, i) => other.enqueue('t', JOBS / 2 + i)));
      await allDone;
      const doneMs = performance.now() - t0;
      // Their completions are recorded (the rows are gone) while the app pool is still exhausted.
      const [{ n: left }] = await db.query(
        `SELECT count(*)::int AS n FROM queue.jobs WHERE payload <> '"through the exhausted pool"'`,
      );
      const during = {
        total: appPool.totalCount,
        idle: appPool.idleCount,
        waiting: appPool.waitingCount,
        pendingDone,
      };

      for (const c of held) c.release();
      const pendingJob = await pending;
      // It runs too (it may have done so already, before this line).
      const pendingRan =
        ran.has('through the exhausted pool') ||
        (await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.id === pendingJob.id, 10_000).then(
          () => true,
          () => false,
        ));
      await worker.stop();

      const pass =
        completed >= JOBS &&
        left === 0 &&
        waitingBefore === 1 &&
        during.total === 2 &&
        during.waiting === 1 &&
        !during.pendingDone &&
        pendingRan;
      recordFigure({
        scenario: 17,
        name: 'connection-pool exhaustion (app pool max 2)',
        figure: `app pool 2/2 checked out, ${during.waiting} enqueue waiting on it: ${JOBS} jobs from another Queue claimed and completed in ${ms(doneMs)} (pollInterval 60 s: woken through LISTEN), rows left ${left}; app pool size stayed ${during.total}; the waiting enqueue went through after release and ran: ${pendingRan}`,
        pass,
      });
      expect(waitingBefore).toBe(1);
      expect(completed).toBeGreaterThanOrEqual(JOBS);
      expect(left).toBe(0);
      expect(during).toEqual({ total: 2, idle: 0, waiting: 1, pendingDone: false });
      expect(pendingRan).toBe(true);
    } finally {
      await appPool.end();
    }
  });
});
