import { Queue, QueueAdmin, silentLogger } from '@queue/core';
import { createQueueMetrics } from '@queue/metrics';
import { parseExposition, sampleValue, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardConfigError, type StandaloneServer, startDashboardServer } from '../src/index.js';

const db = useTestDatabase();
const USER = { username: 'ops', password: 'metrics-secret' };
const basic = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
let producer: Queue;
let server: StandaloneServer;

beforeAll(async () => {
  producer = new Queue({ connectionString: db.url, logger: silentLogger });
  // The standalone server makes its own QueueAdmin; the function form gets it.
  server = await startDashboardServer({
    connectionString: db.url,
    port: 0,
    basePath: '/ops',
    basicAuth: USER,
    metrics: (queue) => createQueueMetrics({ queue, databaseMaxAgeMs: 0 }),
  });
});
afterAll(async () => {
  await server?.close();
  await producer?.close();
});

describe('standalone dashboard /metrics', () => {
  it('is behind the dashboard authentication', async () => {
    const none = await fetch(`${server.url}metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await fetch(`${server.url}metrics`, {
      headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('serves the database gauges of the queue it shows', async () => {
    for (let i = 0; i < 3; i++) await producer.enqueue('report', { i }, { queue: 'reports' });
    await producer.enqueue('report', {}, { queue: 'reports', runAt: new Date(Date.now() + 3_600_000) });
    const s = await waitFor('the gauges to show the jobs', async () => {
      const res = await fetch(`${server.url}metrics`, { headers: { authorization: basic } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const s = parseExposition(await res.text());
      return sampleValue(s, 'queue_jobs', { queue: 'reports', state: 'available' }) === 3 ? s : undefined;
    });
    expect(sampleValue(s, 'queue_jobs', { queue: 'reports', state: 'scheduled' })).toBe(1);
    expect(sampleValue(s, 'queue_unrouted_jobs', { queue: 'reports' })).toBe(3);
    // A QueueAdmin enqueues nothing and runs no worker: its counters have no samples.
    expect(sampleValue(s, 'queue_jobs_enqueued_total', { queue: 'reports' })).toBeUndefined();
  });

  it('refuses a `metrics` option that is not a metrics source, naming it', async () => {
    const queue = new QueueAdmin({ connectionString: db.url, logger: silentLogger });
    try {
      await expect(
        startDashboardServer({ queue, port: 0, unsafeNoAuth: true, metrics: {} as never }),
      ).rejects.toThrow(DashboardConfigError);
      await expect(
        startDashboardServer({ queue, port: 0, unsafeNoAuth: true, metrics: {} as never }),
      ).rejects.toThrow(/`metrics` must be a QueueMetrics/);
    } finally {
      await queue.close();
    }
  });
});
