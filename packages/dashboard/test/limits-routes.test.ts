import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startDashboardServer } from '../src/index.js';
import { basic, DashboardClient } from './helpers/client.js';

/**
 * The limits API (src/limits.ts) against a real Postgres and the standalone server: the read
 * lists only limited queues, the action goes through CSRF and write access, and core's
 * refusals come back with their code, status and message, nothing written.
 */
const db = useTestDatabase();
const credentials = { username: 'ops', password: 'limits-routes' };
const tasks = { mail: () => null };

let queue: Queue<typeof tasks>;
let server: StandaloneServer;
let readOnly: StandaloneServer;
let client: DashboardClient;

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
  await queue.registerTasks();
  server = await startDashboardServer({ queue, port: 0, basicAuth: credentials });
  readOnly = await startDashboardServer({ queue, port: 0, basicAuth: credentials, readOnly: true });
  client = new DashboardClient(server.url, basic(credentials.username, credentials.password));
  await client.session();
});

afterAll(async () => {
  await server?.close();
  await readOnly?.close();
  await queue?.close();
});

async function limitsAnswer() {
  const res = await client.get('api/limits');
  expect(res.status).toBe(200);
  return (await res.json()) as { maxKeys: number; queues: { queue: string; inUse: number | null }[] };
}

describe('the limits API', () => {
  it('lists only queues with limits, sets, changes and removes them', async () => {
    expect((await limitsAnswer()).queues).toEqual([]);

    const set = await client.act('POST', 'api/queues/default/limits', {
      concurrency: 3,
      rate: { limit: 10, periodMs: 1000 },
    });
    expect(set.status).toBe(200);
    expect((await set.json()).limits).toEqual({
      queue: 'default',
      concurrency: 3,
      keyConcurrency: null,
      rate: { limit: 10, periodMs: 1000 },
      fair: false,
    });
    const listed = await limitsAnswer();
    expect(listed.maxKeys).toBe(10);
    expect(listed.queues).toMatchObject([
      { queue: 'default', concurrency: 3, inUse: 0, recentStarts: 0, waiting: 0, running: 0, keys: [] },
    ]);

    const removed = await client.act('POST', 'api/queues/default/limits', {
      concurrency: null,
      keyConcurrency: null,
      rate: null,
      fair: false,
    });
    expect(removed.status).toBe(200);
    expect((await limitsAnswer()).queues).toEqual([]);
  });

  it("answers core's refusals with their code and message, writing nothing", async () => {
    const zero = await client.act('POST', 'api/queues/default/limits', { concurrency: 0 });
    expect(zero.status).toBe(400);
    expect((await zero.json()).error).toEqual({
      code: 'QUEUE_INVALID_LIMIT',
      message:
        'invalid limits.concurrency: must be an integer from 1 to 65535 (or null to remove the limit), got 0',
    });
    const unknown = await client.act('POST', 'api/queues/nobody/limits', { concurrency: 2 });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('QUEUE_UNKNOWN_QUEUE');
    const field = await client.act('POST', 'api/queues/default/limits', { max: 2 });
    expect(field.status).toBe(400);
    expect((await field.json()).error.message).toMatch(/^invalid limits\.max: is not a limit/);
    expect((await limitsAnswer()).queues).toEqual([]);
    expect(await queue.getLimits()).toEqual([]);
  });

  it('needs a CSRF token and write access', async () => {
    const forged = await client.act('POST', 'api/queues/default/limits', { concurrency: 2 }, { token: 'x' });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('DASHBOARD_CSRF');

    const r = new DashboardClient(readOnly.url, basic(credentials.username, credentials.password));
    await r.session();
    expect((await r.get('api/limits')).status).toBe(200);
    const denied = await r.act('POST', 'api/queues/default/limits', { concurrency: 2 });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe('DASHBOARD_READ_ONLY');
    expect(await queue.getLimits()).toEqual([]);
  });
});
