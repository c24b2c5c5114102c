/**
 * worker.start() against a schema that was never migrated, or migrated by an older or a newer
 * version of the package (issue 12, item 3): a named error at start, not a worker that warns
 * about missing tables twice a second forever.
 */
import { nextEvent, useEmptyDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCK_NAMESPACE,
  type Job,
  loadMigrations,
  Queue,
  SchemaNotMigratedError,
} from '../src/index.js';
import { captureLogger } from './faults/process-kit.js';

const db = useEmptyDatabase();
const open: Queue<any>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});

function makeQueue(schema: string, logger = captureLogger()) {
  const queue = new Queue({ connectionString: db.url, schema, logger, tasks: { noop: async () => {} } });
  open.push(queue);
  return { queue, logger };
}

const label = (m: { id: number; name: string }) => `${String(m.id).padStart(4, '0')}_${m.name}`;

/** Resolves once this database has no session left with the worker's application names. */
function noWorkerSessions(): Promise<unknown> {
  // A backend leaves pg_stat_activity a moment after its client's end() resolved.
  return waitFor('the worker sessions to close', async () => {
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name IN ('queue-claimer', 'queue-listener')`,
    );
    return n === 0;
  });
}

describe('worker.start() checks the schema', () => {
  it('fails with SchemaNotMigratedError on a database that was never migrated, naming what to run', async () => {
    const { queue, logger } = makeQueue('never_migrated');
    const worker = queue.worker({ pollInterval: 50 });
    const error = (await worker.start().catch((e) => e)) as SchemaNotMigratedError;
    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    expect(error.code).toBe('QUEUE_SCHEMA_NOT_MIGRATED');
    expect(error.schema).toBe('never_migrated');
    const shipped = await loadMigrations();
    expect(error.missing).toEqual(shipped.map(({ id, name }) => ({ id, name })));
    expect(error.message).toContain('schema "never_migrated" has no queue tables');
    for (const m of shipped) expect(error.message).toContain(label(m));
    expect(error.message).toContain('queue.migrate()');
    expect(error.message).toContain('npx queue migrate --schema "never_migrated"');
    expect(error.message).toContain('migrate: true');
    // Nothing was retried or warned about, and no session stays open.
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    await noWorkerSessions();
    // It stays stopped; stop() is still safe.
    await worker.stop();
  });

  it('names only the missing migrations of a schema an older version migrated, and runs once migrated', async () => {
    const { queue } = makeQueue('older');
    await queue.migrate();
    const shipped = await loadMigrations();
    const last = shipped.at(-1)!;
    // As an older version left it: the newest migration not applied (its change undone too).
    await db.query(`DELETE FROM older.migrations WHERE id = $1`, [last.id]);
    const error = (await queue
      .worker()
      .start()
      .catch((e) => e)) as SchemaNotMigratedError;
    expect(error).toBeInstanceOf(SchemaNotMigratedError);
    expect(error.missing).toEqual([{ id: last.id, name: last.name }]);
    expect(error.message).toMatch(
      new RegExp(`schema "older" lacks migration ${label(last)}, which this version`),
    );
    await noWorkerSessions();
  });

  it('runs on a schema a newer version migrated, with one warning naming the unknown migrations', async () => {
    const { queue, logger } = makeQueue('newer');
    await queue.migrate();
    await db.query(`INSERT INTO newer.migrations (id, name) VALUES (9999, 'from_the_future')`);
    const worker = queue.worker({ pollInterval: 50 });
    await worker.start();
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    const job = await queue.enqueue('noop', null);
    expect((await done).job.id).toBe(job.id);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(
      /schema "newer" has migrations this version of @queue\/core does not know/,
    );
    expect(warnings[0]!.fields).toMatchObject({
      schema: 'newer',
      unknownMigrations: ['9999_from_the_future'],
    });
    await worker.stop();
  });

  it("waits for its own queue's migrate() in progress instead of failing, and stop() ends that wait", async () => {
    const { queue } = makeQueue('migrating');
    // Another session holds the migration lock, so this queue's migrate() stays in progress.
    const holder = new pg.Client(db.url);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      DEFAULT_LOCK_NAMESPACE,
      'migrate:migrating',
    ]);
    const migrating = queue.migrate();
    await waitFor('migrate() to wait for the lock', async () => {
      const rows = await db.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database =
           (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return rows.length > 0;
    });
    const stopped = queue.worker();
    const stoppedStart = stopped.start();
    const worker = queue.worker({ pollInterval: 50 });
    let started = false;
    const starting = worker.start().then(() => {
      started = true;
    });
    // Both connect and reach the check, which waits; stop() ends one wait at once.
    // The check runs while each claimer session is set up, before the worker reports it.
    await waitFor('both workers to connect', async () => {
      const rows = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'queue-claimer'`,
      );
      return rows.length >= 2;
    });
    await stopped.stop();
    await stoppedStart;
    expect(started).toBe(false);
    await holder.query('COMMIT');
    await holder.end();
    expect((await migrating).length).toBeGreaterThan(0);
    await starting;
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    await queue.enqueue('noop', null);
    await done;
    await worker.stop();
  });

  it('starts after migrate() on the same database', async () => {
    const { queue } = makeQueue('migrated_later');
    const refused = await queue
      .worker()
      .start()
      .catch((e) => e);
    expect(refused).toBeInstanceOf(SchemaNotMigratedError);
    await queue.migrate();
    const worker = queue.worker({ pollInterval: 50 });
    await worker.start();
    const done = nextEvent<{ job: Job }>(worker, 'completed');
    await queue.enqueue('noop', null);
    await done;
    await worker.stop();
  });
});
