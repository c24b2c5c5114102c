import { Queue, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { DashboardClient } from './helpers/client.js';

/**
 * The dashboard with 1,000,000 jobs: the overview's count is measured and then cached, and
 * list pages stay index range scans. Timings are printed (they vary by machine); the
 * assertions are about what must not happen: recounting on every request, unbounded pages.
 */
const JOBS = 1_000_000;
const db = useTestDatabase();
let queue: Queue;
let server: StandaloneServer;
let c: DashboardClient;

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await f();
  process.stdout.write(`[scale] ${what}: ${(performance.now() - t).toFixed(1)} ms\n`);
  return r;
}

beforeAll(async () => {
  await db.query(`INSERT INTO queue.jobs (queue, task, payload, run_at, failed_at, attempts, errors)
    SELECT (ARRAY['default','emails','reports','webhooks'])[1 + i % 4], (ARRAY['send','build','sync'])[1 + i % 3],
      jsonb_build_object('n', i),
      CASE WHEN i % 10 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 minute' END,
      CASE WHEN i % 50 = 0 THEN now() END, CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END,
      CASE WHEN i % 50 = 0 THEN '[{"attempt":1,"at":"2025-01-01T00:00:00Z","message":"boom"}]'::jsonb ELSE '[]' END
    FROM generate_series(1, ${JOBS}) i`);
  await db.query('VACUUM ANALYZE queue.jobs');
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  server = await startDashboardServer({ queue, port: 0, unsafeNoAuth: true, refreshInterval: 60_000 });
  c = new DashboardClient(server.url);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await queue?.close();
  await expectNoAdvisoryLocks(db);
});

describe(`with ${JOBS.toLocaleString('en')} jobs`, () => {
  it('counts once, then serves the overview from the cache', async () => {
    await timed('core countJobs() (for comparison)', () => queue.countJobs());
    const first = await timed(
      'GET api/overview, cold (counts)',
      async () => (await c.get('api/overview')).json() as Promise<any>,
    );
    const total = first.queues.reduce(
      (a: number, q: any) => a + q.available + q.scheduled + q.running + q.failed,
      0,
    );
    expect(total).toBe(JOBS);
    expect(first.queues.find((q: any) => q.queue === 'default')).toMatchObject({
      available: 200_000,
      scheduled: 40_000,
      failed: 10_000,
    });
    process.stdout.write(`[scale] count duration reported by the dashboard: ${first.countMs} ms\n`);
    // No worker runs: every queue's due jobs are flagged, from the same scan.
    expect(first.unrouted).toHaveLength(12);
    expect(first.unrouted.every((u: any) => u.reason === 'queue-not-served')).toBe(true);
    expect(first.queues.find((q: any) => q.queue === 'default').unrouted).toBe(200_000);
    const second = await timed(
      'GET api/overview, warm (cached counts)',
      async () => (await c.get('api/overview')).json() as Promise<any>,
    );
    if (first.countMs >= 50) expect(second.countedAt).toBe(first.countedAt);
    else
      expect(new Date(second.countedAt).getTime()).toBeGreaterThanOrEqual(
        new Date(first.countedAt).getTime(),
      );
  });

  it('pages through jobs newest first with keyset cursors', async () => {
    const page1 = await timed(
      'GET api/jobs (newest 50)',
      async () => (await c.get('api/jobs')).json() as Promise<any>,
    );
    expect(page1.jobs).toHaveLength(50);
    expect(page1.jobs[0].id).toBe(String(JOBS));
    expect(page1.newer).toBeNull();
    const page2 = (await (await c.get(`api/jobs?before=${page1.older}`)).json()) as any;
    expect(page2.jobs[0].id).toBe(String(JOBS - 50));
    const back = (await (await c.get(`api/jobs?after=${page2.newer}`)).json()) as any;
    expect(back.jobs.map((j: any) => j.id)).toEqual(page1.jobs.map((j: any) => j.id));
    const failed = await timed(
      'GET api/jobs?state=failed',
      async () => (await c.get('api/jobs?state=failed')).json() as Promise<any>,
    );
    expect(failed.jobs.every((j: any) => j.state === 'failed' && j.lastError === 'boom')).toBe(true);
    await timed('GET api/jobs?state=scheduled&queue=reports&task=sync', () =>
      c.get('api/jobs?state=scheduled&queue=reports&task=sync'),
    );
    await timed('GET api/jobs?state=failed&queue=emails (no match: worst case)', () =>
      c.get('api/jobs?state=failed&queue=emails'),
    );
    await timed('GET api/running', () => c.get('api/running'));
    await timed('GET api/jobs/500000', () => c.get('api/jobs/500000'));
  });

  it('finds the jobs nobody will run in one scan', async () => {
    const none = await timed('core unroutedJobs(), no live worker', () => queue.unroutedJobs());
    expect(none.reduce((a, u) => a + u.count, 0)).toBe(900_000);
    // A worker that serves 'default' but knows only two of its three tasks (the queue is paused
    // so that it leaves the table as it is).
    await queue.pauseQueue('default');
    const workerQueue = new Queue({
      connectionString: db.url,
      logger: silentLogger,
      tasks: { send: () => {}, build: () => {} },
    });
    try {
      await workerQueue.worker({ queues: ['default'] }).start();
      const some = await timed('core unroutedJobs(), one live worker', () => queue.unroutedJobs());
      expect(some.filter((u) => u.queue === 'default')).toEqual([
        expect.objectContaining({ task: 'sync', count: 66_666, reason: 'task-unknown' }),
      ]);
      expect(some).toHaveLength(10);
      await timed('core unroutedReason()', () => queue.unroutedReason('default', 'sync'));
    } finally {
      await workerQueue.close();
      await queue.resumeQueue('default');
    }
  });

  it('runs a scheduled job now, keeping its attempts; not a failed one', async () => {
    await c.session();
    await db.query('UPDATE queue.jobs SET attempts = 3 WHERE id = 10');
    const res = await c.act('POST', 'api/jobs/10/run-now');
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).job).toMatchObject({ id: '10', attempts: 3 });
    const job = await queue.getJob('10');
    expect(job).toMatchObject({ state: 'available', attempts: 3 });
    // Core's runNow: a job already due stays due (a second click is harmless), a failed one is refused.
    const again = await c.act('POST', 'api/jobs/10/run-now');
    expect(again.status).toBe(200);
    expect(await queue.getJob('10')).toMatchObject({ state: 'available', attempts: 3 });
    const failed = await c.act('POST', 'api/jobs/50/run-now');
    expect(failed.status).toBe(409);
    expect(((await failed.json()) as any).error.code).toBe('QUEUE_JOB_STATE');
    expect((await queue.getJob('50'))?.state).toBe('failed');
    expect((await c.act('POST', 'api/jobs/99999999999/run-now')).status).toBe(404);
  });
});
