// A session that ends while a Nest route's withTransaction holds its client, in this process.
// An 'error' event nobody hears would fail the run (vitest reports it), so every test here
// also proves the process survived it. lost-session-process.test.ts does it with a real process.
import { useTestDatabase, waitFor } from '@queue/test-utils';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Mode, startLostSessionApp } from './lost-session-app.js';

const db = useTestDatabase();
let app: Awaited<ReturnType<typeof startLostSessionApp>>;
/** Routes waiting on a lost session, by value: their backend pid. */
const waiting = new Map<string, number>();
/** Clients routes had, with the 'error' listeners they had while out. */
const seen: { client: pg.PoolClient; ours: Function[] }[] = [];

beforeAll(async () => {
  await db.query('CREATE TABLE rows (value text PRIMARY KEY)');
  app = await startLostSessionApp(db.url, {
    waiting: (value, pid) => waiting.set(value, pid),
    checkedOut: (client, ours) => seen.push({ client, ours }),
  });
});
afterAll(() => app.close());
afterEach(() => {
  // Every client was given back or dropped: none is left checked out.
  expect(app.pool.totalCount - app.pool.idleCount).toBe(0);
});

async function post(mode: Mode, value: string) {
  const res = await fetch(`${app.baseUrl}/rows/${mode}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  return { status: res.status, body: await res.json() };
}
const count = async (sql: string, value: string) => (await db.query(sql, [value]))[0].n as number;
const rowsWith = (value: string) => count('SELECT count(*)::int AS n FROM rows WHERE value = $1', value);
const jobsWith = (value: string) =>
  count(`SELECT count(*)::int AS n FROM queue.jobs WHERE payload->>'value' = $1`, value);

describe('withTransaction in a Nest route, when the session ends', () => {
  // answers: the function resolves after the loss, so COMMIT is never sent and the session's
  // error is thrown; queries: its next query fails; sleeps: a query in flight fails.
  for (const mode of ['answers', 'queries', 'sleeps'] as const) {
    it(`${mode}: Nest's exception filter answers 500, nothing commits, the client is dropped`, async () => {
      const value = `nest-${mode}`;
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
      expect(res).toEqual({ status: 500, body: { statusCode: 500, message: 'Internal server error' } });
      expect(await rowsWith(value)).toBe(0);
      expect(await jobsWith(value)).toBe(0);
      expect(app.pool.removed).toContain(pid);
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
