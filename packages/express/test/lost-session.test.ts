// A session that ends while a route (or a withTransaction function) holds its client: in
// this process, on both Express majors. An 'error' event nobody hears would fail the run
// (vitest reports it), so every test here also proves the process survived it.
// test/lost-session-process.test.ts does the same with a real server process.
import { once } from 'node:events';
import { silentLogger } from '@queue/core';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import type express5 from 'express';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, type ExpressQueue, transaction, withTransaction } from '../src/index.js';
import { expressVersions, listen, postJson } from './helpers.js';

const db = useTestDatabase();
let pool: pg.Pool;
/** Backend pids of the clients the pool dropped (it emits 'remove' for each). */
const removed = new Set<number>();
/** Routes waiting on a lost session, by value: their backend pid. */
const waiting = new Map<string, number>();
/** Clients routes and functions had, with the 'error' listeners they had while out. */
const seen: { client: pg.PoolClient; ours: Function[] }[] = [];
const see = (client: pg.PoolClient) => seen.push({ client, ours: client.listeners('error') });

/** Once back in the pool, every client has pg-pool's listener again, and ours is gone. */
function expectNoListenerLeft() {
  expect(seen.length).toBeGreaterThan(0);
  for (const { client, ours } of seen.splice(0)) {
    // While out: our listener, and only ours (pg-pool takes its own off).
    expect(ours).toHaveLength(1);
    expect(client.listenerCount('error')).toBe(1);
    expect(client.listeners('error')).not.toContain(ours[0]);
  }
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => {});
  pool.on('remove', (client) => removed.add((client as unknown as { processID: number }).processID));
  await pool.query('CREATE TABLE rows (value text PRIMARY KEY)');
});
afterAll(() => pool.end());
afterEach(() => {
  waiting.clear();
  // Every client was given back or dropped: none is left checked out.
  expect(pool.totalCount - pool.idleCount).toBe(0);
});

const rowsWith = async (value: string) =>
  (await pool.query('SELECT count(*)::int AS n FROM rows WHERE value = $1', [value])).rows[0].n as number;
const jobsWith = async (value: string) =>
  (await pool.query(`SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = $1`, [value]))
    .rows[0].n as number;
const terminate = (pid: number) => db.query('SELECT pg_terminate_backend($1)', [pid]);
/** Resolves once the backend runs the statement that sleeps (a query is in flight on it). */
const sleeping = (pid: number) =>
  waitFor(`backend ${pid} to sleep`, async () => {
    const rows = await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`, [
      pid,
    ]);
    return rows.length === 1;
  });
/** The client's socket: its 'close' comes after pg has read (and emitted) the session's end. */
const socketOf = (client: pg.PoolClient) =>
  (client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream;

/** What a route does once it has written: answer, run another query, or sleep in a query. */
type Mode = 'answers' | 'queries' | 'sleeps';

async function writeThenWait(
  client: pg.PoolClient,
  value: string,
  mode: Mode,
  enqueue: () => Promise<unknown>,
) {
  await client.query('INSERT INTO rows (value) VALUES ($1)', [value]);
  await enqueue();
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  const closed = once(socketOf(client), 'close');
  waiting.set(value, rows[0].pid);
  if (mode === 'sleeps') {
    await client.query('SELECT pg_sleep(600)');
    return;
  }
  // Between two queries: the session ends while nothing is pending on the client.
  await closed;
  if (mode === 'queries') await client.query('SELECT 1');
}

async function lose(value: string, mode: Mode): Promise<number> {
  const pid = await waitFor(`the route for ${value} to wait`, () => waiting.get(value));
  if (mode === 'sleeps') await sleeping(pid);
  await terminate(pid);
  return pid;
}

for (const [label, express] of expressVersions) {
  describe(`transaction() on ${label}, when the session ends`, () => {
    let jobs: ExpressQueue<any>;
    let baseUrl: string;

    beforeAll(async () => {
      const app = express();
      app.use(express.json());
      jobs = createQueue(app, {
        pool,
        tasks: { record: async () => {} },
        worker: false,
        logger: silentLogger,
      });
      app.post(
        '/rows/:mode',
        transaction(async (req, res) => {
          const { value } = req.body;
          if (req.params.mode !== 'ok') {
            await writeThenWait(req.tx, value, req.params.mode as Mode, () =>
              req.queue.enqueue('record', { value }, { client: req.tx }),
            );
          } else {
            see(req.tx);
            await req.tx.query('INSERT INTO rows (value) VALUES ($1)', [value]);
          }
          res.status(201).json({ value });
        }),
      );
      app.use(((error, _req, res, _next) => {
        res.status(500).json({ code: error.code ?? null, message: error.message });
      }) as express5.ErrorRequestHandler);
      ({ baseUrl } = await listen(app as express5.Express));
    });
    afterAll(() => jobs.close());

    for (const [mode, expected] of [
      // The route answers 201 after the loss: COMMIT is never sent, the error replaces the answer.
      ['answers', { code: '57P01', message: /terminating connection due to administrator command/ }],
      // The route's next query fails, and its error goes to the error handler.
      ['queries', { code: null, message: /not queryable/ }],
      // A query in flight fails with the session's error.
      ['sleeps', { code: '57P01', message: /terminating connection/ }],
    ] as const) {
      it(`${mode}: the error goes to next(err), nothing commits, the client is dropped`, async () => {
        const value = `${label}-${mode}`;
        const answer = postJson(baseUrl, `/rows/${mode}`, { value });
        const pid = await lose(value, mode);
        const res = await answer;
        expect(res.status).toBe(500);
        expect(res.body.code).toBe(expected.code);
        expect(res.body.message).toMatch(expected.message);
        expect(await rowsWith(value)).toBe(0);
        expect(await jobsWith(value)).toBe(0);
        expect(removed.has(pid)).toBe(true);
        // The same app goes on serving.
        expect((await postJson(baseUrl, '/rows/ok', { value: `${value}-next` })).status).toBe(201);
        expect(await rowsWith(`${value}-next`)).toBe(1);
      });
    }

    it('listens only while the client is out: no listener is left behind', async () => {
      for (let i = 0; i < 20; i++) {
        expect((await postJson(baseUrl, '/rows/ok', { value: `${label}-listeners-${i}` })).status).toBe(201);
      }
      expectNoListenerLeft();
    });
  });
}

describe('withTransaction, when the session ends', () => {
  let jobs: ExpressQueue<any>;
  beforeAll(() => {
    const app = expressVersions[0]![1]();
    jobs = createQueue(app, { pool, tasks: { record: async () => {} }, worker: false, logger: silentLogger });
  });
  afterAll(() => jobs.close());

  for (const mode of ['answers', 'sleeps'] as const) {
    it(`${mode === 'answers' ? 'between two queries' : 'during a query'}: rejects with the pg error and drops the client`, async () => {
      const value = `helper-${mode}`;
      // Caught at once: it may reject before the test gets to await it.
      const outcome = withTransaction(pool, (client) =>
        writeThenWait(client, value, mode, () => jobs.queue.enqueue('record', { value }, { client })),
      ).then(
        () => 'committed',
        (error: unknown) => error,
      );
      const pid = await lose(value, mode);
      expect(await outcome).toMatchObject({ code: '57P01' });
      expect(await rowsWith(value)).toBe(0);
      expect(await jobsWith(value)).toBe(0);
      expect(removed.has(pid)).toBe(true);
    });
  }

  it('listens only while the client is out: no listener is left behind', async () => {
    for (let i = 0; i < 20; i++) await withTransaction(pool, async (client) => void see(client));
    expectNoListenerLeft();
  });
});
