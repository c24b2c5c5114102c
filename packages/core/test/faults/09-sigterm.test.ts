import { expectNoAdvisoryLocks, type TestDatabase, useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobContext } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { countRows, createFaultTables, ms, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const SHORT = 4;
const LONG = 2;

/** The second worker: same tasks, each run marked in `active` and its effect recorded once. */
function rescuerTasks(database: TestDatabase) {
  const run = async (_: null, { job }: JobContext) => {
    const [mark] = await database.query(
      'INSERT INTO active (job_id, pid) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS ok',
      [job.id, process.pid],
    );
    if (!mark)
      await database.query('INSERT INTO double_runs (job_id, pid) VALUES ($1, $2)', [job.id, process.pid]);
    const [fx] = await database.query(
      'INSERT INTO effects (job_id, pid, attempt) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS ok',
      [job.id, process.pid, job.attempts],
    );
    if (!fx)
      await database.query('INSERT INTO duplicates (job_id, pid) VALUES ($1, $2)', [job.id, process.pid]);
    await database.query('DELETE FROM active WHERE job_id = $1 AND pid = $2', [job.id, process.pid]);
  };
  return { short: run, long: run };
}

async function setUp(env: Record<string, string>) {
  const producer = makeQueue({ tasks: rescuerTasks(db) });
  const shorts = await Promise.all(Array.from({ length: SHORT }, () => producer.enqueue('short', null)));
  const longs = await Promise.all(Array.from({ length: LONG }, () => producer.enqueue('long', null)));
  const victim = await spawnFixture('fault-worker.ts', {
    env: { DATABASE_URL: db.url, CONCURRENCY: '8', ...env },
  });
  await waitFor(
    'all jobs to be running in the victim',
    async () => (await countRows(db, 'active')) === SHORT + LONG,
  );
  return { producer, shorts, longs, victim };
}

/** The only LISTEN session in this database is the victim's: its end is the first step of stop(). */
const victimListening = async () =>
  (
    await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'queue-listener'`,
      [db.name],
    )
  )[0].n > 0;

/** After the victim is gone: every job is available again (none running, failed or lost). */
async function consistentAfterExit(ids: string[]) {
  const jobs = await db.query<{
    id: string;
    attempts: number;
    failed_at: Date | null;
    errors: { message: string }[];
  }>(
    'SELECT id::text, attempts, failed_at, errors FROM queue.jobs WHERE id = ANY($1::bigint[]) ORDER BY id',
    [ids],
  );
  return jobs;
}

async function rescue(ids: string[]) {
  const rescuer = makeQueue({ tasks: rescuerTasks(db) });
  const worker = await startWorker(rescuer, { concurrency: 8, pollInterval: 100 });
  const done: Job[] = [];
  const all = new Promise<void>((resolve) =>
    worker.on('completed', (e) => {
      if (ids.includes(e.job.id)) done.push(e.job);
      if (done.length === ids.length) resolve();
    }),
  );
  await all;
  await worker.stop();
  return done;
}

describe('fault 9: SIGTERM to a worker process (handleSignals, shutdownTimeout 1000 ms)', () => {
  it('short jobs finish within the grace period; long ones are aborted and run again on a second worker', async () => {
    const { shorts, longs, victim } = await setUp({ SHUTDOWN_TIMEOUT: '1000', SHORT_MS: '400' });
    const sigAt = performance.now();
    victim.child.kill('SIGTERM');
    const exit = await victim.exited;
    const exitMs = performance.now() - sigAt;
    const events = victim.events();
    const shortIds = shorts.map((j) => j.id);
    const longIds = longs.map((j) => j.id);
    const shortDone = events.filter((e) => e.event === 'completed' && shortIds.includes(e.id!));
    const longRetried = events.filter(
      (e) => e.event === 'retried' && longIds.includes(e.id!) && e.delayMs === 0,
    );
    const shortDoneMs = Math.max(...shortDone.map((e) => e.at! - sigAt));
    const left = await consistentAfterExit([...shortIds, ...longIds]);
    await expectNoAdvisoryLocks(db);

    const rerun = await rescue(longIds);
    const effects = await countRows(db, 'effects');
    const duplicates = await countRows(db, 'duplicates');
    const doubleRuns = await countRows(db, 'double_runs');
    const remaining = await countRows(db, 'queue.jobs');
    const consistent =
      left.length === LONG &&
      left.every(
        (j) => j.failed_at === null && j.attempts === 1 && /shutting down/.test(j.errors[0]?.message ?? ''),
      );
    const pass =
      exit.signal === 'SIGTERM' &&
      shortDone.length === SHORT &&
      shortDoneMs < 1_000 &&
      longRetried.length === LONG &&
      consistent &&
      rerun.every((j) => j.attempts === 2) &&
      effects === SHORT + LONG &&
      duplicates === 0 &&
      doubleRuns === 0 &&
      remaining === 0;
    recordFigure({
      scenario: 9,
      name: 'SIGTERM: grace period',
      figure: `short ${shortDone.length}/${SHORT} finished by ${ms(shortDoneMs)} after SIGTERM; long ${longRetried.length}/${LONG} aborted and re-run on attempt 2 elsewhere; process exited by ${exit.signal ?? exit.code} after ${ms(exitMs)}; effects ${effects}/${SHORT + LONG}, duplicates ${duplicates}, double runs ${doubleRuns}, locks left 0`,
      pass,
    });
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(shortDone).toHaveLength(SHORT);
    expect(shortDoneMs).toBeLessThan(1_000);
    expect(longRetried).toHaveLength(LONG);
    expect(consistent).toBe(true);
    expect(rerun.map((j) => j.attempts)).toEqual([2, 2]);
    expect([effects, duplicates, doubleRuns, remaining]).toEqual([SHORT + LONG, 0, 0, 0]);
  });

  it('a second SIGTERM during shutdown aborts at once, and leaves every job consistent', async () => {
    // Without the second signal the short jobs would finish at 2 s and the long ones be aborted at 10 s.
    const { shorts, longs, victim } = await setUp({ SHUTDOWN_TIMEOUT: '10000', SHORT_MS: '2000' });
    const ids = [...shorts, ...longs].map((j) => j.id);
    const sigAt = performance.now();
    victim.child.kill('SIGTERM');
    await waitFor('the victim to begin its shutdown', async () => !(await victimListening()));
    const secondAt = performance.now();
    victim.child.kill('SIGTERM');
    const exit = await victim.exited;
    const exitMs = performance.now() - secondAt;
    const retried = victim.events().filter((e) => e.event === 'retried' && e.delayMs === 0);
    const byVictim = await countRows(db, 'effects');
    const left = await consistentAfterExit(ids);
    await expectNoAdvisoryLocks(db);
    const consistent =
      left.length === ids.length &&
      left.every(
        (j) => j.failed_at === null && j.attempts === 1 && /shutting down/.test(j.errors[0]?.message ?? ''),
      );

    const rerun = await rescue(ids);
    const effects = await countRows(db, 'effects');
    const duplicates = await countRows(db, 'duplicates');
    const doubleRuns = await countRows(db, 'double_runs');
    const remaining = await countRows(db, 'queue.jobs');
    const pass =
      exit.signal === 'SIGTERM' &&
      exitMs < 2_000 &&
      byVictim === 0 &&
      retried.length === ids.length &&
      consistent &&
      effects === ids.length &&
      duplicates === 0 &&
      doubleRuns === 0 &&
      remaining === 0;
    recordFigure({
      scenario: 9,
      name: 'SIGTERM twice',
      figure: `second SIGTERM ${ms(secondAt - sigAt)} after the first: exited by ${exit.signal ?? exit.code} ${ms(exitMs)} later; ${retried.length}/${ids.length} jobs aborted and recorded as available (attempt 1, "shutting down"); re-run elsewhere ${rerun.length}; lost ${ids.length - effects}, duplicates ${duplicates}, double runs ${doubleRuns}, locks left 0`,
      pass,
    });
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(exitMs).toBeLessThan(2_000);
    expect(byVictim).toBe(0);
    expect(retried).toHaveLength(ids.length);
    expect(consistent).toBe(true);
    expect([effects, duplicates, doubleRuns, remaining]).toEqual([ids.length, 0, 0, 0]);
  });
});
