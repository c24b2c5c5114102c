import { Writable } from 'node:stream';
import fastifyPostgres from '@fastify/postgres';
import { ConfigError, InvalidOptionError, Queue, silentLogger, type TaskMap } from '@queue/core';
import {
  expectNoAdvisoryLocks,
  nextEvent,
  useEmptyDatabase,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlreadyAttachedError,
  type FastifyQueueOptions,
  fastifyQueue,
  SchemaNotMigratedError,
} from '../src/index.js';

const db = useTestDatabase();
const empty = useEmptyDatabase();

const connections = async () =>
  (
    await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [db.name],
    )
  )[0].n as number;
const jobs = async (task: string) =>
  (await db.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE task = $1`, [task]))[0].n as number;

const open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
  expect(await connections()).toBe(0);
});

function app(options: FastifyQueueOptions<TaskMap>, fastify = Fastify()): FastifyInstance {
  open.push(fastify);
  void fastify.register(fastifyQueue, options);
  return fastify;
}

const record = async () => {};

describe('lifecycle', () => {
  it('starts the worker on ready and stops it, and closes the pool it created, on close', async () => {
    const done: string[] = [];
    const fastify = app({
      connectionString: db.url,
      logger: silentLogger,
      tasks: { t: (p: string) => done.push(p) },
    });
    await fastify.ready();
    const completed = nextEvent(fastify.queueWorker!, 'completed');
    await fastify.queue.enqueue('t', 'ran');
    await completed;
    expect(done).toEqual(['ran']);
    expect(await connections()).toBeGreaterThan(0);
    await fastify.close();
    expect(await connections()).toBe(0);
  });

  it('a web-only instance (worker: false) enqueues; a worker-only instance that never listens runs the job', async () => {
    const web = app({ connectionString: db.url, logger: silentLogger, worker: false });
    await web.ready();
    expect(web.queueWorker).toBeNull();
    await web.queue.enqueue('later', { n: 1 });
    expect(await jobs('later')).toBe(1);

    const ran: unknown[] = [];
    const worker = app({
      connectionString: db.url,
      logger: silentLogger,
      tasks: { later: (p) => ran.push(p) },
    });
    await worker.ready();
    await nextEvent(worker.queueWorker!, 'completed');
    expect(ran).toEqual([{ n: 1 }]);
    expect(await jobs('later')).toBe(0);
  });

  it('with your own Queue, stops the worker it started but leaves the queue and its pool open', async () => {
    const queue = new Queue({ connectionString: db.url, logger: silentLogger, tasks: { t: record } });
    try {
      const fastify = app({ queue });
      await fastify.ready();
      expect(fastify.queue).toBe(queue);
      await fastify.close();
      await queue.enqueue('t', null);
      expect(await jobs('t')).toBe(1);
      await db.query(`DELETE FROM queue.jobs`);
    } finally {
      await queue.close();
    }
  });

  it('on the pool of @fastify/postgres, the worker drains before that pool closes', async () => {
    const fastify = Fastify();
    open.push(fastify);
    await fastify.register(fastifyPostgres, { connectionString: db.url });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await fastify.register(fastifyQueue, (parent) => ({
      pool: parent.pg.pool,
      logger: silentLogger,
      tasks: {
        // Uses the app's pool after the close began: it must still be open.
        slow: async () => {
          await gate;
          await parent.pg.query(`INSERT INTO queue_effects VALUES ('slow')`);
        },
      },
    }));
    await db.query(`CREATE TABLE IF NOT EXISTS queue_effects (value text)`);
    await fastify.ready();
    const started = nextEvent(fastify.queueWorker!, 'started');
    await fastify.queue.enqueue('slow', null);
    await started;
    const closing = fastify.close();
    release();
    await closing;
    expect(await db.query(`SELECT value FROM queue_effects`)).toEqual([{ value: 'slow' }]);
    expect(await jobs('slow')).toBe(0);
  });

  it('enqueues in a route transaction of @fastify/postgres ({ pg: { transact: true } })', async () => {
    const fastify = Fastify();
    open.push(fastify);
    await fastify.register(fastifyPostgres, { connectionString: db.url });
    await fastify.register(fastifyQueue, (parent) => ({
      pool: parent.pg.pool,
      logger: silentLogger,
      worker: false,
    }));
    fastify.post<{ Body: { fail: boolean } }>('/order', { pg: { transact: true } }, async (request) => {
      await fastify.queue.enqueue('ship', { fail: request.body.fail }, { client: request.pg! });
      if (request.body.fail) throw new Error('rolled back on purpose');
      return { ok: true };
    });
    const post = (fail: boolean) => fastify.inject({ method: 'POST', url: '/order', payload: { fail } });
    expect((await post(true)).statusCode).toBe(500);
    expect(await jobs('ship')).toBe(0);
    expect((await post(false)).statusCode).toBe(200);
    expect(await jobs('ship')).toBe(1);
    await db.query(`DELETE FROM queue.jobs`);
  });

  it('by default (migrate: true) creates the queue tables while the plugin loads', async () => {
    const fastify = Fastify();
    await fastify.register(fastifyQueue, { connectionString: empty.url, worker: false });
    try {
      await fastify.queue.enqueue('t', null);
      expect(await empty.query(`SELECT task FROM queue.jobs`)).toEqual([{ task: 't' }]);
    } finally {
      await fastify.close();
    }
  });

  it('with migrate: false on a database nobody migrated, ready() rejects saying what to do', async () => {
    const fastify = Fastify();
    void fastify.register(fastifyQueue, {
      connectionString: empty.url,
      schema: 'nobody_migrated',
      migrate: false,
      logger: silentLogger,
      tasks: { t: record },
    });
    try {
      const error = await fastify.ready().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SchemaNotMigratedError);
      expect(error).toMatchObject({ code: 'QUEUE_SCHEMA_NOT_MIGRATED' });
      expect((error as Error).message).toMatch(
        /schema "nobody_migrated" has no queue tables.*queue\.migrate\(\)/,
      );
      // The worker it had started is stopped again, before any close(): no claiming session is left.
      await waitFor('the worker sessions to end', async () => {
        const rows = await empty.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'queue-%'`,
          [empty.name],
        );
        return rows.length === 0;
      });
    } finally {
      await fastify.close();
    }
  });

  it("logs through Fastify's logger when Fastify logs", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)));
        callback();
      },
    });
    const fastify = app(
      { connectionString: db.url, worker: false },
      Fastify({ logger: { level: 'info', stream } }),
    );
    await fastify.ready();
    fastify.queue.logger.warn({ detail: 1 }, 'from the queue');
    expect(lines.find((l) => l.msg === 'from the queue')).toMatchObject({
      plugin: '@queue/fastify',
      detail: 1,
    });
  });
});

