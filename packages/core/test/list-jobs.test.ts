import { useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, type JobList, type ListJobsOptions } from '../src/index.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const noop = async () => {};

afterEach(async () => {
  await db.query('TRUNCATE queue.job_history');
});

interface HistoryRow {
  id: number;
  outcome?: 'completed' | 'cancelled';
  queue?: string;
  task?: string;
  payload?: unknown;
  tags?: string[];
  meta?: Record<string, unknown>;
  result?: unknown;
  /** SQL expression. */
  finishedAt?: string;
}

/** History rows as the finish statement will write them (built on main meanwhile): plain INSERTs. */
async function addHistory(rows: HistoryRow[]): Promise<void> {
  for (const r of rows) {
    await db.query(
      `INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, result, attempts,
         max_attempts, errors, tags, meta, progress, created_at, run_at, started_at, finished_at, worker)
       VALUES ($1, $2, $3, $4, 0, $5, $6, 1, 25, '[]', $7, $8, '{"pct": 100}', now() - interval '1 minute',
         now() - interval '1 minute', now() - interval '2 seconds', ${r.finishedAt ?? 'now()'}, 'w-1')`,
      [
        r.id,
        r.queue ?? 'default',
        r.task ?? 't',
        JSON.stringify(r.payload ?? null),
        r.outcome ?? 'completed',
        r.result === undefined ? null : JSON.stringify(r.result),
        r.tags ?? [],
        JSON.stringify(r.meta ?? {}),
      ],
    );
  }
}

const ids = (list: { id: string }[]) => list.map((j) => j.id);

