// A session that ends while a route's withTransaction holds its client, in this process. An
// 'error' event nobody hears would fail the run (vitest reports it), so every test here also
// proves the process survived it. test/lost-session-process.test.ts does it with a real process.
import { once } from 'node:events';
import fastifyPostgres from '@fastify/postgres';
import { silentLogger } from '@queue/core';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fastifyQueue, withTransaction } from '../src/index.js';

const db = useTestDatabase();
let app: FastifyInstance;
let baseUrl: string;
/** Backend pids of the clients the pool dropped (it emits 'remove' for each). */
const removed = new Set<number>();
/** Routes waiting on a lost session, by value: their backend pid. */
const waiting = new Map<string, number>();
/** Clients routes had, with the 'error' listeners they had while out. */
const seen: { client: pg.PoolClient; ours: Function[] }[] = [];

/** What a route does once it has written: answer, run another query, or sleep in a query. */
type Mode = 'ok' | 'answers' | 'queries' | 'sleeps';

async function writeThenWait(client: pg.PoolClient, value: string, mode: Mode) {
  await client.query('INSERT INTO rows (value) VALUES ($1)', [value]);
  await app.queue.enqueue('record', { value }, { client });
  if (mode === 'ok') {
    seen.push({ client, ours: client.listeners('error') });
    return;
  }
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  // The socket's 'close' comes after pg has read (and emitted) the session's end.
  const socket = (client as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream;
  const closed = once(socket, 'close');
  waiting.set(value, rows[0].pid);
  if (mode === 'sleeps') {
    await client.query('SELECT pg_sleep(600)');
    return;
  }
  await closed;
  if (mode === 'queries') await client.query('SELECT 1');
}

beforeAll(async () => {
  await db.query('CREATE TABLE rows (value text PRIMARY KEY)');
  app = Fastify();
  await app.register(fastifyPostgres, { connectionString: db.url, max: 4 });
  await app.register(fastifyQueue, (parent) => ({
    pool: parent.pg.pool,
    worker: false,
    logger: silentLogger,
  }));
  app.pg.pool.on('remove', (client) => removed.add((client as unknown as { processID: number }).processID));
  app.post<{ Params: { mode: Mode }; Body: { value: string } }>('/rows/:mode', async (request, reply) => {
    const { value } = request.body;
    await withTransaction(app.pg.pool, (client) => writeThenWait(client, value, request.params.mode));
    return reply.code(201).send({ value });
  });
  baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => app.close());
afterEach(() => {
  // Every client was given back or dropped: none is left checked out.
  expect(app.pg.pool.totalCount - app.pg.pool.idleCount).toBe(0);
});

async function post(mode: Mode, value: string) {
  const res = await fetch(`${baseUrl}/rows/${mode}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}
const count = async (sql: string, value: string) => (await db.query(sql, [value]))[0].n as number;
const rowsWith = (value: string) => count('SELECT count(*)::int AS n FROM rows WHERE value = $1', value);
const jobsWith = (value: string) =>
  count(`SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = $1`, value);

describe('withTransaction in a Fastify route, when the session ends', () => {
  for (const [mode, expected] of [
    // The function resolves after the loss: COMMIT is never sent, the session's error is thrown.
    ['answers', { code: '57P01', message: /terminating connection due to administrator command/ }],
    // The function's next query fails, and that error is thrown.
    ['queries', { code: undefined, message: /not queryable/ }],
    // A query in flight fails with the session's error.
    ['sleeps', { code: '57P01', message: /terminating connection/ }],
  ] as const) {
    it(`${mode}: the error reaches Fastify's error handler (500), nothing commits, the client is dropped`, async () => {
      const value = `fastify-${mode}`;
      const answer = post(mode, value);
      const pid = await waitFor(`the route for ${value} to wait`, () => waiting.get(value));
      if (mode === 'sleeps') {
        await waitFor('the query to be in flight', async () => {
          const rows = await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`,
            [pid],
          );
          return rows.length === 1;
        });
      }
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      const res = await answer;
      expect(res.status).toBe(500);
      expect(res.body.code).toBe(expected.code);
      expect(res.body.message).toMatch(expected.message);
      expect(await rowsWith(value)).toBe(0);
      expect(await jobsWith(value)).toBe(0);
      expect(removed.has(pid)).toBe(true);
      expect((await post('ok', `${value}-next`)).status).toBe(201);
      expect(await rowsWith(`${value}-next`)).toBe(1);
    });
  }

  it('listens only while the client is out: no listener is left behind', async () => {
    seen.length = 0;
    for (let i = 0; i < 20; i++) expect((await post('ok', `listeners-${i}`)).status).toBe(201);
    expect(seen).toHaveLength(20);
    for (const { client, ours } of seen) {
      // While out: our listener, and only ours (pg-pool takes its own off).
      expect(ours).toHaveLength(1);
      // Back in the pool: pg-pool's listener again, ours gone.
      expect(client.listenerCount('error')).toBe(1);
      expect(client.listeners('error')).not.toContain(ours[0]);
    }
  });
});