describe('misconfiguration fails the boot with a named error, and leaves nothing open', () => {
  const boot = async (options: unknown, before?: (f: FastifyInstance) => void) => {
    const fastify = Fastify();
    open.push(fastify);
    before?.(fastify);
    void fastify.register(fastifyQueue, options as FastifyQueueOptions);
    return fastify.ready().then(
      () => null,
      (error: unknown) => error,
    );
  };
  const configError = (message: RegExp) =>
    expect.objectContaining({
      name: 'ConfigError',
      code: 'QUEUE_CONFIG',
      message: expect.stringMatching(message),
    });

  it('a queue and the options to create one', async () => {
    const queue = new Queue({ connectionString: db.url, tasks: { t: record } });
    try {
      const error = await boot({ queue, connectionString: db.url });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toEqual(configError(/either `queue` or the options.*connectionString/));
    } finally {
      await queue.close();
    }
  });

  it('a queue that is not a Queue', async () => {
    expect(await boot({ queue: { enqueue() {} } })).toEqual(configError(/must be a Queue/));
  });

  it('a worker without tasks', async () => {
    expect(await boot({ connectionString: db.url })).toEqual(configError(/worker: false/));
  });

  it('options of the wrong type', async () => {
    expect(await boot({ connectionString: db.url, worker: 'yes', tasks: {} })).toEqual(
      configError(/`worker`/),
    );
    expect(await boot({ connectionString: db.url, worker: false, migrate: 'yes' })).toEqual(
      configError(/`migrate`/),
    );
  });

  it('registered twice on one instance', async () => {
    const options = { connectionString: db.url, worker: false, logger: silentLogger } as const;
    const error = await boot(options, (f) => {
      void f.register(fastifyQueue, options);
    });
    expect(error).toBeInstanceOf(AlreadyAttachedError);
    expect(error).toMatchObject({
      code: 'QUEUE_ALREADY_ATTACHED',
      message: expect.stringMatching(/already/),
    });
  });

  it("bad worker options are core's InvalidOptionError", async () => {
    const error = await boot({ connectionString: db.url, tasks: { t: record }, worker: { concurrency: 0 } });
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('concurrency');
  });

  it('an unreachable database rejects ready()', async () => {
    const server = new URL(db.url);
    server.port = String(await closedPort());
    const error = await boot({
      connectionString: server.toString(),
      tasks: { t: record },
      logger: silentLogger,
      startupTimeout: 0, // fail at the first refusal rather than wait for Postgres (boot.test.ts)
    });
    expect(String((error as Error)?.message)).toMatch(/ECONNREFUSED/);
  });
});

async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
