import { Queue, silentLogger } from '@queue/core';
import { parseExposition, sampleValue, useTestDatabase } from '@queue/test-utils';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueMetrics, MetricsConfigError, metricsEndpoint } from '../src/index.js';

const db = useTestDatabase();
let queue: Queue;

beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
});
afterAll(() => queue.close());

const request = (headers: Record<string, string> = {}, raw: unknown = {}) => ({ headers, raw });

describe('options', () => {
  it('refuses bad options before registering anything, naming the option', () => {
    const registry = new Registry();
    const bad: [object, RegExp][] = [
      [{ prefix: '1abc' }, /`prefix` must start a Prometheus metric name.*"1abc"/],
      [{ databaseMaxAgeMs: -1 }, /`databaseMaxAgeMs` must be an integer from 0 to 3600000, got -1/],
      [{ durationBuckets: [1, 0.5] }, /`durationBuckets` must be increasing positive numbers/],
      [{ database: 'yes' }, /`database` must be true or false/],
      [{ registry: {} }, /`registry` must be a prom-client Registry/],
    ];
    for (const [options, message] of bad) {
      expect(() => createQueueMetrics({ queue, registry, ...options } as never)).toThrow(message);
      expect(() => createQueueMetrics({ queue, registry, ...options } as never)).toThrow(MetricsConfigError);
    }
    expect(() => createQueueMetrics({ queue: {} as never })).toThrow(/`queue` must be a Queue or QueueAdmin/);
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(() => metricsEndpoint({ path: 'metrics' })).toThrow(
      /`path` must be a plain path starting with '\/'/,
    );
    expect(() => metricsEndpoint({ basicAuth: { username: 'a:b', password: 'x' } })).toThrow(/without ":"/);
    expect(() =>
      metricsEndpoint({ unsafeNoAuth: true, basicAuth: { username: 'a', password: 'b' } }),
    ).toThrow(/only one of `auth`, `basicAuth` and `unsafeNoAuth`/);
  });

  it("merges into the app's registry, refuses a second set under the same prefix, and leaves it clean on close()", async () => {
    const registry = new Registry();
    const own = new Counter({ name: 'app_requests_total', help: 'the app', registers: [registry] });
    own.inc(2);
    const metrics = createQueueMetrics({ queue, registry, databaseMaxAgeMs: 0 });
    expect(() => createQueueMetrics({ queue, registry })).toThrow(/named queue_\* already/);
    await queue.enqueue('merge', {});
    const s = parseExposition(await registry.metrics());
    expect(sampleValue(s, 'app_requests_total')).toBe(2);
    expect(sampleValue(s, 'queue_jobs_enqueued_total', { queue: 'default', task: 'merge' })).toBe(1);
    metrics.close();
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['app_requests_total']);
    // Closed: enqueues are no longer counted, and a new set may register.
    createQueueMetrics({ queue, registry }).close();
  });
});

describe('endpoint authentication', () => {
  const attach = (options: Parameters<typeof metricsEndpoint>[0]) =>
    metricsEndpoint(options).attach(queue, null);

  it('is closed by default', async () => {
    const h = attach({});
    try {
      expect((await h.handle(request())).status).toBe(401);
    } finally {
      h.close();
    }
  });

  it('lets `auth` decide with the raw request; a throwing hook denies', async () => {
    const h = attach({ auth: (req) => (req as { admin?: boolean }).admin === true });
    const t = attach({
      prefix: 'thrown_',
      auth: () => {
        throw new Error('no session store');
      },
    });
    try {
      expect((await h.handle(request({}, { admin: true }))).status).toBe(200);
      const denied = await h.handle(request({}, { admin: false }));
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toBeUndefined();
      expect((await t.handle(request())).status).toBe(401);
    } finally {
      h.close();
      t.close();
    }
  });

  it('serves everyone with unsafeNoAuth, and an endpoint attaches to one app only', async () => {
    const mount = metricsEndpoint({ unsafeNoAuth: true });
    const h = mount.attach(queue, null);
    try {
      const r = await h.handle(request());
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(() => mount.attach(queue, null)).toThrow(/in use by another app already/);
    } finally {
      h.close();
    }
  });
});
