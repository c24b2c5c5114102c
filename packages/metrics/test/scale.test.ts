import { Queue, silentLogger } from '@queue/core';
import { parseExposition, sampleValue, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueMetrics, type QueueMetrics } from '../src/index.js';

/**
 * Scrapes with 1,000,000 jobs. The layout is the worst case for the oldest available job: the
 * 'default' queue's lowest ids are failed jobs, so the primary-key walk to its first available
 * job passes them all. Timings are printed (they vary by machine); the assertions are about what
 * must not happen: a full count per scrape, one read per concurrent scrape.
 */
const JOBS = 1_000_000;
const FAILED_FIRST = 100_000;
const db = useTestDatabase();
let queue: Queue;
let metrics: QueueMetrics;
const statements: string[] = [];

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await f();
  process.stdout.write(`[scale] ${what}: ${(performance.now() - t).toFixed(1)} ms\n`);
  return r;
}

beforeAll(async () => {
  await db.query(`INSERT INTO queue.jobs (queue, task, payload, run_at, failed_at, attempts)
    SELECT CASE WHEN i <= ${FAILED_FIRST} THEN 'default' ELSE (ARRAY['default','emails','reports','webhooks'])[1 + i % 4] END,
      (ARRAY['send','build','sync'])[1 + i % 3], jsonb_build_object('n', i),
      CASE WHEN i % 10 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 minute' END,
      CASE WHEN i <= ${FAILED_FIRST} THEN now() END, CASE WHEN i <= ${FAILED_FIRST} THEN 1 ELSE 0 END
    FROM generate_series(1, ${JOBS}) i`);
  await db.query('VACUUM ANALYZE queue.jobs');
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  // Counts the statements each scrape sends, passing every one through to Postgres unchanged.
  const query = queue.pool.query.bind(queue.pool) as (...a: unknown[]) => Promise<unknown>;
  (queue.pool as unknown as { query: unknown }).query = (...a: unknown[]) => {
    statements.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string })?.text));
    return query(...a);
  };
  metrics = createQueueMetrics({ queue, databaseMaxAgeMs: 5_000 });
}, 300_000);

afterAll(async () => {
  metrics?.close();
  await queue?.close();
});

const scans = () => statements.filter((s) => /GROUP BY queue, task/.test(s)).length;

describe(`with ${JOBS.toLocaleString('en')} jobs`, () => {
  it('reads the database once per scrape interval, however many scrape', async () => {
    const first = await timed('scrape, cold (full count + oldest available per queue)', () =>
      metrics.scrape(),
    );
    const cold = statements.length;
    process.stdout.write(`[scale] statements of a cold scrape: ${cold}\n`);
    const s = parseExposition(first.body);
    const exact = await timed('core countJobs() (exact, for comparison)', () => queue.countJobs());
    for (const c of exact) {
      for (const state of ['available', 'scheduled', 'failed'] as const)
        expect(sampleValue(s, 'queue_jobs', { queue: c.queue, state })).toBe(c[state]);
    }
    expect(sampleValue(s, 'queue_jobs', { queue: 'default', state: 'failed' })).toBe(FAILED_FIRST);
    const age = sampleValue(s, 'queue_oldest_available_job_age_seconds', { queue: 'default' })!;
    expect(age).toBeGreaterThanOrEqual(55);
    expect(age).toBeLessThan(600);

    // Ten Prometheus servers scraping at once, within the interval: no statement at all.
    statements.length = 0;
    await timed('10 concurrent scrapes, warm', () =>
      Promise.all(Array.from({ length: 10 }, () => metrics.scrape())),
    );
    expect(statements).toHaveLength(0);

    // A fresh metrics object on the same queue (another endpoint): core's cached count serves it
    // when that count was slow (>= 50 ms); the other statements are small.
    const other = createQueueMetrics({ queue, prefix: 'other_', databaseMaxAgeMs: 5_000 });
    try {
      statements.length = 0;
      await timed('scrape of a second collector, core count cached', () => other.scrape());
      const warm = statements.length;
      const countMs = (await queue.jobCounts({ maxAgeMs: 60_000 })).countMs;
      process.stdout.write(`[scale] core's full count took ${countMs} ms; statements: ${warm}\n`);
      if (countMs >= 50) {
        expect(scans()).toBe(0);
        expect(warm).toBe(cold - 1);
      }
    } finally {
      other.close();
    }
  });

  it('finds the oldest available job with the primary key, not a scan of the queue', async () => {
    const [job] = await timed("listJobs({ state: 'available', limit: 1 }) behind 100,000 failed jobs", () =>
      queue.listJobs({ queue: 'default', state: 'available', limit: 1 }),
    );
    expect(Number(job!.id)).toBeGreaterThan(FAILED_FIRST);
  });
});
