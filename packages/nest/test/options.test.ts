/**
 * The options every adapter takes (`worker`, `migrate`, `queue`, `handleSignals`), as the Nest
 * module applies them: the same names, defaults and errors as @queue/express and @queue/fastify.
 */
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, Queue, silentLogger, type Worker } from '@queue/core';
import {
  expectNoAdvisoryLocks,
  nextEvent,
  useEmptyDatabase,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Processor,
  QUEUE,
  QUEUE_WORKER,
  QueueModule,
  type QueueModuleOptions,
  SchemaNotMigratedError,
  Task,
} from '../src/index.js';

const db = useTestDatabase();
const empty = useEmptyDatabase();
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
  await expectNoAdvisoryLocks(empty);
});

/** Boots an app context with the module and `providers`; resolves with it, or with the boot's error. */
async function boot(options: QueueModuleOptions, providers: any[] = []) {
  @Module({ imports: [QueueModule.forRoot(options)], providers })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }).then(
    (app) => {
      apps.push(app);
      return app;
    },
    (error: unknown) => error as Error,
  );
}

const tasks = { record: async (_p: { value: string }) => {} };

describe('migrate', () => {
  it('with migrate: false on a database nobody migrated, the boot fails saying what to do', async () => {
    const error = await boot({
      connectionString: empty.url,
      schema: 'nobody_migrated',
      migrate: false,
      tasks,
      logger: silentLogger,
    });
    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    expect(error).toMatchObject({ code: 'QUEUE_SCHEMA_NOT_MIGRATED' });
    expect((error as Error).message).toMatch(
      /schema "nobody_migrated" has no queue tables.*queue\.migrate\(\)/,
    );
    // The worker it had started is stopped again: no claiming session is left.
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
  it('uses a Queue you pass, runs a worker on its tasks, and leaves it open on close', async () => {
    const queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
    try {
      const app = (await boot({ queue })) as INestApplicationContext;
      expect(app.get(QUEUE)).toBe(queue);
      const completed = nextEvent(app.get<Worker>(QUEUE_WORKER), 'completed');
      await queue.enqueue('record', { value: 'own' });
      await completed;
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(queue.closed).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('refuses @Processor() tasks with a queue you pass: its tasks are fixed', async () => {
    @Processor()
    class Recorder {
      @Task('record')
      async record() {}
    }
    const queue = new Queue({ connectionString: db.url, tasks, logger: silentLogger });
    try {
      const error = await boot({ queue }, [Recorder]);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(
        /@Processor\(\) classes \(record\) cannot run on a `queue` you pass/,
      );
    } finally {
      await queue.close();
    }
  });

  it('either a queue or the options to create one, not both', async () => {
    const queue = new Queue({ connectionString: db.url, logger: silentLogger });
    try {
      const error = await boot({ queue, connectionString: db.url } as any);
      expect(error).toEqual(
        new ConfigError(
          'QueueModule: give either `queue` or the options to create one, not both (got queue and connectionString)',
        ),
      );
    } finally {
      await queue.close();
    }
  });
});

describe('option errors name the option', () => {
  it.each([
    [{ worker: 'yes' }, /`worker` must be true, false or worker options, got "yes"/],
    [{ worker: { handleSignals: true } }, /`worker.handleSignals` is not an option here/],
    [{ migrate: 'yes' }, /`migrate` must be true or false, got "yes"/],
    [{ handleSignals: 1 }, /`handleSignals` must be true or false, got number/],
  ])('%o', async (options, message) => {
    const error = await boot({ connectionString: db.url, tasks, ...options } as any);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
