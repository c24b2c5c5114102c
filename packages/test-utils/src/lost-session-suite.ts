import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from './database.js';
import { waitFor } from './wait.js';

export interface LostSessionHarness {
  /** For the describe title: 'Fastify', 'Nest'. */
  framework: string;
  /**
   * A server process (run with `node --import tsx`) that sends `{ port }` over IPC when it
   * listens, serves `POST /rows/answers|sleeps|ok` inside a guarded transaction (reporting
   * `{ waiting: value, pid }` while it waits), and `GET /pool` (total, idle, removed pids).
   */
  fixture: string;
  /** The package directory to run it in. */
  cwd: string;
  /** What the framework's error path answers for the session's 57P01 (matched with toMatchObject). */
  errorBody: Record<string, unknown>;
}

/**
 * Issue 10's reproduction, run by every adapter against a real server process: the session of
 * a route inside a transaction is terminated between two queries, or during one. The process
 * lives on, answers 500 through the framework's error path, commits nothing, drops the broken
 * client, and serves the next request on a sound connection. Without the guarded checkout the
 * process dies of an unhandled 'error' event (57P01) and exits with code 1.
 */
export function runLostSessionSuite(harness: LostSessionHarness): void {
  const db = useTestDatabase();

  let child: ChildProcess;
  let baseUrl: string;
  const messages: { waiting?: string; pid?: number }[] = [];

  beforeAll(async () => {
    await db.query('CREATE TABLE rows (value text PRIMARY KEY)');
    child = fork(harness.fixture, [], {
      cwd: harness.cwd,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m) => messages.push(m as (typeof messages)[number]));
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    baseUrl = `http://127.0.0.1:${port}`;
  }, 60_000);
  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  async function postJson(path: string, body: unknown) {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const count = async (sql: string, value: string) => (await db.query(sql, [value]))[0].n as number;
  const rowsWith = (value: string) => count('SELECT count(*)::int AS n FROM rows WHERE value = $1', value);
  const jobsWith = (value: string) =>
    count(`SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = $1`, value);

  // Each boots a process through tsx, which takes a few seconds on a cold cache.
  describe(`a real ${harness.framework} process whose transaction loses its session`, {
    timeout: 60_000,
  }, () => {
    for (const mode of ['answers', 'sleeps'] as const) {
      it(`${mode === 'answers' ? 'between two queries' : 'during a query'}: lives on, answers 500, commits nothing, drops the client`, async () => {
        const value = `process-${mode}`;
        const answer = postJson(`/rows/${mode}`, { value });
        const { pid } = await waitFor(`the route for ${value} to wait`, () =>
          messages.find((m) => m.waiting === value),
        );
        if (mode === 'sleeps') {
          await waitFor('the query to be in flight', async () => {
            const active = await db.query(
              `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`,
              [pid],
            );
            return active.length === 1;
          });
        }
        await db.query('SELECT pg_terminate_backend($1)', [pid]);

        const res = await answer;
        expect(res.status).toBe(500);
        expect(res.body).toMatchObject(harness.errorBody);
        expect(child.exitCode).toBeNull();
        expect(await rowsWith(value)).toBe(0);
        expect(await jobsWith(value)).toBe(0);

        // The same process serves the next request, on a sound connection.
        const next = await postJson('/rows/ok', { value: `${value}-next` });
        expect(next.status).toBe(201);
        expect(await rowsWith(`${value}-next`)).toBe(1);
        const pool = (await (await fetch(`${baseUrl}/pool`)).json()) as {
          total: number;
          idle: number;
          removed: number[];
        };
        // The broken client was dropped, not pooled, and nothing is left checked out.
        expect(pool.removed).toContain(pid);
        expect(pool.total).toBe(pool.idle);
        expect(child.exitCode).toBeNull();
      });
    }
  });
}
