import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFlowTables, maxOverlap, runs } from './flow-kit.js';
import { type Spawned, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFlowTables(db));

const JOBS = 600;
const LIMIT = 5;
const PROCESSES = 4;
const CONCURRENCY = 16;
const RUN_MS = 20;

const dbNow = async () =>
  (await db.query('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS t'))[0].t as number;

describe('fault 25: a global concurrency limit across processes', () => {
  it('4 processes x concurrency 16, limit 5, two SIGKILLs: never more than 5 at once; every job done once', async () => {
    const producer = makeQueue({ tasks: { run: async () => {} } });
    await producer.registerTasks();
    await producer.setLimits('default', { concurrency: LIMIT });
    const spawn = () =>
      spawnFixture('flow-worker.ts', { env: { DATABASE_URL: db.url, CONCURRENCY: String(CONCURRENCY) } });
    const workers: Spawned[] = await Promise.all(Array.from({ length: PROCESSES }, spawn));
    const t0 = performance.now();
    // Jobs 100-104 and 300-304 run for 2 s: the kills below wait for a process running one, so
    // each kill lands while its process holds a slot. (A kill timed on any running 20 ms job
    // missed it in a CI run: the job had ended by the time the signal was sent.)
    const LONG_MS = 2_000;
    const isLong = (i: number) => (i >= 100 && i < 105) || (i >= 300 && i < 305);
    const jobs = await producer.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({
        task: 'run' as const,
        payload: { ms: isLong(i) ? LONG_MS : RUN_MS },
      })),
    );
    const longIds = jobs.filter((_, i) => isLong(i)).map((j) => j.id);
    // Kill two processes while they hold slots (each after some of the jobs have run): their
    // sessions die, Postgres frees their slots and job locks, and a new process takes over.
    const killedAt = new Map<number, number>();
    for (const after of [100, 300]) {
      await waitFor(
        `${after} runs`,
        async () => (await db.query('SELECT count(*)::int AS n FROM flow_runs'))[0].n >= after,
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      // A live process running one of the 2 s jobs, so holding a slot: Postgres must free it
      // with the session.
      const pid = await waitFor(
        'a process running a 2 s job',
        async () =>
          (
            await db.query(
              `SELECT pid FROM flow_runs WHERE ended IS NULL AND job_id = ANY($1::bigint[])
                 AND pid <> ALL($2::int[]) ORDER BY started DESC LIMIT 1`,
              [longIds, [...killedAt.keys()]],
            )
          )[0]?.pid as number | undefined,
        { timeoutMs: 30_000, intervalMs: 5 },
      );
      const w = workers.find((x) => x.pid === pid)!;
      killedAt.set(w.pid, await dbNow());
      w.child.kill('SIGKILL');
      await w.exited;
      workers.push(await spawn());
    }
    await waitFor(
      'every job done',
      async () => (await db.query('SELECT count(*)::int AS n FROM queue.jobs'))[0].n === 0,
      {
        timeoutMs: 60_000,
        intervalMs: 50,
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const all = await runs(db);
    const overlap = maxOverlap(all, killedAt);
    const finished = all.filter((r) => r.end !== null);
    const once = new Set(finished.map((r) => r.job)).size;
    // A job whose handler had ended when its process was killed, before its finish committed,
    // runs again (at-least-once, as without limits): allowed only for the killed processes' runs.
    const again = finished.length - once;
    const firstRuns = new Map<string, number>();
    let againOutsideKills = 0;
    for (const r of finished) {
      const pid = firstRuns.get(r.job);
      if (pid === undefined) firstRuns.set(r.job, r.pid);
      else if (!killedAt.has(pid)) againOutsideKills++;
    }
    const interrupted = all.length - finished.length;
    const [{ n: history }] = await db.query(
      `SELECT count(DISTINCT id)::int AS n FROM queue.job_history WHERE outcome = 'completed'`,
    );
    recordFigure({
      scenario: 25,
      name: 'global limit 5 (4 procs x 16, 2 SIGKILLs)',
      figure: `max overlap ${overlap} (limit ${LIMIT}); done ${once}/${JOBS}, run again after a kill ${again}, interrupted by kills ${interrupted}; ${(JOBS / seconds).toFixed(0)} jobs/s (at most ${((LIMIT * 1000) / RUN_MS).toFixed(0)})`,
    });
    expect(overlap).toBe(LIMIT);
    expect(once).toBe(JOBS);
    expect(againOutsideKills).toBe(0);
    expect(interrupted).toBeGreaterThan(0);
    expect(history).toBe(JOBS);
    const alive = workers.filter((w) => !killedAt.has(w.pid));
    for (const w of alive) w.child.kill('SIGTERM');
    await Promise.all(alive.map((w) => w.exited));
  }, 90_000);
});
