/**
 * An app booted against a database whose queue schema was never migrated: core's
 * worker.start() refuses it, so the boot fails with SchemaNotMigratedError and a message that
 * says what to run, instead of a worker that warns about missing tables forever.
 */
import { type Job, SchemaNotMigratedError, silentLogger } from '@queue/core';
import { nextEvent, useEmptyDatabase, waitFor } from '@queue/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifyQueue } from '../src/index.js';

const empty = useEmptyDatabase();

const open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close().catch(() => {})));
});

describe('booting against an unmigrated database', () => {
  it('fails ready() with SchemaNotMigratedError naming the schema, the migrations and how to run them', async () => {
    const fastify = Fastify();
    open.push(fastify);
    void fastify.register(fastifyQueue, {
      connectionString: empty.url,
      logger: silentLogger,
      tasks: { t: async () => {} },
      // A deploy step is supposed to migrate; nobody did.
      migrate: false,
    });
    const error = await fastify.ready().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    const e = error as SchemaNotMigratedError;
    expect(e.code).toBe('QUEUE_SCHEMA_NOT_MIGRATED');
    expect(e.message).toMatch(
      /^worker\.start\(\): schema "queue" has no queue tables \(no "queue"\.migrations table\); this version of @queue\/core needs 0001_jobs, /,
    );
    expect(e.message).toContain(
      'Run the migrations first: call `await queue.migrate()` before starting workers, run `npx queue migrate` ' +
        '(@queue/cli) in a deploy step, or pass `migrate: true` to the adapter (@queue/express, @queue/fastify, @queue/nest)',
    );
    // The worker's sessions were closed with the failed start.
    await waitFor('the worker sessions to close', async () => {
      const [{ n }] = await empty.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name IN ('queue-claimer', 'queue-listener')`,
      );
      return n === 0;
    });
  });

  it('boots and runs jobs with migrate: true, as the message says', async () => {
    const ran: string[] = [];
    const fastify = Fastify();
    open.push(fastify);
    void fastify.register(fastifyQueue, {
      connectionString: empty.url,
      logger: silentLogger,
      migrate: true,
      tasks: { t: async (p: string) => void ran.push(p) },
    });
    await fastify.ready();
    const done = nextEvent<{ job: Job }>(fastify.queueWorker!, 'completed');
    await fastify.queue.enqueue('t', 'ran');
    await done;
    expect(ran).toEqual(['ran']);
  });
});
