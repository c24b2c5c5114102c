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

const A_JOBS = 100_000;
const B_JOBS = 10;
const PROCESSES = 2;
const CONCURRENCY = 16;

describe('fault 28: fairness across keys', () => {
  it('tenant A enqueues 100,000 jobs, then tenant B 10: B starts within a bound, not after A', async () => {
    const producer = makeQueue({ tasks: { run: { concurrencyKey: 'key', handler: async () => {} } } });
    await producer.registerTasks();
    await producer.setLimits('default', { fair: true });
    for (let i = 0; i < A_JOBS; i += 10_000) {
      await producer.enqueueMany(
        Array.from({ length: 10_000 }, () => ({ task: 'run' as const, payload: { ms: 1, key: 'A' } })),
      );
    }
    const workers = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        spawnFixture('flow-worker.ts', { env: { DATABASE_URL: db.url, CONCURRENCY: String(CONCURRENCY) } }),
      ),
    );
    await waitFor(
      'A draining',
      async () => (await db.query('SELECT count(*)::int AS n FROM flow_runs'))[0].n >= 500,
      {
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    await producer.enqueueMany(
      Array.from({ length: B_JOBS }, () => ({ task: 'run' as const, payload: { ms: 1, key: 'B' } })),
    );
    const [{ enqueued }] = await db.query(
      `SELECT (extract(epoch FROM max(created_at)) * 1000)::float8 AS enqueued FROM queue.jobs WHERE concurrency_key = 'B'`,
    );
    await waitFor(
      'B started',
      async () =>
        (await db.query(`SELECT count(*)::int AS n FROM flow_runs WHERE key = 'B'`))[0].n === B_JOBS,
      {
        timeoutMs: 30_000,
        intervalMs: 20,
      },
    );
    const [r] = await db.query(
      `SELECT (extract(epoch FROM max(started) FILTER (WHERE key = 'B')) * 1000)::float8 AS last_b,
         count(*) FILTER (WHERE key = 'A' AND started > to_timestamp($1::float8 / 1000)
           AND started < (SELECT max(started) FROM flow_runs WHERE key = 'B'))::int AS a_between,
         count(*) FILTER (WHERE key = 'A')::int AS a_runs
       FROM flow_runs`,
      [enqueued],
    );
    const boundMs = r.last_b - enqueued;
    const left = (await db.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE concurrency_key = 'A'`))[0]
      .n;
    recordFigure({
      scenario: 28,
      name: 'fairness: A 100,000 then B 10 (2 procs x 16)',
      figure: `all of B started ${Math.round(boundMs)} ms after its enqueue, ${r.a_between} of A's jobs starting meanwhile (${left} of A's still queued; first come first served would run them all first)`,
    });
    expect(left).toBeGreaterThan(A_JOBS / 2);
    // Round-robin: each claim after B's enqueue puts B's jobs first among A's; at most the jobs
    // of the claims already in flight and one claim per process can start before the last of B.
    expect(r.a_between).toBeLessThanOrEqual(PROCESSES * CONCURRENCY * 2);
    expect(boundMs).toBeLessThan(2_000);
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
  }, 120_000);
});
