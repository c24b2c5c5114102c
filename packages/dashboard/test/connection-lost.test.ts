// The standalone dashboard server, in a real process, when the sessions of its pool end
// (pg_terminate_backend: what a restart or a failover does to them) while idle and while a
// request waits on one. The process lives, the request gets a JSON 503, the next one works.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer } from '../src/index.js';

const db = useTestDatabase();
const fixture = fileURLToPath(new URL('./fixtures/standalone-server.ts', import.meta.url));
let child: ChildProcess;
let url: string;
let output = '';

beforeAll(async () => {
  child = fork(fixture, [], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: db.url },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  [{ url }] = (await once(child, 'message')) as [{ url: string }];
});
afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});

const overview = async () => {
  const res = await fetch(`${url}api/overview`);
  return { status: res.status, body: (await res.json()) as { error?: { code: string }; queues?: unknown } };
};
/** The server's own sessions: its queue's pool names them 'queue'. */
const serverSessions = (where = '') =>
  db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'queue' ${where}`,
    [db.name],
  );
const terminate = (pids: number[]) =>
  db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [pids]);

describe('the standalone dashboard server, when its sessions end', () => {
  it('idle: the pool drops them, the process lives, the next request works', async () => {
    expect((await overview()).status).toBe(200);
    const idle = (await serverSessions()).map((r) => r.pid);
    expect(idle.length).toBeGreaterThan(0);
    await terminate(idle);
    // The pool heard each one end (core logs it) rather than the process dying of it. All of
    // them: a request sent after the first line could still be handed a client whose end the
    // pool has not read yet (the overview runs five statements at once, one per session).
    await waitFor(
      'the pool to log every lost connection',
      () => output.split('idle pool connection failed').length - 1 >= idle.length,
    );
    expect(child.exitCode).toBeNull();
    const next = await overview();
    expect(next.status).toBe(200);
    expect(next.body.queues).toBeDefined();
  });

  it('in flight: the request gets a JSON 503, the process lives, the next request works', async () => {
    // A lock on the jobs table makes the overview's queries wait, on the server's sessions.
    const holder = new Queue({ connectionString: db.url, logger: silentLogger });
    const client = await holder.pool.connect();
    client.on('error', () => {});
    try {
      await client.query('BEGIN');
      await client.query('LOCK TABLE queue.jobs IN ACCESS EXCLUSIVE MODE');
      const answer = overview();
      const waiting = await waitFor('the overview to wait for the lock', async () => {
        const rows = await serverSessions(`AND wait_event_type = 'Lock'`);
        return rows.length > 0 ? rows.map((r) => r.pid) : undefined;
      });
      await terminate(waiting);
      const res = await answer;
      expect(res.status).toBe(503);
      expect(res.body.error?.code).toBe('DASHBOARD_DATABASE');
    } finally {
      await client.query('ROLLBACK');
      client.release();
      await holder.close();
    }
    expect(child.exitCode).toBeNull();
    expect((await overview()).status).toBe(200);
  });
});

describe('a dashboard whose database cannot be reached', () => {
  it('answers a JSON 503, not a 500', async () => {
    // Nothing listens on port 1: every connection is refused.
    const server = await startDashboardServer({
      queue: new Queue({ connectionString: 'postgres://nobody@127.0.0.1:1/none', logger: silentLogger }),
      port: 0,
      unsafeNoAuth: true,
    });
    try {
      const res = await fetch(`${server.url}api/overview`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).error.code).toBe('DASHBOARD_DATABASE');
    } finally {
      await server.close();
    }
  });
});
