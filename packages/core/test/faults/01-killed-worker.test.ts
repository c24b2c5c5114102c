import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { countRows, createFaultTables, ms, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const JOBS = 50;
const POLL_MS = 100;

describe('fault 1: a worker process holding 50 running jobs is killed with SIGKILL', () => {
  it('a second worker finishes all 50, each effect once, within a poll interval of the kill', async () => {
    const producer = makeQueue({ tasks: { hold: async () => {} } });
    const jobs = await producer.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ task: 'hold' as const, payload: i })),
    );
    const victim = await spawnFixture('fault-worker.ts', {
      env: { DATABASE_URL: db.url, CONCURRENCY: String(JOBS) },
    });
    await waitFor(
      'all 50 jobs to be running in the victim',
      async () => (await countRows(db, 'started')) === JOBS,
    );
    expect((await producer.countJobs())[0]).toMatchObject({ running: JOBS, available: 0 });

    // The rescuer is already running (and polling every 100 ms) when the victim dies: what is
    // measured is how soon the dead worker's jobs are free, not how fast a worker boots.
    const starts: number[] = [];
    const finished: Job[] = [];
    const rescuer = makeQueue({
      tasks: {
        hold: async (_: number, { job }) => {
          const { rowCount } = await producer.pool.query(
            'INSERT INTO effects (job_id, pid, attempt) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
            [job.id, process.pid, job.attempts],
          );
          if (rowCount === 0) {
            await producer.pool.query('INSERT INTO duplicates (job_id, pid) VALUES ($1, $2)', [
              job.id,
              process.pid,
            ]);
          }
        },
      },
    });
    const worker = await startWorker(rescuer, { concurrency: JOBS, pollInterval: POLL_MS });
    worker.on('started', () => starts.push(performance.now()));
    const allDone = new Promise<void>((resolve) =>
      worker.on('completed', (e) => {
        finished.push(e.job);
        if (finished.length === JOBS) resolve();
      }),
    );

    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    await allDone;
    await worker.stop();

    const firstMs = starts[0]! - killedAt;
    const lastMs = starts[JOBS - 1]! - killedAt;
    const effects = await countRows(db, 'effects');
    const duplicates = await countRows(db, 'duplicates');
    const left = await countRows(db, 'queue.jobs');
    // Each job's interrupted first attempt is on record and counted: the rescuer ran attempt 2.
    const secondAttempts = finished.filter(
      (j) => j.attempts === 2 && /interrupted/.test(j.errors[0]?.message ?? ''),
    ).length;
    recordFigure({
      scenario: 1,
      name: 'killed worker (SIGKILL, 50 jobs)',
      figure: `kill -> first restart ${ms(firstMs)}, -> 50th restart ${ms(lastMs)} (rescuer pollInterval ${POLL_MS} ms); effects ${effects}/${JOBS}, duplicates ${duplicates}, second attempts after "interrupted" ${secondAttempts}, left ${left}`,
    });
    expect(starts).toHaveLength(JOBS);
    expect(effects).toBe(JOBS);
    expect(duplicates).toBe(0);
    expect(new Set(finished.map((j) => j.id))).toEqual(new Set(jobs.map((j) => j.id)));
    expect(secondAttempts).toBe(JOBS);
    expect(left).toBe(0);
    // No lease to wait out: the locks died with the victim's connection.
    expect(lastMs).toBeLessThan(1_000);
  });
});
