/**
 * A Fastify app that boots while its Postgres is down: with `migrate: true` the plugin waits
 * for Postgres while it loads, the worker waits in onReady, and the app serves and runs jobs
 * once Postgres is up. The wait fits under Fastify's pluginTimeout, so a database that stays
 * down fails the boot with our error, not with Fastify's "plugin did not start in time".
 */
import { ConfigError, DatabaseUnavailableError } from '@queue/core';
import { type Cluster, createCluster } from '@queue/dev-postgres';
import { recordingLogger } from '@queue/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FastifyQueueOptions, fastifyQueue } from '../src/index.js';

let server: Cluster;
let up = true;
const open: FastifyInstance[] = [];

beforeAll(async () => {
  server = await createCluster();
}, 120_000);
afterAll(() => server?.destroy());
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close().catch(() => {})));
  if (!up) await server.start();
  up = true;
}, 60_000);

async function down() {
  await server.stop();
  up = false;
}

/** ready()'s rejection, or null: ready() returns a thenable without catch(). */
const bootError = (fastify: FastifyInstance) =>
  fastify.ready().then(
    () => null,
    (error: unknown) => error,
  );

function app(options: FastifyQueueOptions<any>, fastify = Fastify()): FastifyInstance {
  open.push(fastify);
  void fastify.register(fastifyQueue, options);
  return fastify;
}

describe('booting while Postgres is down', () => {
  it('with migrate: true the app waits for Postgres, then serves and runs a job', async () => {
    await down();
    const ran: string[] = [];
    const { logger, lines, next } = recordingLogger();
    const fastify = app({
      connectionString: server.url,
      tasks: { record: async (p: { value: string }) => void ran.push(p.value) },
      migrate: true,
      logger,
      worker: { pollInterval: 200 },
    });
    fastify.post<{ Body: { value: string } }>('/record', async (req, reply) => {
      const job = await fastify.queue.enqueue('record', { value: req.body.value });
      return reply.code(202).send({ id: job.id });
    });

    const ready = fastify.ready();
    const first = await next(/^Postgres not reachable .*\(ECONNREFUSED\)/);
    expect(first.fields).toMatchObject({ operation: 'migrate()', address: `127.0.0.1:${server.port}` });
    // Fastify's default pluginTimeout is 10 s: the wait was fitted a second below it.
    expect(first.fields.giveUpInMs as number).toBeLessThanOrEqual(9_000);
    await server.start();
    up = true;
    await ready;

    const completed = new Promise<{ job: { id: string } }>((resolve) =>
      fastify.queueWorker!.once('completed', resolve),
    );
    const res = await fastify.inject({ method: 'POST', url: '/record', payload: { value: 'late' } });
    expect(res.statusCode).toBe(202);
    expect((await completed).job.id).toBe(res.json().id);
    expect(ran).toEqual(['late']);
    expect(JSON.stringify(lines)).not.toContain('postgres:postgres@');
  }, 60_000);

  it('a Postgres that stays down fails the boot with DatabaseUnavailableError before pluginTimeout', async () => {
    await down();
    const { logger } = recordingLogger();
    const fastify = app(
      { connectionString: server.url, tasks: { record: async () => {} }, migrate: true, logger },
      Fastify({ pluginTimeout: 2_500 }),
    );
    const t0 = performance.now();
    const error = (await bootError(fastify)) as DatabaseUnavailableError;
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.operation).toBe('migrate()');
    expect(error.timeoutMs).toBe(1_500);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(performance.now() - t0).toBeLessThan(2_500);

    // The worker's wait in onReady is fitted the same way.
    const workerOnly = app(
      { connectionString: server.url, tasks: { record: async () => {} }, migrate: false, logger },
      Fastify({ pluginTimeout: 2_500 }),
    );
    const failed = (await bootError(workerOnly)) as DatabaseUnavailableError;
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
    expect(failed.operation).toBe('worker.start()');
    expect(failed.timeoutMs).toBe(1_500);
  }, 60_000);

  it('a startupTimeout set longer than pluginTimeout allows is refused at registration', async () => {
    const fastify = app(
      { connectionString: server.url, tasks: { record: async () => {} }, startupTimeout: 30_000 },
      Fastify({ pluginTimeout: 10_000 }),
    );
    const error = await bootError(fastify);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/startupTimeout is 30000 ms.*pluginTimeout \(10000 ms\)/);

    // pluginTimeout: 0 (none) takes any startupTimeout.
    const unbounded = app(
      { connectionString: server.url, tasks: { record: async () => {} }, startupTimeout: 30_000 },
      Fastify({ pluginTimeout: 0 }),
    );
    await unbounded.ready();
    expect(unbounded.queue.startupTimeout).toBe(30_000);
  }, 60_000);
});