describe('listJobs filters', () => {
  it('filters live jobs by tag (all of several), queue, task, state, meta and search', async () => {
    const queue = makeQueue({ tasks: { a: noop, b: noop } });
    const j1 = await queue.enqueue('a', { user: 1 }, { tags: ['red', 'big'], meta: { tenant: 'x' } });
    const j2 = await queue.enqueue('a', { user: 2 }, { tags: ['red'], meta: { tenant: 'y', user: 1 } });
    const j3 = await queue.enqueue('b', { user: 1, n: 3 }, { queue: 'other', tags: ['big'] });
    const j4 = await queue.enqueue('b', null, { delay: 3_600_000, tags: ['red', 'big'] });

    expect(ids(await queue.listJobs({ tag: 'red' }))).toEqual([j1.id, j2.id, j4.id]);
    expect(ids(await queue.listJobs({ tag: ['red', 'big'] }))).toEqual([j1.id, j4.id]);
    expect(ids(await queue.listJobs({ tag: ['red', 'big'], state: 'scheduled' }))).toEqual([j4.id]);
    expect(ids(await queue.listJobs({ tag: 'big', queue: 'other' }))).toEqual([j3.id]);
    expect(ids(await queue.listJobs({ tag: 'big', task: 'a' }))).toEqual([j1.id]);
    expect(ids(await queue.listJobs({ tag: 'none' }))).toEqual([]);
    expect(ids(await queue.listJobs({ meta: { tenant: 'y' } }))).toEqual([j2.id]);
    // search: contained in the payload OR in meta ({user: 1} is j2's meta, j1's and j3's payload).
    expect(ids(await queue.listJobs({ search: { user: 1 } }))).toEqual([j1.id, j2.id, j3.id]);
    expect(ids(await queue.listJobs({ search: { user: 1 }, order: 'desc', limit: 2 }))).toEqual([
      j3.id,
      j2.id,
    ]);
    expect(ids(await queue.listJobs({ search: { user: 1, n: 3 } }))).toEqual([j3.id]);
    expect(ids(await queue.listJobs({ search: { tenant: 'x' }, tag: 'big' }))).toEqual([j1.id]);
    // The listed jobs carry their tags and meta.
    expect((await queue.listJobs({ meta: { tenant: 'x' } }))[0]).toMatchObject({
      tags: ['red', 'big'],
      meta: { tenant: 'x' },
      state: 'available',
    });
  });

  it('lists completed and cancelled jobs from the history, with the same filters', async () => {
    const queue = makeQueue();
    const live = await queue.enqueue('t', { user: 1 }, { tags: ['red'] });
    await addHistory([
      {
        id: 9001,
        tags: ['red'],
        payload: { user: 1 },
        result: { ok: true },
        finishedAt: `now() - interval '3 s'`,
      },
      {
        id: 9002,
        tags: ['red', 'big'],
        meta: { tenant: 'x' },
        queue: 'q2',
        finishedAt: `now() - interval '2 s'`,
      },
      { id: 9003, outcome: 'cancelled', tags: ['red'], task: 'other', finishedAt: `now() - interval '1 s'` },
      { id: 9004, payload: { deep: { user: 1 } }, meta: { user: 1 } },
    ]);
    expect(ids(await queue.listJobs())).toEqual([live.id]);
    expect(ids(await queue.listJobs({ state: 'completed' }))).toEqual(['9001', '9002', '9004']);
    expect(ids(await queue.listJobs({ state: 'completed', order: 'desc' }))).toEqual([
      '9004',
      '9002',
      '9001',
    ]);
    expect(ids(await queue.listJobs({ state: 'cancelled' }))).toEqual(['9003']);
    expect(ids(await queue.listJobs({ state: 'completed', tag: 'red' }))).toEqual(['9001', '9002']);
    expect(ids(await queue.listJobs({ state: 'completed', tag: ['red', 'big'] }))).toEqual(['9002']);
    expect(ids(await queue.listJobs({ state: 'cancelled', tag: 'red', task: 'other' }))).toEqual(['9003']);
    expect(ids(await queue.listJobs({ state: 'completed', queue: 'q2' }))).toEqual(['9002']);
    expect(ids(await queue.listJobs({ state: 'completed', meta: { tenant: 'x' } }))).toEqual(['9002']);
    expect(ids(await queue.listJobs({ state: 'completed', search: { user: 1 } }))).toEqual(['9001', '9004']);

    const [first] = await queue.listJobs({ state: 'completed' });
    expect(first).toMatchObject({
      id: '9001',
      state: 'completed',
      outcome: 'completed',
      result: { ok: true },
      progress: { pct: 100 },
      worker: 'w-1',
      tags: ['red'],
      failedAt: null,
      attempts: 1,
    });
    expect((first as { finishedAt: Date }).finishedAt).toBeInstanceOf(Date);
  });

  it('refuses bad filters by name', async () => {
    const queue = makeQueue();
    const bad: [ListJobsOptions, string, RegExp][] = [
      [{ state: 'done' as never }, 'state', /must be one of available, .*completed, cancelled/],
      [{ tag: [] }, 'tag', /a tag or an array of 1 to 16 tags/],
      [{ tag: 3 as never }, 'tag', /a tag or an array/],
      [{ tag: [''] }, 'tag', /must not be empty/],
      [{ tag: ['x'.repeat(65)] }, 'tag', /at most 64 characters/],
      [{ search: {} }, 'search', /non-empty plain object/],
      [{ search: [1] as never }, 'search', /non-empty plain object/],
      [{ search: { s: 'x'.repeat(5000) } }, 'search', /over the limit of 4096/],
      [{ meta: 'x' as never }, 'meta', /non-empty plain object/],
      [{ queue: '' }, 'queue', /1 to 128 characters/],
      [{ limit: 0 }, 'limit', /from 1 to 1000/],
      [{ cursor: 'not a cursor' }, 'cursor', /the cursor of a previous listJobs\(\) page/],
      [{ cursor: Buffer.from('[1,0,0,"0"]').toString('base64url') }, 'cursor', /positive bigint/],
      [{ state: 'completed', after: '5' }, 'after', /page the history with cursor/],
      [{ order: 'desc', after: '5' }, 'after', /does not go with order 'desc'/],
    ];
    for (const [options, option, message] of bad) {
      const error = await queue.listJobs(options).catch((e) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
      expect(error.option).toBe(option);
      expect(error.message).toMatch(message);
    }
  });
});

describe('getJob', () => {
  it('finds a job in the history once it has left the live table, and prefers the live one', async () => {
    const queue = makeQueue();
    await addHistory([
      { id: 7001, outcome: 'cancelled', meta: { why: 'test' }, finishedAt: `now() - interval '1 h'` },
      { id: 7002, result: [1, 2], finishedAt: `now() - interval '2 h'` },
      { id: 7002, result: [3], finishedAt: `now() - interval '1 h'` },
    ]);
    expect(await queue.getJob('7001')).toMatchObject({
      id: '7001',
      state: 'cancelled',
      outcome: 'cancelled',
      result: null,
      meta: { why: 'test' },
      worker: 'w-1',
    });
    // Finished twice (retried after it finished): the latest.
    expect(await queue.getJob(7002n)).toMatchObject({ state: 'completed', result: [3] });
    expect(await queue.getJob('7003')).toBeNull();

    const live = await queue.enqueue('t', null);
    await addHistory([{ id: Number(live.id) }]);
    const got = await queue.getJob(live.id);
    expect(got).toMatchObject({ id: live.id, state: 'available' });
    expect(got).not.toHaveProperty('outcome');
  });
});

describe('keyset paging', () => {
  /** Every page from the first, calling `between` before each next page; the pages' ids. */
  async function allPages(
    list: (cursor?: string) => Promise<JobList>,
    between: (page: number) => Promise<void>,
  ): Promise<{ seen: string[]; pages: number }> {
    const seen: string[] = [];
    let page = await list();
    let pages = 1;
    for (;;) {
      seen.push(...ids(page));
      if (page.cursor === null) return { seen, pages };
      await between(pages);
      page = await list(page.cursor);
      pages++;
    }
  }

  it('pages live jobs oldest first with jobs enqueued between pages: no duplicate, no gap', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const before = ids(
      await queue.enqueueMany(
        Array.from({ length: 300 }, (_, i) => ({ task: 't', payload: i, options: { tags: ['p'] } })),
      ),
    );
    const added: string[] = [];
    const { seen, pages } = await allPages(
      (cursor) => queue.listJobs({ tag: 'p', limit: 40, ...(cursor ? { cursor } : {}) }),
      async () => {
        const more = await queue.enqueueMany(
          Array.from({ length: 7 }, (_, i) => ({ task: 't', payload: i, options: { tags: ['p'] } })),
        );
        added.push(...ids(more));
      },
    );
    // Oldest first: the jobs enqueued meanwhile come after, and are all listed too.
    expect(seen).toEqual([...before, ...added]);
    expect(pages).toBeGreaterThan(7);
  });

  it('pages live jobs newest first with jobs enqueued between pages: each earlier job once, in order', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const before = ids(
      await queue.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ task: 't', payload: i }))),
    );
    const { seen } = await allPages(
      (cursor) => queue.listJobs(cursor ? { cursor, limit: 50 } : { order: 'desc', limit: 50 }),
      async () => {
        await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ task: 't', payload: i })));
      },
    );
    expect(seen).toEqual([...before].reverse());
  });

  it('pages the history newest first across partitions, ties on finished_at included, with rows added between pages', async () => {
    const queue = makeQueue();
    // Hourly partitions for two hours of 2001 (no maintenance run makes partitions that old),
    // and rows in the DEFAULT partition (2002): the listing merges them all.
    for (const h of ['2001-01-01 00:00+00', '2001-01-01 01:00+00']) {
      const name = `job_history_test_${h.slice(11, 13)}`;
      await db.query(
        `CREATE TABLE IF NOT EXISTS queue.${name} PARTITION OF queue.job_history
         FOR VALUES FROM ('${h}') TO ('${h}'::timestamptz + interval '1 hour')`,
      );
    }
    // 300 rows: every three share a finished_at (microseconds apart between groups), so the
    // cursor must break ties by id; ids are not in finished_at order.
    await db.query(
      `INSERT INTO queue.job_history (id, queue, task, payload, priority, outcome, attempts, max_attempts,
         errors, tags, meta, created_at, run_at, finished_at)
       SELECT 100000 + (i * 7919) % 300, 'default', 't', 'null', 0, 'completed', 1, 25, '[]', '{hist}', '{}',
         now(), now(),
         CASE WHEN i < 200 THEN '2001-01-01 00:00+00'::timestamptz + (i / 3) * interval '1 minute' + (i % 2) * interval '1 microsecond'
              ELSE '2002-06-01 00:00+00'::timestamptz + (i / 3) * interval '1 microsecond' END
       FROM generate_series(0, 299) i`,
    );
    const expected = (
      await db.query(`SELECT id::text FROM queue.job_history ORDER BY finished_at DESC, id DESC`)
    ).map((r) => r.id);
    let next = 500000;
    const { seen, pages } = await allPages(
      (cursor) =>
        queue.listJobs({
          state: 'completed',
          tag: 'hist',
          limit: 35,
          ...(cursor ? { cursor } : { order: 'desc' }),
        }),
      // Jobs finishing meanwhile are newer than the cursor: they move no page.
      async () => addHistory([{ id: next++, tags: ['hist'] }]),
    );
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(300);
    expect(pages).toBe(9);
  });

  it('a cursor keeps its order and refuses a different table or order', async () => {
    const queue = makeQueue();
    await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ task: 't', payload: i })));
    await addHistory([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const live = await queue.listJobs({ order: 'desc', limit: 2 });
    const history = await queue.listJobs({ state: 'completed', limit: 2 });
    expect(live.cursor).toEqual(expect.any(String));
    expect(history.cursor).toEqual(expect.any(String));
    // Exactly a page left: the last page says so.
    const rest = await queue.listJobs({ state: 'completed', limit: 1, cursor: history.cursor! });
    expect(ids(rest)).toEqual(['3']);
    expect(rest.cursor).toBeNull();
    // The cursor is not enumerable: the page compares and serialises as a plain array.
    expect(JSON.parse(JSON.stringify(live))).toHaveLength(2);
    expect(Object.keys(live)).toEqual(['0', '1']);

    const wrong: [ListJobsOptions, string, RegExp][] = [
      [{ cursor: live.cursor!, state: 'completed' }, 'cursor', /pages live jobs; pass the same filters/],
      [{ cursor: history.cursor! }, 'cursor', /pages the history/],
      [{ cursor: live.cursor!, order: 'asc' }, 'order', /does not match the cursor's order \('desc'\)/],
      [{ cursor: live.cursor!, before: '3' }, 'cursor', /not both/],
    ];
    for (const [options, option, message] of wrong) {
      const error = await queue.listJobs(options).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.option).toBe(option);
      expect(error.message).toMatch(message);
    }
    // Paging by id as before cursors existed still works.
    const byId = await queue.listJobs({ order: 'desc', before: live[1]!.id });
    expect(byId).toHaveLength(3);
  });
});
