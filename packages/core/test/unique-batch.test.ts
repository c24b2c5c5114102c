import { useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { EnqueueManyItem, Job, Queue } from '../src/index.js';
import { queueFactory } from './helpers.js';

/**
 * Keyed enqueueMany batches of more than 4 items in the default mode: the set-based statement,
 * tried first without ON CONFLICT on the queue's pool (see UniqueConflict in sql/unique.ts) and
 * sent again with it when a key meets a queued job. Whatever the path, each item gets what one
 * item after the other would.
 */
const db = useTestDatabase();
const makeQueue = queueFactory(db);
const noop = async () => {};

const kinds: [string, () => Queue<any>][] = [
  ['with a task map', () => makeQueue({ tasks: { t: noop } })],
  ['without a task map', () => makeQueue()],
];
const item = (payload: unknown, key?: string): EnqueueManyItem<any> => ({
  task: 't',
  payload,
  options: key ? { unique: { key } } : {},
});
const summary = (jobs: Job[]) => jobs.map((j) => [j.payload, j.unique?.outcome ?? null]);
const count = async () => (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

/** A client of its own, for transactions the test controls. */
async function connect(): Promise<pg.Client> {
  const client = new pg.Client(db.url);
  await client.connect();
  return client;
}

const someoneWaits = () =>
  waitFor('a session waiting on a lock', async () => {
    const [r] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [db.name],
    );
    return r.n > 0;
  });

describe.each(kinds)('keyed enqueueMany of more than 4 items, %s', (_kind, make) => {
  it('fresh keys, repeated keys, derived keys and items without a key; then keys already queued, batch after batch', async () => {
    const queue = make();
    const first = await queue.enqueueMany([
      item(1, 'a'),
      item(2, 'b'),
      item(3, 'a'),
      item(4),
      { task: 't', payload: { userId: 7 }, options: { unique: { by: ['userId'] } } },
      item(6, 'c'),
      item(7),
      item(8, 'b'),
    ]);
    expect(summary(first)).toEqual([
      [1, 'inserted'],
      [2, 'inserted'],
      [1, 'deduplicated'],
      [4, null],
      [{ userId: 7 }, 'inserted'],
      [6, 'inserted'],
      [7, null],
      [2, 'deduplicated'],
    ]);
    expect(first[2]).toMatchObject({ id: first[0]!.id, unique: { key: 'a', existingId: first[0]!.id } });
    expect(first[7]!.id).toBe(first[1]!.id);
    expect(first[4]!.unique?.key).toBe('t:{"userId": 7}');
    // Ids in input order, as for any batch.
    const ids = [0, 1, 3, 4, 5, 6].map((i) => BigInt(first[i]!.id));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    expect(await count()).toBe(6);

    // Every kind of row again, with keys now queued: the first statement meets them (and is
    // sent again), the next ones look them up first. Same answers either way.
    for (let round = 0; round < 3; round++) {
      const again = await queue.enqueueMany([
        item(10, 'a'),
        item(11, `new${round}`),
        item(12),
        item(13, `new${round}`),
        { task: 't', payload: { userId: 7, other: round }, options: { unique: { by: ['userId'] } } },
        item(15, 'c'),
      ]);
      expect(summary(again)).toEqual([
        [1, 'deduplicated'],
        [11, 'inserted'],
        [12, null],
        [11, 'deduplicated'],
        [{ userId: 7 }, 'deduplicated'],
        [6, 'deduplicated'],
      ]);
      expect(again.map((j) => j.id)).toEqual([
        first[0]!.id,
        again[1]!.id,
        again[2]!.id,
        again[1]!.id,
        first[4]!.id,
        first[5]!.id,
      ]);
      expect(again[0]).toMatchObject({ task: 't', queue: 'default', attempts: 0, startedAt: null });
      expect(await count()).toBe(6 + 2 * (round + 1));
    }
  });

  it('a transaction holding one of the keys makes the batch wait; once it commits, that item is deduplicated against its job', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN');
      const mine = await queue.enqueue('t', 'mine', { client, unique: { key: 'k' } });
      const batch = queue.enqueueMany([item(1, 'x'), item(2, 'k'), item(3, 'y'), item(4), item(5, 'z')]);
      await someoneWaits();
      await client.query('COMMIT');
      const jobs = await batch;
      expect(summary(jobs)).toEqual([
        [1, 'inserted'],
        ['mine', 'deduplicated'],
        [3, 'inserted'],
        [4, null],
        [5, 'inserted'],
      ]);
      expect(jobs[1]!.id).toBe(mine.id);
      expect(await count()).toBe(5);
    } finally {
      await client.end();
    }
  });

  it('a transaction holding one of the keys that rolls back leaves it to the batch', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN');
      await queue.enqueue('t', 'mine', { client, unique: { key: 'k' } });
      const batch = queue.enqueueMany([item(1, 'x'), item(2, 'k'), item(3, 'y'), item(4), item(5, 'z')]);
      await someoneWaits();
      await client.query('ROLLBACK');
      expect(summary(await batch)).toEqual([
        [1, 'inserted'],
        [2, 'inserted'],
        [3, 'inserted'],
        [4, null],
        [5, 'inserted'],
      ]);
      expect(await count()).toBe(5);
    } finally {
      await client.end();
    }
  });

  it('wakes the workers of the jobs’ queue', async () => {
    const queue = make();
    const listener = await connect();
    const heard: unknown[] = [];
    listener.on('notification', (n) => heard.push(JSON.parse(n.payload ?? '{}').q));
    try {
      await listener.query('LISTEN "queue:jobs"');
      await queue.enqueueMany([1, 2, 3, 4, 5].map((i) => item(i, `k${i}`)));
      // The NOTIFY follows the commit: close() flushes it, and a round trip on the listener's
      // connection delivers what was sent before.
      await queue.close();
      await listener.query('SELECT 1');
      expect(heard).toEqual(['default']);
    } finally {
      await listener.end();
    }
  });
});

