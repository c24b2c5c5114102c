/**
 * The options every adapter takes (`worker`, `migrate`, `queue`, `handleSignals`), as Express
 * applies them: the same names, defaults and errors as @queue/fastify and @queue/nest.
 */
import { once } from 'node:events';
import { ConfigError, Queue, silentLogger } from '@queue/core';
import {
  expectNoAdvisoryLocks,
  nextEvent,
  useEmptyDatabase,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type ExpressQueue, SchemaNotMigratedError } from '../src/index.js';
import { listen } from './helpers.js';

const db = useTestDatabase();
const empty = useEmptyDatabase();
const open: ExpressQueue<any>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close().catch(() => {})));
  await expectNoAdvisoryLocks(db);
  await expectNoAdvisoryLocks(empty);
});

const tasks = { record: async (_p: { value: string }) => {} };

describe('migrate', () => {
  it('by default, creates the tables when the server listens, then starts the worker', async () => {
    const app = express();
    const jobs = createQueue(app, {
      connectionString: empty.url,
      schema: 'by_default',
      tasks,
      logger: silentLogger,
    });
    open.push(jobs);
    await listen(app);
    await jobs.ready();
    const completed = nextEvent(jobs.worker!, 'completed');
    await jobs.queue.enqueue('record', { value: 'after-migrate' });
    await completed;
    expect(await empty.query(`SELECT count(*)::int AS n FROM by_default.migrations`)).toEqual([
      { n: expect.any(Number) },
    ]);
  });

  it('with migrate: false on a database nobody migrated, ready() rejects saying what to do', async () => {
    const app = express();
    const jobs = createQueue(app, {
      connectionString: empty.url,
      schema: 'nobody_migrated',
      tasks,
      logger: silentLogger,
      migrate: false,
    });
    open.push(jobs);
    const { server } = await listen(app);
    const closed = once(server, 'close');
    const error = await jobs.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    expect(error).toMatchObject({ code: 'QUEUE_SCHEMA_NOT_MIGRATED' });
    expect((error as Error).message).toMatch(
      /schema "nobody_migrated" has no queue tables.*queue\.migrate\(\)/,
    );
    // The server does not serve requests whose jobs would never run, and the worker let go.
    await closed;
    await jobs.close();
    await waitFor('the worker sessions to end', async () => {
      const rows = await empty.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'queue-%'`,
        [empty.name],
      );
      return rows.length === 0;
    });
  });
});

describe('queue', () => {
  it('uses a Queue you pass, runs a worker on it, and leaves it open on close', async () => {
    const queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
    try {
      const app = express();
      const jobs = createQueue(app, { queue });
      open.push(jobs);
      expect(jobs.queue).toBe(queue);
      const { server } = await listen(app);
      await jobs.ready();
      const completed = nextEvent(jobs.worker!, 'completed');
      await queue.enqueue('record', { value: 'own' });
      await completed;
      server.close();
      await jobs.close();
      expect(queue.closed).toBe(false);
      await queue.enqueue('record', { value: 'still open' });
    } finally {
      await queue.close();
      await db.query('TRUNCATE queue.jobs');
    }
  });

  it('either a queue or the options to create one, not both', async () => {
    const queue = new Queue({ connectionString: db.url, logger: silentLogger });
    try {
      expect(() => createQueue(express(), { queue, connectionString: db.url } as any)).toThrow(
        new ConfigError(
          'createQueue(app, options): give either `queue` or the options to create one, not both (got queue and connectionString)',
        ),
      );
      expect(() => createQueue(express(), { queue: {} as Queue })).toThrow(/`queue` must be a Queue/);
    } finally {
      await queue.close();
    }
  });
});

describe('option errors name the option', () => {
  const make = (options: Record<string, unknown>) => () =>
    createQueue(express(), { connectionString: db.url, tasks, ...options } as any);

  it.each([
    [{ worker: 'yes' }, /`worker` must be true, false or worker options, got "yes"/],
    [{ worker: { handleSignals: true } }, /`worker.handleSignals` is not an option here/],
    [{ migrate: 'yes' }, /`migrate` must be true or false, got "yes"/],
    [{ handleSignals: 1 }, /`handleSignals` must be true or false, got number/],
    [{ tasks: undefined }, /a worker needs `tasks`.*`worker: false`/],
  ])('%o', (options, message) => {
    expect(make(options)).toThrow(ConfigError);
    expect(make(options)).toThrow(message);
  });
});
