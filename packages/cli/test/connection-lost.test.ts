// A command whose database session ends under it: exit code 3 ("the database is unusable")
// and one line on stderr, never a stack trace. Before the fix, `queue migrate` died of an
// unhandled 'error' event (exit code 1), and a reset connection was an "unexpected error".
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { DEFAULT_LOCK_NAMESPACE, Queue, silentLogger } from '@queue/core';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli } from './spawn.js';

const db = useTestDatabase();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Holds a lock (or anything else) in an open transaction until the test ends. */
async function holdInTransaction(sql: string, values: unknown[] = []) {
  // The CLI's package has no pg of its own: a queue's pool gives the client.
  const queue = new Queue({ connectionString: db.url, logger: silentLogger });
  cleanups.push(() => queue.close());
  const holder = await queue.pool.connect();
  holder.on('error', () => {});
  cleanups.push(async () => holder.release(true));
  await holder.query('BEGIN');
  await holder.query(sql, values);
}

/** The backend pid of the CLI's session once it waits for a lock. */
const cliWaitingForLock = () =>
  waitFor('the command to wait for the lock', async () => {
    const rows = await db.query(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'queue-cli' AND wait_event_type = 'Lock'`,
      [db.name],
    );
    return rows[0]?.pid as number | undefined;
  });

/** A TCP relay to Postgres whose connections the test can reset (the CLI's side gets a RST). */
async function startRelay(target: string) {
  const url = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket().connect(Number(url.port || 5432), url.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const relayed = new URL(target);
  relayed.hostname = '127.0.0.1';
  relayed.port = String((server.address() as { port: number }).port);
  return {
    url: relayed.toString(),
    resetAll: () => {
      for (const s of sockets) if (s.remotePort !== Number(url.port || 5432)) s.resetAndDestroy();
    },
  };
}

describe('a session lost in the middle of a command', () => {
  it('migrate: terminated while it waits for the migration lock, exits 3 with one line', async () => {
    await holdInTransaction('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      DEFAULT_LOCK_NAMESPACE,
      'migrate:queue',
    ]);
    const cli = startCli(['migrate'], { DATABASE_URL: db.url });
    const pid = await cliWaitingForLock();
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toBe(
      'queue: database unavailable: terminating connection due to administrator command\n',
    );
    expect(result.stdout).toBe('');
  });

  it('stats: a connection reset while its query waits exits 3 with one line', async () => {
    await holdInTransaction('LOCK TABLE queue.jobs IN ACCESS EXCLUSIVE MODE');
    const relay = await startRelay(db.url);
    const cli = startCli(['stats'], { DATABASE_URL: relay.url });
    await cliWaitingForLock();
    relay.resetAll();
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toBe('queue: lost the connection to the database: read ECONNRESET\n');
    expect(result.stdout).toBe('');
  });

  it.each([
    ['list', ['list', '--state', 'failed']],
    ['show', ['show', '1']],
    ['pause', ['pause', 'emails']],
  ])('%s: terminated while its query waits, exits 3 with one line', async (_name, args) => {
    await holdInTransaction('LOCK TABLE queue.jobs IN ACCESS EXCLUSIVE MODE');
    const cli = startCli(args, { DATABASE_URL: db.url });
    const pid = await cliWaitingForLock();
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toBe(
      'queue: database unavailable: terminating connection due to administrator command\n',
    );
    expect(result.stdout).toBe('');
  });

  it('enqueue: terminated while its insert waits, exits 3 with one line and stores nothing', async () => {
    await holdInTransaction('LOCK TABLE queue.jobs IN ACCESS EXCLUSIVE MODE');
    const cli = startCli(['enqueue', 'lost', '{"a":1}'], { DATABASE_URL: db.url });
    await db.query('SELECT pg_terminate_backend($1)', [await cliWaitingForLock()]);
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toBe(
      'queue: database unavailable: terminating connection due to administrator command\n',
    );
    expect(result.stdout).toBe('');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); // the lock goes
    expect(await db.query(`SELECT id FROM queue.jobs WHERE task = 'lost'`)).toEqual([]);
  });

  it('enqueue: a connection reset while its insert waits exits 3 with one line', async () => {
    // Unlike a terminated session, the server's side may still commit the insert once the
    // lock is free (it notices the lost client only when it answers): the README says so.
    await holdInTransaction('LOCK TABLE queue.jobs IN ACCESS EXCLUSIVE MODE');
    const relay = await startRelay(db.url);
    const cli = startCli(['enqueue', 'reset', '{"a":1}'], { DATABASE_URL: relay.url });
    await cliWaitingForLock();
    relay.resetAll();
    const result = await cli.exited;
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toBe('queue: lost the connection to the database: read ECONNRESET\n');
    expect(result.stdout).toBe('');
  });
});
