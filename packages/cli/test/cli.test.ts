import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOCK_NAMESPACE, Queue, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useEmptyDatabase, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueCli, startCli } from './spawn.js';

const db = useTestDatabase();
const empty = useEmptyDatabase();
let queue: Queue;
let dir: string;

beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  dir = mkdtempSync(join(tmpdir(), 'queue-cli-test-'));
});
afterAll(async () => {
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => expectNoAdvisoryLocks(db));

const env = () => ({ DATABASE_URL: db.url });

async function failJob(task: string, q = 'default') {
  const job = await queue.enqueue(task, {}, { queue: q });
  await db.query(`UPDATE queue.jobs SET failed_at = now(), attempts = 1 WHERE id = $1`, [job.id]);
  return job;
}

describe('queue --help', () => {
  it('prints the usage, the commands and the exit codes', async () => {
    const r = await queueCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: queue <command>/);
    for (const c of [
      'migrate',
      'worker <module>',
      'stats',
      'list',
      'running',
      'show <id>',
      'wait <id>',
      'enqueue <task> [json]',
      'cancel <id...>',
      'cancel --queue <name>',
      'retry <id...>',
      'retry --state <state>',
      'delete <id...>',
      'delete --state <state>',
      'retention [queue]',
      'limits [queue]',
      'pause <queue...>',
      'resume <queue...>',
      'dashboard',
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${c.replace(/[.[\]]/g, '\\$&')}  `, 'm'));
    expect(r.stdout).toContain('Exit codes:');
  });

  it.each([
    'migrate',
    'worker',
    'stats',
    'list',
    'running',
    'show',
    'wait',
    'enqueue',
    'cancel',
    'retry',
    'delete',
    'retention',
    'limits',
    'pause',
    'resume',
    'dashboard',
  ])('has help for %s', async (command) => {
    const r = await queueCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: queue ${command}`));
  });

  it('exits 2 on a bad command line', async () => {
    expect((await queueCli([])).code).toBe(2);
    const unknown = await queueCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const flag = await queueCli(['stats', '--bogus'], env());
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    expect((await queueCli(['retry', 'abc'], env())).code).toBe(2);
    expect((await queueCli(['worker', '--concurrency', 'many', 'x.js'], env())).code).toBe(2);
    const noDb = await queueCli(['stats']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('set DATABASE_URL');
  });
});

describe('connection errors', () => {
  it('exits 3 with a clear message for a bad connection string', async () => {
    const notUrl = await queueCli(['stats'], { DATABASE_URL: 'host=localhost user=me' });
    expect(notUrl.code).toBe(3);
    expect(notUrl.stderr).toContain('not a URL');
    const wrongScheme = await queueCli(['stats'], { DATABASE_URL: 'mysql://root@127.0.0.1/db' });
    expect(wrongScheme.code).toBe(3);
    expect(wrongScheme.stderr).toContain('postgres://');
  });

  it('exits 3 when the database cannot be reached or does not exist', async () => {
    const refused = await queueCli(['stats'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('connection refused');
    const missing = await queueCli(['stats'], {
      DATABASE_URL: db.url.replace(/\/[^/]*$/, '/no_such_database_here'),
    });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no_such_database_here');
  });
});

describe('queue migrate and stats', () => {
  it('migrates an empty database once, then has nothing to do', async () => {
    const before = await queueCli(['stats'], { DATABASE_URL: empty.url });
    expect(before.code).toBe(3);
    expect(before.stderr).toContain('queue migrate');
    const first = await queueCli(['migrate'], { DATABASE_URL: empty.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied migrations 1, 2/);
    const again = await queueCli(['migrate', '--database-url', empty.url]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe('schema is up to date');
  });

  it('counts jobs per queue and state, as a table or JSON', async () => {
    await queue.enqueue('a', {}, { queue: 'stats-q' });
    await queue.enqueue('a', {}, { queue: 'stats-q', delay: 60_000 });
    const failed = await failJob('a', 'stats-q');
    const table = await queueCli(['stats'], env());
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/QUEUE\s+AVAILABLE\s+SCHEDULED\s+RUNNING\s+FAILED\s+PAUSED/);
    expect(table.stdout).toMatch(/stats-q\s+1\s+1\s+0\s+1\s+no/);
    // No worker runs: the due job is one nobody will run, and stats says why.
    expect(table.stdout).toContain('jobs nobody will run:');
    expect(table.stdout).toMatch(/1 of task "a" on queue "stats-q": no live worker serves queue "stats-q"/);
    const json = await queueCli(['stats', '--json'], env());
    expect(JSON.parse(json.stdout)).toContainEqual({
      queue: 'stats-q',
      available: 1,
      scheduled: 1,
      running: 0,
      failed: 1,
      paused: false,
    });
    await db.query(`DELETE FROM queue.jobs WHERE queue = 'stats-q'`);
    expect(failed.id).toBeTruthy();
  });
});

describe('queue retry and delete', () => {
  it('retries a failed job, and exits 4 for an unknown one', async () => {
    const job = await failJob('r');
    const r = await queueCli(['retry', job.id], env());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`retried job ${job.id}`);
    expect((await queue.getJob(job.id))?.state).toBe('available');
    const unknown = await queueCli(['retry', '987654321'], env());
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('no job with id 987654321');
    await queue.deleteJob(job.id);
  });

  it('retries every failed job of a queue with --failed', async () => {
    await failJob('r', 'bulk');
    await failJob('r', 'bulk');
    const other = await failJob('r', 'other');
    const r = await queueCli(['retry', '--failed', '--queue', 'bulk'], env());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('retried 2 failed jobs of queue "bulk"');
    expect((await queue.getJob(other.id))?.state).toBe('failed');
    await db.query(`DELETE FROM queue.jobs WHERE queue IN ('bulk', 'other')`);
  });

  it('deletes jobs, exits 4 for an unknown one and 5 for a running one', async () => {
    const job = await queue.enqueue('d', {});
    const r = await queueCli(['delete', job.id], env());
    expect(r.code).toBe(0);
    expect(await queue.getJob(job.id)).toBeNull();
    expect((await queueCli(['delete', job.id], env())).code).toBe(4);

    // A running job is one whose advisory lock a session holds: hold it as a worker would.
    const busy = await queue.enqueue('d', {});
    const client = await queue.pool.connect();
    try {
      await client.query(`SELECT pg_advisory_lock($1::bigint # ($2::bigint << 32))`, [
        busy.id,
        DEFAULT_LOCK_NAMESPACE,
      ]);
      const running = await queueCli(['delete', busy.id], env());
      expect(running.code).toBe(5);
      expect(running.stderr).toContain('running');
      await client.query(`SELECT pg_advisory_unlock($1::bigint # ($2::bigint << 32))`, [
        busy.id,
        DEFAULT_LOCK_NAMESPACE,
      ]);
    } finally {
      client.release();
    }
    await queue.deleteJob(busy.id);
  });
});

describe('queue worker', () => {
  it('runs the tasks a module exports and stops gracefully on SIGTERM', async () => {
    const module = join(dir, 'tasks.mjs');
    writeFileSync(
      module,
      `export default {
        quick: async () => {},
        slow: async (payload) => { await new Promise((r) => setTimeout(r, payload.ms)); },
      };\n`,
    );
    const w = startCli(
      ['worker', module, '--concurrency', '2', '--queues', 'default,emails', '--poll-interval', '100'],
      env(),
    );
    await w.line(/worker started for tasks quick, slow/);
    await queue.enqueueMany([
      { task: 'quick', payload: {} },
      { task: 'quick', payload: {}, options: { queue: 'emails' } },
      { task: 'quick', payload: {} },
    ]);
    await waitFor(
      'the quick jobs done',
      async () => (await db.query('SELECT 1 FROM queue.jobs')).length === 0,
    );

    const slow = await queue.enqueue('slow', { ms: 1500 });
    await waitFor('the slow job running', async () => (await queue.getJob(slow.id))?.state === 'running');
    w.child.kill('SIGTERM');
    const result = await w.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('SIGTERM: stopping, waiting for 1 running job');
    // Graceful: the running job finished and was recorded, not abandoned to run again.
    expect((await queue.getJob(slow.id))?.state).toBe('completed');
  });

  it('exits 2 for a missing module or one without tasks', async () => {
    const missing = await queueCli(['worker', './nope.mjs'], env(), dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const none = join(dir, 'none.mjs');
    writeFileSync(none, 'export const x = 1;\n');
    const r = await queueCli(['worker', none], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exports no task map');
  });
});

describe('queue dashboard', () => {
  it('refuses to start without authentication unless told --no-auth', async () => {
    const r = await queueCli(['dashboard', '--port', '0'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('QUEUE_DASHBOARD_USER');
  });

  it('serves the dashboard with Basic auth and stops on SIGTERM', async () => {
    const d = startCli(['dashboard', '--port', '0', '--base-path', '/ops'], {
      ...env(),
      QUEUE_DASHBOARD_USER: 'me',
      QUEUE_DASHBOARD_PASSWORD: 'pw',
    });
    const [, url] = await d.line(/dashboard on (http:\/\/\S+)/);
    expect(url).toMatch(/\/ops\/$/);
    expect((await fetch(`${url}api/overview`)).status).toBe(401);
    const ok = await fetch(`${url}api/overview`, {
      headers: { authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });
});
