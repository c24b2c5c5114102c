import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, silentLogger, type TaskMap, task } from '../../core/src/index.js';
import { useTestDatabase } from './database.js';
import { parseExposition, sampleValue } from './exposition.js';
import { waitFor } from './wait.js';

/**
 * The /metrics contract every adapter passes (Express, Fastify, Nest, and a bare node:http
 * server in @queue/metrics; the dashboard's route is tested apart). The harness boots a real app on a free port with `metrics` as its
 * option, the given tasks, and one route: POST /contract/enqueue {task, payload} → 201 {id},
 * enqueued through the adapter's queue.
 */
export interface MetricsHarness<M = unknown> {
  name: string;
  /**
   * @queue/metrics' `metricsEndpoint`, passed in: test-utils depends on neither it nor core's
   * built types (M is the MetricsMount the adapter takes).
   */
  metricsEndpoint(options: {
    basicAuth: { username: string; password: string };
    databaseMaxAgeMs: number;
  }): M;
  start(options: { databaseUrl: string; tasks: TaskMap; metrics: M }): Promise<{
    baseUrl: string;
    close(): Promise<void>;
  }>;
}

const USER = { username: 'prometheus', password: 'scrape-secret' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

export function runMetricsContract<M>(harness: MetricsHarness<M>): void {
  // Real servers, workers and Postgres on a shared machine: room above vitest's 5 s default.
  describe(`/metrics contract: ${harness.name}`, { timeout: 60_000 }, () => {
    const db = useTestDatabase();
    let app: Awaited<ReturnType<MetricsHarness<M>['start']>>;
    let admin: Queue;
    const attempts = new Map<string, number>();

    const tasks: TaskMap = {
      ok: async () => 'done',
      // Fails its first attempt, then completes: one retry each.
      flaky: task({
        maxAttempts: 3,
        backoff: () => 0,
        handler: async (p: { key: string }) => {
          const n = (attempts.get(p.key) ?? 0) + 1;
          attempts.set(p.key, n);
          if (n === 1) throw new Error('first attempt fails');
        },
      }),
      bad: task({
        maxAttempts: 2,
        backoff: () => 0,
        handler: async () => {
          throw new Error('always fails');
        },
      }),
    };
    const scrape = async (auth?: string) => {
      const res = await fetch(`${app.baseUrl}/metrics`, { headers: auth ? { authorization: auth } : {} });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    const samples = async () => {
      const res = await scrape(basic(USER.username, USER.password));
      expect(res.status).toBe(200);
      return parseExposition(res.text);
    };
    const enqueue = async (name: string, payload: unknown) => {
      const res = await fetch(`${app.baseUrl}/contract/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: name, payload }),
      });
      expect(res.status).toBe(201);
    };

    beforeAll(async () => {
      app = await harness.start({
        databaseUrl: db.url,
        tasks,
        metrics: harness.metricsEndpoint({ basicAuth: USER, databaseMaxAgeMs: 0 }),
      });
      admin = new Queue({ connectionString: db.url, logger: silentLogger });
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await admin?.close();
    }, 60_000);

    it('answers 401 without the right credentials, with the Basic challenge', async () => {
      const none = await scrape();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(none.text).not.toMatch(/queue_/);
      const wrong = await scrape(basic(USER.username, 'wrong'));
      expect(wrong.status).toBe(401);
      const ok = await scrape(basic(USER.username, USER.password));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    });

    it('counts a known workload: enqueued, started, completed, retried, failed, with histograms', async () => {
      for (let i = 0; i < 3; i++) await enqueue('ok', { i });
      for (let i = 0; i < 2; i++) await enqueue('flaky', { key: `${harness.name}-${i}` });
      await enqueue('bad', {});
      const q = { queue: 'default' };
      // Each job's last event is counted before the scrape that sees it; nothing else to await.
      const s = await waitFor('the workload to finish', async () => {
        const s = await samples();
        const done =
          sampleValue(s, 'queue_jobs_completed_total', { ...q, task: 'ok' }) === 3 &&
          sampleValue(s, 'queue_jobs_completed_total', { ...q, task: 'flaky' }) === 2 &&
          sampleValue(s, 'queue_jobs_failed_total', { ...q, task: 'bad' }) === 1;
        return done ? s : undefined;
      });
      expect(sampleValue(s, 'queue_jobs_enqueued_total', { ...q, task: 'ok' })).toBe(3);
      expect(sampleValue(s, 'queue_jobs_enqueued_total', { ...q, task: 'flaky' })).toBe(2);
      expect(sampleValue(s, 'queue_jobs_enqueued_total', { ...q, task: 'bad' })).toBe(1);
      expect(sampleValue(s, 'queue_jobs_started_total', { ...q, task: 'ok' })).toBe(3);
      expect(sampleValue(s, 'queue_jobs_started_total', { ...q, task: 'flaky' })).toBe(4);
      expect(sampleValue(s, 'queue_jobs_started_total', { ...q, task: 'bad' })).toBe(2);
      expect(sampleValue(s, 'queue_jobs_retried_total', { ...q, task: 'flaky' })).toBe(2);
      expect(sampleValue(s, 'queue_jobs_retried_total', { ...q, task: 'bad' })).toBe(1);
      expect(sampleValue(s, 'queue_jobs_failed_total', { ...q, task: 'ok' })).toBeUndefined();
      const count = (task: string, outcome: string) =>
        sampleValue(s, 'queue_job_duration_seconds_count', { ...q, task, outcome });
      expect(count('ok', 'completed')).toBe(3);
      expect(count('flaky', 'retried')).toBe(2);
      expect(count('flaky', 'completed')).toBe(2);
      expect(count('bad', 'retried')).toBe(1);
      expect(count('bad', 'failed')).toBe(1);
      expect(
        sampleValue(s, 'queue_job_duration_seconds_bucket', {
          ...q,
          task: 'ok',
          outcome: 'completed',
          le: '+Inf',
        }),
      ).toBe(3);
      expect(sampleValue(s, 'queue_job_wait_seconds_count', { ...q, task: 'flaky' })).toBe(4);
      expect(sampleValue(s, 'queue_job_wait_seconds_sum', { ...q, task: 'ok' })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(s, 'queue_worker_errors_total')).toBeUndefined();
      // From the database: the job that failed for good is there, nothing else is left. Core
      // serves a count that took 50 ms or more from its cache and recounts in the background,
      // so the gauges may lag a scrape behind; they catch up without any further change.
      await waitFor('the depth gauges to catch up', async () => {
        const d = await samples();
        return (
          sampleValue(d, 'queue_jobs', { ...q, state: 'failed' }) === 1 &&
          sampleValue(d, 'queue_jobs', { ...q, state: 'available' }) === 0 &&
          sampleValue(d, 'queue_jobs', { ...q, state: 'running' }) === 0
        );
      });
    });

    it('reports depth by state and the oldest available job as the database has them', async () => {
      // Another queue nobody serves: its jobs stay available, and are unrouted.
      const base = Date.now();
      for (let i = 0; i < 4; i++) await admin.enqueue('ok', {}, { queue: 'idle' });
      for (let i = 0; i < 2; i++)
        await admin.enqueue('ok', {}, { queue: 'idle', runAt: new Date(base + 3_600_000) });
      const exact = (await admin.countJobs()).find((c) => c.queue === 'idle')!;
      expect(exact.available).toBe(4);
      const idle = { queue: 'idle' };
      // As above: a slow count is served from core's cache while it recounts in the background.
      const s = await waitFor('the depth gauges to catch up', async () => {
        const s = await samples();
        return sampleValue(s, 'queue_jobs', { ...idle, state: 'available' }) === exact.available
          ? s
          : undefined;
      });
      expect(sampleValue(s, 'queue_jobs', { ...idle, state: 'scheduled' })).toBe(2);
      expect(sampleValue(s, 'queue_jobs', { ...idle, state: 'running' })).toBe(0);
      expect(sampleValue(s, 'queue_unrouted_jobs', idle)).toBe(4);
      const age = sampleValue(s, 'queue_oldest_available_job_age_seconds', idle)!;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan((Date.now() - base) / 1000 + 5);
      expect(sampleValue(s, 'queue_counts_age_seconds')).toBeGreaterThanOrEqual(0);
      expect(sampleValue(s, 'queue_paused', idle)).toBe(0);
      await admin.pauseQueue('idle');
      expect(sampleValue(await samples(), 'queue_paused', idle)).toBe(1);
    });
  });
}
