import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { countRows, createFaultTables, spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFaultTables(db));

const JOBS = 10_000;
const PROCESSES = 4;
const CONCURRENCY = 8;

describe('fault 2: no double execution', () => {
  it('4 worker processes x concurrency 8, 10,000 jobs, notifications and polling on: each runs once', async () => {
    const producer = makeQueue({ tasks: { record: async () => {} } });
    // Workers first, so that jobs arrive while they run: woken by NOTIFY, backed by a 100 ms poll.
    const workers = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        spawnFixture('fault-worker.ts', {
          env: { DATABASE_URL: db.url, CONCURRENCY: String(CONCURRENCY), POLL_INTERVAL: '100' },
        }),
      ),
    );
    const t0 = performance.now();
    // Half in batches (one NOTIFY per statement), half as concurrent single enqueues
    // (coalesced by the client into multi-row INSERTs, each followed by a NOTIFY).
    let n = 0;
    for (let b = 0; b < 5; b++) {
      await producer.enqueueMany(
        Array.from({ length: 1_000 }, () => ({ task: 'record' as const, payload: n++ })),
      );
      await Promise.all(Array.from({ length: 1_000 }, () => producer.enqueue('record', n++)));
    }
    expect(n).toBe(JOBS);
    await waitFor('10,000 effects', async () => (await countRows(db, 'effects')) === JOBS, {
      timeoutMs: 80_000,
      intervalMs: 100,
    });
    const seconds = (performance.now() - t0) / 1000;
    for (const w of workers) w.child.kill('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.exited));

    const effects = await countRows(db, 'effects');
    const duplicates = await countRows(db, 'duplicates');
    const left = await countRows(db, 'queue.jobs');
    const shares = (
      await db.query(`SELECT count(*)::int AS n FROM effects GROUP BY pid ORDER BY 1 DESC`)
    ).map((r) => r.n as number);
    const reruns = (await db.query(`SELECT count(*)::int AS n FROM effects WHERE attempt > 1`))[0]
      .n as number;
    recordFigure({
      scenario: 2,
      name: 'no double execution (4 procs x 8, 10k jobs)',
      figure: `ran ${effects}/${JOBS}, duplicates ${duplicates}, second attempts ${reruns}, left ${left}; ${(JOBS / seconds).toFixed(0)} jobs/s enqueue-to-done; per process ${shares.join('/')}`,
    });
    expect(exits.every((e) => e.signal === 'SIGTERM')).toBe(true);
    expect(effects).toBe(JOBS);
    expect(duplicates).toBe(0);
    expect(reruns).toBe(0);
    expect(left).toBe(0);
    // The work was shared.
    expect(shares).toHaveLength(PROCESSES);
    // About 20 s on an idle 2-core machine; more when other test runs share it.
  }, 90_000);
});
