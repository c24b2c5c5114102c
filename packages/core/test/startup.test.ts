/**
 * Booting while Postgres is down: migrate() and worker.start() wait for a Postgres that
 * comes up late (retrying with a warning per attempt), fail at once on errors waiting cannot
 * fix, give up after startupTimeout with DatabaseUnavailableError, and end the wait on stop().
 */
import { readFile } from 'node:fs/promises';
import { nextEvent } from '@queue/test-utils';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, InvalidOptionError, Queue, type QueueOptions } from '../src/index.js';
import { isUnreachable } from '../src/startup.js';
import { type DedicatedPostgres, startDedicatedPostgres } from './faults/dedicated-postgres.js';
import { captureLogger } from './faults/process-kit.js';

type LogLine = ReturnType<typeof captureLogger>['lines'][number];

/** A password that appears nowhere else, so a log line that leaks it is caught. */
const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;
const RETRY_LINE =
  /^Postgres not reachable at 127\.0\.0\.1:(\d+) \(([^)]+)\); retrying in \d+\.\d s \(attempt (\d+), giving up in \d+(\.\d)? s\)$/;

let server: DedicatedPostgres;
/** The dedicated server's URL for a role whose password is SECRET. */
let url: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startDedicatedPostgres();
  const c = new pg.Client(server.url);
  await c.connect();
  await c.query(`CREATE ROLE boot LOGIN SUPERUSER PASSWORD '${SECRET}'`);
  await c.end();
  url = `postgres://boot:${SECRET}@127.0.0.1:${server.port}/postgres`;
}, 120_000);
afterAll(() => server?.destroy());
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  await ensureRunning();
});

let running = true;
async function stopServer() {
  await server.stop();
  running = false;
}
async function startServer() {
  await server.start();
  running = true;
}
async function ensureRunning() {
  if (!running) await startServer();
}

function makeQueue(options: Partial<QueueOptions<any>> = {}) {
  const logger = captureLogger();
  const queue = new Queue<any>({ connectionString: url, logger, ...options });
  closers.push(() => queue.close());
  return { queue, logger };
}

function retryLines(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level === 'warn' && RETRY_LINE.test(l.msg));
}

/** Nothing we logged may carry the password, in the message or in its fields. */
function expectNoSecret(lines: LogLine[]) {
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) expect(`${l.msg} ${JSON.stringify(l.fields)}`).not.toContain(SECRET);
}

async function sessions(applicationNames: string[]): Promise<number> {
  const c = new pg.Client(server.url);
  await c.connect();
  try {
    const { rows } = await c.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1)',
      [applicationNames],
    );
    return rows[0].n;
  } finally {
    await c.end();
  }
}

