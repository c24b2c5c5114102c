import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskMap } from '../../core/src/index.js';
import { useTestDatabase } from './database.js';
import { waitFor } from './wait.js';

/**
 * The contract every framework adapter passes. An adapter's test file supplies a harness
 * that boots a real app on a free port with the given tasks registered the framework's way,
 * and these routes:
 *
 *   POST /contract/enqueue  {task, payload}   enqueue through the adapter's queue; 201 {id}
 *   POST /contract/signup   {value, fail}     in ONE database transaction: insert `value` into
 *                                             contract_rows and enqueue task 'record' {value}
 *                                             on the transaction's client; if `fail` is true,
 *                                             roll back and answer 500, else commit and 201.
 *
 * The harness must wire the worker to the app's lifecycle: started when the app is ready,
 * stopped gracefully by `close()`.
 */
export interface AdapterHarness {
  name: string;
  start(options: AppOptions): Promise<RunningApp>;
}

export interface AppOptions {
  databaseUrl: string;
  /** Tasks to register (as plain handlers; the harness may wrap them in its framework's style). */
  tasks: TaskMap;
  /** Worker concurrency per queue. */
  concurrency: number;
}

export interface RunningApp {
  baseUrl: string;
  /** Closes the app the framework's way (server close / app.close()); the worker must stop gracefully. */
  close(): Promise<void>;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS contract_rows (value text PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS contract_effects (value text PRIMARY KEY, app text NOT NULL);
  CREATE TABLE IF NOT EXISTS contract_events (value text NOT NULL, event text NOT NULL);
`;

export function runAdapterContract(harness: AdapterHarness): void {
  describe(`adapter contract: ${harness.name}`, () => {
    const db = useTestDatabase();
    let pool: pg.Pool;
    const gates = new Map<string, () => void>();

    const tasksFor = (app: string): TaskMap => ({
      record: async (p: { value: string }) => {
        await pool.query('INSERT INTO contract_effects (value, app) VALUES ($1, $2)', [p.value, app]);
      },
      slow: async (p: { value: string }) => {
        await pool.query(`INSERT INTO contract_events VALUES ($1, 'started')`, [p.value]);
        await new Promise<void>((resolve) => gates.set(p.value, resolve));
        await pool.query(`INSERT INTO contract_events VALUES ($1, 'finished')`, [p.value]);
      },
    });

    const post = async (app: RunningApp, path: string, body: unknown) => {
      const res = await fetch(`${app.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };
    const effect = async (value: string) =>
      (await pool.query('SELECT app FROM contract_effects WHERE value = $1', [value])).rows[0]?.app as
        | string
        | undefined;

    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: db.url, max: 4 });
      // pool.end() resolves before idle sockets close; the database drop after the file then
      // terminates them, which must not surface as an uncaught error.
      pool.on('error', () => {});
      await pool.query(SCHEMA);
    });
    afterAll(async () => {
      await pool.end();
    });

    it('boots, and a job enqueued from a route runs', async () => {
      const app = await harness.start({ databaseUrl: db.url, tasks: tasksFor('a'), concurrency: 4 });
      try {
        const res = await post(app, '/contract/enqueue', { task: 'record', payload: { value: 'route-1' } });
        expect(res.status).toBe(201);
        expect(String(res.body?.id)).toMatch(/^\d+$/);
        expect(await waitFor('the job to run', () => effect('route-1'))).toBe('a');
      } finally {
        await app.close();
      }
    });

    it('a transactional enqueue commits with the request, and rolls back with it', async () => {
      const app = await harness.start({ databaseUrl: db.url, tasks: tasksFor('a'), concurrency: 4 });
      try {
        const failed = await post(app, '/contract/signup', { value: 'tx-rolled-back', fail: true });
        expect(failed.status).toBe(500);
        const ok = await post(app, '/contract/signup', { value: 'tx-committed', fail: false });
        expect(ok.status).toBe(201);
        await waitFor('the committed job to run', () => effect('tx-committed'));
        // The rolled-back request left neither its row nor its job.
        const rows = await pool.query(`SELECT value FROM contract_rows ORDER BY value`);
        expect(rows.rows.map((r) => r.value)).toEqual(['tx-committed']);
        const jobs = await pool.query(
          `SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = 'tx-rolled-back'`,
        );
        expect(jobs.rows[0].n).toBe(0);
        expect(await effect('tx-rolled-back')).toBeUndefined();
      } finally {
        await app.close();
      }
    });

    it('closing the app waits for a running job to finish', async () => {
      const app = await harness.start({ databaseUrl: db.url, tasks: tasksFor('a'), concurrency: 4 });
      await post(app, '/contract/enqueue', { task: 'slow', payload: { value: 'slow-1' } });
      await waitFor('the slow job to start', () => gates.has('slow-1'));
      let closed = false;
      const closing = app.close().then(() => {
        closed = true;
      });
      // The job is still running, so close() must still be waiting.
      await new Promise((r) => setImmediate(r));
      const events1 = await pool.query(`SELECT event FROM contract_events WHERE value = 'slow-1'`);
      expect(events1.rows.map((r) => r.event)).toEqual(['started']);
      expect(closed).toBe(false);
      gates.get('slow-1')!();
      await closing;
      const events = await pool.query(
        `SELECT event FROM contract_events WHERE value = 'slow-1' ORDER BY event`,
      );
      expect(events.rows.map((r) => r.event)).toEqual(['finished', 'started']);
      const left = await pool.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE task = 'slow'`);
      expect(left.rows[0].n).toBe(0);
    });

    it('a second app instance shares the work, and each job runs once', async () => {
      const a = await harness.start({ databaseUrl: db.url, tasks: tasksFor('a'), concurrency: 2 });
      const b = await harness.start({ databaseUrl: db.url, tasks: tasksFor('b'), concurrency: 2 });
      try {
        const values = Array.from({ length: 200 }, (_, i) => `shared-${i}`);
        await Promise.all(
          values.map((value, i) =>
            post(i % 2 ? a : b, '/contract/enqueue', { task: 'record', payload: { value } }),
          ),
        );
        await waitFor('all 200 jobs to run', async () => {
          const r = await pool.query(
            `SELECT count(*)::int AS n FROM contract_effects WHERE value LIKE 'shared-%'`,
          );
          return r.rows[0].n === 200;
        });
        const byApp = await pool.query(
          `SELECT app, count(*)::int AS n FROM contract_effects WHERE value LIKE 'shared-%' GROUP BY app`,
        );
        const counts = Object.fromEntries(byApp.rows.map((r) => [r.app, r.n]));
        expect(counts.a).toBeGreaterThan(0);
        expect(counts.b).toBeGreaterThan(0);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
}
