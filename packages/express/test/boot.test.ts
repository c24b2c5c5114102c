/**
 * An Express app that boots while its Postgres is down (a replacement instance during a
 * database restart): migrate() and the worker started by app.listen wait, logging each
 * retry, and the app serves and runs jobs once Postgres is up.
 */
import { DatabaseUnavailableError, QueueClosedError } from '@queue/core';
import { type Cluster, createCluster } from '@queue/dev-postgres';
import { recordingLogger } from '@queue/test-utils';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, type ExpressQueue } from '../src/index.js';
import { listen, postJson, route } from './helpers.js';

let server: Cluster;
let up = true;
const open: ExpressQueue<any>[] = [];

beforeAll(async () => {
  server = await createCluster();
}, 120_000);
afterAll(() => server?.destroy());
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close().catch(() => {})));
  if (!up) await server.start();
  up = true;
});

async function down() {
  await server.stop();
  up = false;
}

describe('booting while Postgres is down', () => {
  it('migrate() and the worker wait for Postgres; then the app serves and runs a job', async () => {
    await down();
    const ran: string[] = [];
    const { logger, lines, next } = recordingLogger();
    const app = express();
    const jobs = createQueue(app, {
      connectionString: server.url,
      tasks: { record: async (p: { value: string }) => void ran.push(p.value) },
      logger,
      handleSignals: false,
      // Migrated by the deploy step's migrate() below, so that the worker's own wait shows too.
      migrate: false,
      worker: { pollInterval: 200 },
    });
    open.push(jobs);
    app.use(express.json());
    app.post(
      '/record',
      route(async (req, res) => {
        const job = await req.queue.enqueue('record', { value: String(req.body.value) });
        res.status(202).json({ id: job.id });
      }),
    );

    // A deploy step's migrate() waits for Postgres and finishes first; the app's worker, which
    // checks that the tables exist once connected (migrate: false), then waits for it too.
    const migrating = jobs.queue.migrate();
    await next(/^Postgres not reachable .*\(ECONNREFUSED\)/, 'migrate()');
    await server.start();
    up = true;
    expect((await migrating).length).toBeGreaterThan(0);
    await down();
    const { baseUrl } = await listen(app);
    await next(/^Postgres not reachable .*\(ECONNREFUSED\)/, 'worker.start()');
    await server.start();
    up = true;
    await jobs.ready();

    const completed = new Promise<{ job: { id: string } }>((resolve) =>
      jobs.worker!.once('completed', resolve),
    );
    const res = await postJson(baseUrl, '/record', { value: 'late' });
    expect(res.status).toBe(202);
    expect((await completed).job.id).toBe(res.body.id);
    expect(ran).toEqual(['late']);
    const retries = lines.filter((l) => l.level === 'warn' && /^Postgres not reachable at /.test(l.msg));
    expect(new Set(retries.map((l) => l.fields.operation))).toEqual(new Set(['migrate()', 'worker.start()']));
    for (const l of retries) expect(l.msg).toContain(`127.0.0.1:${server.port}`);
    expect(JSON.stringify(lines)).not.toContain('postgres:postgres@');
  }, 60_000);

  it('close() while the worker waits for Postgres ends the wait at once: ready() rejects QueueClosedError', async () => {
    await down();
    const { logger, next } = recordingLogger();
    const app = express();
    const jobs = createQueue(app, {
      connectionString: server.url,
      tasks: { record: async () => {} },
      logger,
      handleSignals: false,
    });
    open.push(jobs);
    const { server: http } = await listen(app);
    // A backoff of a second or more, so that closing sooner proves the wait was cut short.
    const line = await next(/^Postgres not reachable .*retrying in [1-9]\d*\.\d s/);
    const t0 = performance.now();
    await jobs.close();
    expect(performance.now() - t0).toBeLessThan((line.fields.retryInMs as number) / 2);
    expect(http.listening).toBe(false);
    await expect(jobs.ready()).rejects.toBeInstanceOf(QueueClosedError);
  }, 60_000);

  it('gives up after startupTimeout: ready() rejects with DatabaseUnavailableError and the server closes', async () => {
    await down();
    const app = express();
    const jobs = createQueue(app, {
      connectionString: server.url,
      tasks: { record: async () => {} },
      logger: recordingLogger().logger,
      handleSignals: false,
      startupTimeout: 500,
    });
    open.push(jobs);
    const { server: http } = await listen(app);
    const error = await jobs.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`);
    await jobs.close();
    expect(http.listening).toBe(false);
  }, 60_000);
});
