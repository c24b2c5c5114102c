import { readFile } from 'node:fs/promises';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/index.js';
import { Scheduler } from '../src/schedules/scheduler.js';
import { makeNames } from '../src/sql/names.js';

const db = useTestDatabase();
const SCHEDULES = 1_000;
const SECONDS = 10;
const SCHEDULERS = 3;

const pools: pg.Pool[] = [];
beforeEach(() => db.query('TRUNCATE queue.schedules, queue.jobs, queue.job_history'));
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

/** 1,000 schedules on one timing, all due at the same second: the worst burst. */
async function createSchedules(timing: string): Promise<void> {
  await db.query(
    `INSERT INTO queue.schedules (name, task, ${timing.startsWith('cron') ? 'cron, time_zone' : 'interval_ms'},
       catch_up, catch_up_max, next_run_at)
     SELECT 's' || i, 't', ${timing.startsWith('cron') ? `'* * * * * *', 'Europe/Berlin'` : '1000'}, 'each', 100,
       date_trunc('second', now()) + interval '2 seconds'
     FROM generate_series(1, ${SCHEDULES}) i`,
  );
}

const APP = 'schedules-load';

/**
 * CPU time (ms) of the database server processes serving the schedulers (by application_name),
 * from /proc: the database's side of the load. undefined when the server's processes are not
 * visible from here (another machine or a container).
 */
async function schedulerBackendsCpu(): Promise<Map<number, number> | undefined> {
  const rows = await db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [APP]);
  const out = new Map<number, number>();
  for (const { pid } of rows as { pid: number }[]) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || !stat.includes(' (postgres) ')) return undefined;
    // utime and stime, the 12th and 13th fields after the command name, in 10 ms ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return out;
}

/** Runs SCHEDULERS schedulers (each on its own pool, as workers in separate processes) for SECONDS ticks. */
async function measure(label: string) {
  const [{ start }] = await db.query(
    `SELECT (extract(epoch FROM min(next_run_at)) * 1000)::float8 AS start FROM queue.schedules`,
  );
  const schedulers = Array.from({ length: SCHEDULERS }, () => {
    // Connections kept for the whole run, so that their CPU is read at its end.
    const pool = new pg.Pool({
      connectionString: db.url,
      max: 2,
      application_name: APP,
      idleTimeoutMillis: 0,
    });
    pools.push(pool);
    return new Scheduler({
      query: (text, values) => pool.query(text, values),
      names: makeNames(),
      logger: silentLogger,
    });
  });
  // Each pool's connections open before the clock starts (a backend that appears later counts whole).
  await Promise.all(pools.slice(-SCHEDULERS).flatMap((p) => [p.query('SELECT 1'), p.query('SELECT 1')]));
  const dbBefore = await schedulerBackendsCpu();
  const cpu = process.cpuUsage();
  for (const s of schedulers) s.start();
  const end = start + (SECONDS - 1) * 1000;
  await waitFor(
    `${SECONDS} ticks of every schedule`,
    async () => {
      const [r] = await db.query(
        `SELECT count(*)::int AS n FROM queue.schedules WHERE last_run_at IS NULL OR last_run_at < to_timestamp($1 / 1000.0)`,
        [end],
      );
      return r.n === 0;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await Promise.all(schedulers.map((s) => s.stop()));
  const usage = process.cpuUsage(cpu);
  const dbAfter = await schedulerBackendsCpu();
  let dbCpuMs: number | undefined;
  if (dbBefore && dbAfter) {
    dbCpuMs = 0;
    for (const [pid, ms] of dbAfter) dbCpuMs += ms - (dbBefore.get(pid) ?? 0);
  }
  const [counts] = await db.query(
    `SELECT count(*)::int AS jobs, count(DISTINCT (meta ->> 'schedule', meta ->> 'scheduledAt'))::int AS ticks,
       count(*) FILTER (WHERE (meta ->> 'scheduledAt')::timestamptz <= to_timestamp($1 / 1000.0))::int AS in_window
     FROM queue.jobs`,
    [end],
  );
  const stats = schedulers.map((s) => s.stats);
  const statements = stats.reduce((a, s) => a + s.statements, 0);
  const ms = stats.reduce((a, s) => a + s.statementMs, 0);
  const figure = {
    label,
    jobs: counts.jobs,
    distinctTicks: counts.ticks,
    inWindow: counts.in_window,
    statementsPerSecondPerScheduler: +(statements / SECONDS / SCHEDULERS).toFixed(1),
    statementMsPerSecondAllSchedulers: Math.round(ms / SECONDS),
    cpuMsPerSecondAllSchedulers: Math.round((usage.user + usage.system) / 1000 / SECONDS),
    // The database's CPU serving them, per second of schedule time (null: not readable from here).
    dbCpuMsPerSecondAllSchedulers: dbCpuMs === undefined ? null : Math.round(dbCpuMs / SECONDS),
    jobsPerScheduler: stats.map((s) => s.jobs),
  };
  console.log(`[schedules load] ${JSON.stringify(figure)}`);
  return figure;
}

describe('1,000 schedules at one-second intervals, 3 schedulers', () => {
  it('interval schedules: one job per schedule and tick, a few statements per second', async () => {
    await createSchedules('interval');
    const f = await measure('every 1000 ms');
    expect(f.jobs).toBe(f.distinctTicks);
    expect(f.inWindow).toBe(SCHEDULES * SECONDS);
    expect(f.statementsPerSecondPerScheduler).toBeLessThan(10);
  });

  it("cron '* * * * * *' in Europe/Berlin: the same", async () => {
    await createSchedules('cron');
    const f = await measure("cron '* * * * * *' Europe/Berlin");
    expect(f.jobs).toBe(f.distinctTicks);
    expect(f.inWindow).toBe(SCHEDULES * SECONDS);
    expect(f.statementsPerSecondPerScheduler).toBeLessThan(10);
  });

  it('for scale: enqueueMany of 1,000 plain jobs, the insert a tick of all 1,000 schedules amounts to', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pools.push(pool);
    const rows = Array.from({ length: 1_000 }, () => 't');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await pool.query(
        `INSERT INTO queue.jobs (task, payload) SELECT t, 'null' FROM unnest($1::text[]) AS t RETURNING id`,
        [rows],
      );
      times.push(performance.now() - t0);
    }
    console.log(
      `[schedules load] plain insert of 1,000 jobs: ${times.map((t) => Math.round(t)).join(', ')} ms`,
    );
  });
});
