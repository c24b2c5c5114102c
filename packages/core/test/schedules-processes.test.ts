import { pathToFileURL } from 'node:url';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SchedulerStats } from '../src/schedules/scheduler.js';
import { fixturePath, type Spawned, spawnFixture, useProcessCleanup } from './faults/process-kit.js';

const db = useTestDatabase();
useProcessCleanup();
beforeEach(() =>
  db.query(`
    TRUNCATE queue.schedules, queue.jobs, queue.job_history;
    DROP TABLE IF EXISTS schedule_runs;
    CREATE UNLOGGED TABLE schedule_runs (job_id bigint NOT NULL, tick timestamptz, pid int NOT NULL);`),
);

const HOUR = 3_600_000;

/** A worker process declaring the per-second schedule; `skew` shifts its Date by that many ms. */
function spawnWorker(skew = 0): Promise<Spawned> {
  return spawnFixture('schedule-worker.ts', {
    env: { DATABASE_URL: db.url, CLOCK_SKEW_MS: String(skew) },
    nodeArgs: skew === 0 ? [] : ['--import', pathToFileURL(fixturePath('clock-skew.ts')).href],
  });
}

/** The latest tick fired so far (database clock, epoch ms), or 0. */
async function lastTick(): Promise<number> {
  const [r] = await db.query(
    `SELECT (extract(epoch FROM last_run_at) * 1000)::float8 AS t FROM queue.schedules WHERE name = 'everySecond'`,
  );
  return r?.t ?? 0;
}

const untilTick = (what: string, atLeast: number) =>
  waitFor(what, async () => (await lastTick()) >= atLeast, { timeoutMs: 30_000, intervalMs: 50 });

describe('recurring jobs across processes', () => {
  it('a per-second schedule over ~10 s, 3 processes (one SIGKILLed and restarted, two with clocks 1 h off): exactly one job per tick', async () => {
    let [plain, ahead, behind] = await Promise.all([spawnWorker(), spawnWorker(HOUR), spawnWorker(-HOUR)]);
    const first = await waitFor('the first tick', lastTick, { timeoutMs: 30_000, intervalMs: 50 });

    // Run together for 3 ticks, then kill the process with the right clock: for the next 3
    // ticks only the two with skewed clocks fire, then it comes back (a crash and a redeploy).
    await untilTick('3 ticks with all three', first + 3_000);
    plain!.child.kill('SIGKILL');
    await plain!.exited;
    const killedAt = await lastTick();
    await untilTick('3 ticks without the killed process', killedAt + 3_000);
    plain = await spawnWorker();
    const back = await lastTick();
    await untilTick('4 more ticks with all three', Math.max(back + 4_000, first + 10_000));

    const stats = await Promise.all(
      [plain!, ahead!, behind!].map(async (p) => {
        p.child.kill('SIGTERM');
        const line = await p.line((l) => l.startsWith('stats '), 'its stats');
        await p.exited;
        return JSON.parse(line.slice(6)) as SchedulerStats;
      }),
    );

    const jobs = await db.query<{ tick: number; jobs: number; late_ms: number }>(
      `SELECT (extract(epoch FROM tick) * 1000)::float8 AS tick, count(*)::int AS jobs,
         max(extract(epoch FROM created_at - tick) * 1000)::float8 AS late_ms
       FROM (SELECT (meta ->> 'scheduledAt')::timestamptz AS tick, created_at FROM queue.jobs
               WHERE meta ->> 'schedule' = 'everySecond'
             UNION ALL
             SELECT (meta ->> 'scheduledAt')::timestamptz, created_at FROM queue.job_history
               WHERE meta ->> 'schedule' = 'everySecond') j
       GROUP BY tick ORDER BY tick`,
    );
    const [row] = await db.query(
      `SELECT (extract(epoch FROM created_at) * 1000)::float8 AS created, (extract(epoch FROM last_run_at) * 1000)::float8 AS last
       FROM queue.schedules WHERE name = 'everySecond'`,
    );
    const ticks = jobs.map((j) => j.tick);
    const span = (ticks.at(-1)! - ticks[0]!) / 1000 + 1;
    const doubled = jobs.filter((j) => j.jobs > 1).length;
    const late = jobs.map((j) => j.late_ms).sort((a, b) => a - b);
    console.log(
      `[schedules] ${jobs.length} ticks over ${span} s: missing ${span - jobs.length}, doubled ${doubled}; ` +
        `job inserted after its tick: median ${Math.round(late[late.length >> 1]!)} ms, max ${Math.round(late.at(-1)!)} ms; ` +
        `jobs fired per process (plain after restart, +1 h, -1 h): ${stats.map((s) => s.jobs).join(', ')}; ` +
        `scheduler statements per process: ${stats.map((s) => s.statements).join(', ')}`,
    );

    expect(span).toBeGreaterThanOrEqual(11);
    // Every second from the first tick to the last has exactly one job.
    expect(jobs.every((j) => j.jobs === 1)).toBe(true);
    expect(jobs.length).toBe(span);
    expect(ticks).toEqual(ticks.map((_, i) => ticks[0]! + i * 1000));
    // The first tick is the first second after the schedule was created, the last is last_run_at.
    expect(ticks[0]! - row.created).toBeGreaterThan(-1000);
    expect(ticks[0]! - row.created).toBeLessThanOrEqual(1000);
    expect(ticks.at(-1)).toBe(row.last);
    // The database clock decided: no process fired a tick early, or an hour late.
    expect(late[0]).toBeGreaterThanOrEqual(0);
    expect(late.at(-1)).toBeLessThan(5_000);
    // The skewed processes fired ticks (alone, while the other was dead).
    expect(stats[1]!.jobs + stats[2]!.jobs).toBeGreaterThanOrEqual(3);
  });
});