describe('insert_unique_jobs() ways of meeting a queued job of a key', () => {
  it("'settle', 'look' and 'raise' give the same answers for a batch of fresh keys; 'look' and 'settle' for queued ones, where 'raise' fails and writes nothing", async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    await queue.migrate();
    const call = (conflict: string, keys: (string | null)[]) =>
      db.query(
        `SELECT o_ord AS ord, o_outcome AS outcome, o_id AS id FROM queue.insert_unique_jobs(
           array_fill('t'::text, ARRAY[$2::int]), array_fill('default'::text, ARRAY[$2::int]),
           (SELECT array_agg(to_jsonb(g)) FROM generate_series(1, $2::int) g), array_fill(0::smallint, ARRAY[$2::int]),
           array_fill(NULL::timestamptz, ARRAY[$2::int]), array_fill(0::float8, ARRAY[$2::int]),
           array_fill(25, ARRAY[$2::int]), NULL, NULL, '{}', $1::text[], NULL, NULL, NULL, NULL, false, 1, $3)
         ORDER BY o_ord`,
        [keys, keys.length, conflict],
      );
    const shape = (rows: { outcome: string; id: string }[], base: bigint) =>
      rows.map((r) => [r.outcome, BigInt(r.id) - base]);
    const results: Record<string, unknown> = {};
    for (const conflict of ['settle', 'look', 'raise']) {
      await db.query('TRUNCATE queue.jobs');
      const rows = await call(conflict, ['a', 'b', 'a', null, 'c']);
      results[conflict] = shape(rows, BigInt(rows[0].id));
    }
    expect(results.look).toEqual(results.settle);
    expect(results.raise).toEqual(results.settle);
    expect(results.settle).toEqual([
      ['inserted', 0n],
      ['inserted', 1n],
      ['deduplicated', 0n],
      ['inserted', 2n],
      ['inserted', 3n],
    ]);
    // 'a' and 'c' now queued.
    const queued = await db.query(
      `SELECT unique_key AS k, id::text FROM queue.jobs WHERE unique_key IS NOT NULL`,
    );
    const idOf = Object.fromEntries(queued.map((r) => [r.k, r.id]));
    await expect(call('raise', ['d', 'a', 'e', 'e', 'c'])).rejects.toMatchObject({
      code: '23505',
      constraint: 'jobs_unique_idx',
    });
    expect(await count()).toBe(4);
    for (const conflict of ['look', 'settle']) {
      const rows = await call(conflict, [`d${conflict}`, 'a', `e${conflict}`, `e${conflict}`, 'c']);
      expect(rows.map((r) => r.outcome)).toEqual([
        'inserted',
        'deduplicated',
        'inserted',
        'deduplicated',
        'deduplicated',
      ]);
      expect([rows[1].id, rows[3].id, rows[4].id]).toEqual([idOf.a, rows[2].id, idOf.c]);
    }
    expect(await count()).toBe(8);
  });
});
