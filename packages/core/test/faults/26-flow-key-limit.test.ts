import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { queueFactory } from '../helpers.js';
import { recordFigure } from './figures.js';
import { createFlowTables, maxOverlap, runs } from './flow-kit.js';
import { spawnFixture, useProcessCleanup } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
beforeEach(() => createFlowTables(db));

const KEYS = 50;
const PER_KEY = 8;
const RUN_MS = 150;
const PROCESSES = 4;
const CONCURRENCY = 16;

describe('fault 26: a per-key concurrency limit across processes', () => {
  it('limit 1 per key over 50 keys, 4 processes x 16: no key ever overlaps, and the keys run side by side', async () => {
    const producer = makeQueue({ tasks: { run: { concurrencyKey: 'key', handler: async () => {} } } });
    await producer.registerTasks();
    await producer.setLimits('default', { keyConcurrency: 1 });
    const workers = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        spawnFixture('flow-worker.ts', { env: { DATABASE_URL: db.url, CONCURRENCY: String(CONCURRENCY) } }),
      ),
    );
    const t0 = performance.now();
    // Keys interleaved, so that each claim sees many keys.
    await producer.enqueueMany(
      Array.from({ length: KEYS * PER_KEY }, (_, i) => ({
        task: 'run' as const,
        payload: { ms: RUN_MS, key: `k${i % KEYS}` },
      })),
    );
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
    const byKey = new Map<string, typeof all>();
    for (const r of all) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r]);
    const perKey = Math.max(...[...byKey.values()].map((list) => maxOverlap(list)));
    const overall = maxOverlap(all);
    const ideal = (PER_KEY * RUN_MS) / 1000;
    recordFigure({
      scenario: 26,
      name: 'per-key limit 1, 50 keys (4 procs x 16)',
      figure: `max overlap per key ${perKey}; keys running at once up to ${overall}/${KEYS}; ${all.length} runs of ${KEYS * PER_KEY} jobs in ${seconds.toFixed(1)} s (${ideal.toFixed(1)} s if every key ran back to back)`,
    });
    expect(perKey).toBe(1);
    expect(all.length).toBe(KEYS * PER_KEY);
    // Every key ran at once at some point: the 64 slots were not starved by the per-key limit.
    expect(overall).toBeGreaterThanOrEqual(KEYS * 0.8);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
  }, 90_000);
});