describe('booting while Postgres is down', () => {
  it('migrate() waits for a Postgres that comes up late, logging each retry with host:port and no password', async () => {
    await stopServer();
    const { queue, logger } = makeQueue({ schema: 'late_migrate' });
    const migrating = queue.migrate();
    // Two failed attempts, so the backoff is seen growing, then Postgres comes up.
    await logger.next(/^Postgres not reachable .*\(attempt 2,/);
    await startServer();
    const applied = await migrating;

    expect(applied.length).toBeGreaterThan(0);
    const retries = retryLines(logger.lines);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    const [, port, reason, attempt] = RETRY_LINE.exec(retries[0]!.msg)!;
    expect(Number(port)).toBe(server.port);
    expect(reason).toBe('ECONNREFUSED');
    expect(attempt).toBe('1');
    expect(retries[0]!.fields).toMatchObject({
      operation: 'migrate()',
      address: `127.0.0.1:${server.port}`,
      code: 'ECONNREFUSED',
      attempt: 1,
    });
    expect(logger.lines.some((l) => l.level === 'info' && /^Postgres reachable at /.test(l.msg))).toBe(true);
    expectNoSecret(logger.lines);
    const { rows } = await queue.pool.query(`SELECT count(*)::int AS n FROM late_migrate.migrations`);
    expect(rows[0].n).toBe(applied.length);
  });

  it('migrate() waits through a shutting-down Postgres (57P03) and its restart', async () => {
    // A smart shutdown (SIGTERM to the postmaster) waits for open sessions to end and refuses
    // new ones with 57P03 "the database system is shutting down", as during a rolling restart.
    const holder = new pg.Client(server.url);
    await holder.connect();
    holder.on('error', () => {});
    const { rows } = await holder.query('SELECT pg_backend_pid() AS pid');
    const stat = await readFile(`/proc/${rows[0].pid}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    process.kill(postmaster, 'SIGTERM');
    running = false;

    const { queue, logger } = makeQueue({ schema: 'shutting_down' });
    const migrating = queue.migrate();
    const refused = await logger.next(
      /^Postgres not reachable .*\(57P03: the database system is shutting down\)/,
    );
    expect(refused.fields).toMatchObject({ code: '57P03' });
    // The last session ends, the server exits; it is then refused, and started again.
    await holder.end();
    await logger.next(/^Postgres not reachable .*\(ECONNREFUSED\)/);
    await startServer();
    expect((await migrating).length).toBeGreaterThan(0);
    expectNoSecret(logger.lines);
  });

  it('worker.start() waits for a Postgres that comes up late, then runs a job', async () => {
    const ran: number[] = [];
    const { queue, logger } = makeQueue({
      schema: 'late_worker',
      tasks: { record: async (n: number) => void ran.push(n) },
    });
    await queue.migrate();
    await stopServer();
    const worker = queue.worker({ pollInterval: 200 });
    const starting = worker.start();
    const first = await logger.next(/^Postgres not reachable /);
    expect(first.fields).toMatchObject({ operation: 'worker.start()', address: `127.0.0.1:${server.port}` });
    await startServer();
    await starting;

    const completed = nextEvent(worker, 'completed');
    const job = await queue.enqueue('record', 7);
    expect(((await completed) as { job: { id: string } }).job.id).toBe(job.id);
    expect(ran).toEqual([7]);
    expect(retryLines(logger.lines).length).toBeGreaterThanOrEqual(1);
    expectNoSecret(logger.lines);
  });

  it('errors Postgres answers with fail at once, with their message: no such database, wrong password', async () => {
    const noDb = makeQueue({
      connectionString: url.replace(/\/postgres$/, '/no_such_db'),
      tasks: { t: async () => {} },
    });
    let t0 = performance.now();
    const error = await noDb.queue.migrate().catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('3D000');
    expect((error as Error).message).toMatch(/database "no_such_db" does not exist/);
    const worker = noDb.queue.worker({});
    await expect(worker.start()).rejects.toThrow(/database "no_such_db" does not exist/);
    // Retrying would have logged and slept at least 0.05 s per attempt.
    expect(noDb.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5_000);

    const badPassword = makeQueue({ connectionString: url.replace(SECRET, 'wrong') });
    t0 = performance.now();
    const auth = await badPassword.queue.migrate().catch((e: unknown) => e);
    expect((auth as { code?: string }).code).toBe('28P01');
    expect(badPassword.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('gives up after startupTimeout with DatabaseUnavailableError naming host:port, the cause and the option', async () => {
    await stopServer();
    const { queue, logger } = makeQueue({ startupTimeout: 1_500, tasks: { t: async () => {} } });
    const t0 = performance.now();
    const error = (await queue.migrate().catch((e: unknown) => e)) as DatabaseUnavailableError;
    const took = performance.now() - t0;

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.code).toBe('QUEUE_DATABASE_UNAVAILABLE');
    expect(error.address).toBe(`127.0.0.1:${server.port}`);
    expect(error.stopped).toBe(false);
    expect(error.attempts).toBeGreaterThan(1);
    expect(error.attempts).toBe(retryLines(logger.lines).length + 1);
    expect(error.waitedMs).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeGreaterThanOrEqual(1_500);
    // The last sleep is cut to the deadline: giving up comes soon after it.
    expect(took).toBeLessThan(5_000);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toMatch(/startupTimeout/);
    expect(error.message).not.toContain(SECRET);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');

    // The worker's start() gives up the same way, on its own option.
    const worker = queue.worker({ startupTimeout: 300 });
    const failed = (await worker.start().catch((e: unknown) => e)) as DatabaseUnavailableError;
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
    expect(failed.operation).toBe('worker.start()');
    expect(failed.timeoutMs).toBe(300);
  });

  it('startupTimeout: 0 fails at the first refusal, without retrying; a bad value is refused by name', async () => {
    await stopServer();
    const { queue, logger } = makeQueue({ startupTimeout: 0 });
    const error = (await queue.migrate().catch((e: unknown) => e)) as DatabaseUnavailableError;
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(/not retried because startupTimeout is 0/);
    expect(retryLines(logger.lines)).toEqual([]);
    expect(() => new Queue({ connectionString: url, startupTimeout: -1 })).toThrow(InvalidOptionError);
    expect(() => new Queue({ connectionString: url, startupTimeout: 1.5 })).toThrow(/startupTimeout/);
  });

  it('stop() during the wait returns promptly, start() resolves stopped, and no connection is left', async () => {
    const { queue, logger } = makeQueue({ schema: 'stopped_early', tasks: { t: async () => {} } });
    await stopServer();
    const worker = queue.worker({});
    const starting = worker.start();
    // Wait for a long backoff, so that returning promptly proves the sleep was cut short. At
    // least "1.1 s" as printed: "1.0 s" may be a 956 ms backoff rounded up.
    const line = await logger.next(
      /^Postgres not reachable .*retrying in (1\.[1-9]|[2-9]\.\d|[1-9]\d+\.\d) s/,
      0,
      30_000,
    );
    const retryInMs = (line.fields as { retryInMs: number }).retryInMs;
    expect(retryInMs).toBeGreaterThanOrEqual(1_000);
    const t0 = performance.now();
    await worker.stop();
    const stopMs = performance.now() - t0;
    expect(stopMs).toBeLessThan(retryInMs / 2);
    await expect(starting).resolves.toBeUndefined();
    const attempts = retryLines(logger.lines).length;

    await startServer();
    // start() has settled, so no attempt can follow; the server shows none of ours.
    expect(await sessions(['queue-claimer', 'queue-listener'])).toBe(0);
    expect(retryLines(logger.lines).length).toBe(attempts);
  });

  it('close() during a waiting migrate() ends it with DatabaseUnavailableError (stopped)', async () => {
    await stopServer();
    const { queue, logger } = makeQueue({ schema: 'closed_early' });
    const migrating = queue.migrate().catch((e: unknown) => e);
    const line = await logger.next(/^Postgres not reachable .*retrying in ([1-9]\d*\.\d) s/, 0, 30_000);
    const t0 = performance.now();
    await queue.close();
    const error = (await migrating) as DatabaseUnavailableError;
    expect(performance.now() - t0).toBeLessThan((line.fields as { retryInMs: number }).retryInMs / 2);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.stopped).toBe(true);
    expect(error.message).toMatch(/stopped waiting for Postgres at 127\.0\.0\.1:\d+/);
  });
});

describe('isUnreachable', () => {
  it('sorts real errors: refused, unknown host, terminated are retried; answers and our own errors are not', async () => {
    const refused = await new pg.Client({ host: '127.0.0.1', port: 1 }).connect().catch((e: unknown) => e);
    expect(isUnreachable(refused)).toBe(true);
    const unknownHost = await new pg.Client({ host: 'no-such-host.invalid', port: 5432 })
      .connect()
      .catch((e: unknown) => e);
    expect((unknownHost as { code?: string }).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    expect(isUnreachable(unknownHost)).toBe(true);
    expect(isUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnreachable(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(isUnreachable(new AggregateError([refused, refused]))).toBe(true);

    const noDb = await new pg.Client(url.replace(/\/postgres$/, '/nope')).connect().catch((e: unknown) => e);
    expect(isUnreachable(noDb)).toBe(false);
    const c = new pg.Client(url);
    await c.connect();
    const badSql = await c.query('SELEC 1').catch((e: unknown) => e);
    await c.end();
    expect(isUnreachable(badSql)).toBe(false);
    expect(isUnreachable(new InvalidOptionError('x', 'y'))).toBe(false);
    expect(isUnreachable(new Error('something else'))).toBe(false);
  });
});
