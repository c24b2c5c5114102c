import { nextEvent, useTestDatabase, waitFor } from '@queue/test-utils';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Job, Queue } from '../src/index.js';
import { enqueueXidOf } from '../src/xid.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const noop = async () => {};

interface Row {
  id: string;
  payload: unknown;
  unique_key: string | null;
  unique_queued: boolean | null;
  /** run_at and created_at as epoch microseconds (exact), for comparing database times. */
  run_us: number;
  created_us: number;
}
const us = (c: string) => `(extract(epoch FROM ${c}) * 1000000)::float8`;
const rows = (key: string) =>
  db.query<Row>(
    `SELECT id::text, payload, unique_key, unique_queued, ${us('run_at')} AS run_us, ${us('created_at')} AS created_us
     FROM queue.jobs WHERE unique_key = $1 ORDER BY id`,
    [key],
  );
const outcome = (j: Job) => j.unique?.outcome;

/** A client of its own, for transactions the test controls. */
async function connect(): Promise<pg.Client> {
  const client = new pg.Client(db.url);
  await client.connect();
  return client;
}

/** Resolves once some session of this database waits on a lock (a row, a transaction, an advisory lock). */
const someoneWaits = () =>
  waitFor('a session waiting on a lock', async () => {
    const [r] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [db.name],
    );
    return r.n > 0;
  });

/** A queue with a task map (options resolved in TypeScript) and one without (the database fills them). */
const kinds: [string, () => Queue<any>][] = [
  ['with a task map', () => makeQueue({ tasks: { t: noop, u: noop } })],
  ['without a task map', () => makeQueue()],
];

describe.each(kinds)('unique keys, %s', (_kind, make) => {
  it("'queued' (default): a second enqueue of the key finds the first job, with its id and as stored", async () => {
    const queue = make();
    const first = await queue.enqueue('t', { n: 1 }, { unique: { key: 'k' }, tags: ['a'], meta: { m: 1 } });
    expect(first.unique).toEqual({ key: 'k', outcome: 'inserted' });
    expect(first).toMatchObject({ task: 't', payload: { n: 1 }, tags: ['a'], meta: { m: 1 }, attempts: 0 });
    const second = await queue.enqueue('t', { n: 2 }, { unique: { key: 'k' }, priority: 5 });
    expect(second.unique).toEqual({ key: 'k', outcome: 'deduplicated', existingId: first.id });
    // The existing job, not the input: its payload, priority, tags and times.
    expect(second).toMatchObject({
      id: first.id,
      payload: { n: 1 },
      priority: 0,
      tags: ['a'],
      meta: { m: 1 },
    });
    expect(second.runAt).toEqual(first.runAt);
    expect(second.createdAt).toEqual(first.createdAt);
    expect(await rows('k')).toMatchObject([{ id: first.id, payload: { n: 1 }, unique_queued: true }]);
    // Another key, and a job without one, are not affected.
    expect(outcome(await queue.enqueue('t', { n: 3 }, { unique: { key: 'other' } }))).toBe('inserted');
    const plain = await queue.enqueue('t', { n: 4 });
    expect(plain.unique).toBeUndefined();
    expect(Object.keys(plain)).not.toContain('unique');
  });

  it('derives the key from the task and the named payload fields, in any order and whatever else the payload holds', async () => {
    const queue = make();
    const a = await queue.enqueue(
      't',
      { userId: 42, org: 'x', note: 'a' },
      { unique: { by: ['userId', 'org'] } },
    );
    expect(a.unique).toEqual({ key: 't:{"org": "x", "userId": 42}', outcome: 'inserted' });
    const b = await queue.enqueue(
      't',
      { note: 'b', org: 'x', userId: 42 },
      { unique: { by: ['org', 'userId'] } },
    );
    expect(b.unique).toEqual({ key: a.unique!.key, outcome: 'deduplicated', existingId: a.id });
    // Another task with the same fields is another key.
    expect(
      outcome(await queue.enqueue('u', { userId: 42, org: 'x' }, { unique: { by: ['userId', 'org'] } })),
    ).toBe('inserted');
    // Long values give a hashed key of bounded length.
    const long = await queue.enqueue('t', { userId: 'x'.repeat(1_000) }, { unique: { by: ['userId'] } });
    expect(long.unique?.key).toMatch(/^t:md5:[0-9a-f]{32}$/);
  });

  it("'active' skips while a job with the key is queued or running, not once it has failed", async () => {
    const queue = make();
    const a = await queue.enqueue('t', 1, { unique: { key: 'k', mode: 'active' } });
    expect(outcome(a)).toBe('inserted');
    // Running: the claim gave up the queued slot, but the job is live.
    await db.query(
      `UPDATE queue.jobs SET unique_queued = NULL, started_at = now(), attempts = 1 WHERE id = $1`,
      [a.id],
    );
    const b = await queue.enqueue('t', 2, { unique: { key: 'k', mode: 'active' } });
    expect(b.unique).toEqual({ key: 'k', outcome: 'deduplicated', existingId: a.id });
    expect(b).toMatchObject({ attempts: 1, payload: 1 });
    expect(b.startedAt).toBeInstanceOf(Date);
    // 'queued' does not count it: a new job goes in behind it.
    const c = await queue.enqueue('t', 3, { unique: { key: 'k' } });
    expect(outcome(c)).toBe('inserted');
    // Failed for good: no longer blocks.
    await db.query(`UPDATE queue.jobs SET failed_at = now() WHERE unique_key = 'k'`);
    expect(outcome(await queue.enqueue('t', 4, { unique: { key: 'k', mode: 'active' } }))).toBe('inserted');
  });

  it("'replace' writes the enqueue over the key's queued job: task, payload, options and run time, keeping id and created_at", async () => {
    const queue = make();
    const a = await queue.enqueue('t', { v: 1 }, { unique: { key: 'k', mode: 'replace' }, delay: 60_000 });
    expect(outcome(a)).toBe('inserted');
    const b = await queue.enqueue(
      'u',
      { v: 2 },
      { unique: { key: 'k', mode: 'replace' }, priority: 3, tags: ['x'] },
    );
    expect(b.unique).toEqual({ key: 'k', outcome: 'replaced', existingId: a.id });
    expect(b).toMatchObject({ id: a.id, task: 'u', payload: { v: 2 }, priority: 3, tags: ['x'] });
    expect(b.createdAt).toEqual(a.createdAt);
    expect(b.runAt.getTime()).toBeLessThan(a.runAt.getTime());
    expect(await rows('k')).toMatchObject([{ id: a.id, payload: { v: 2 }, unique_queued: true }]);
    expect(await queue.getJob(a.id)).toMatchObject({ task: 'u', payload: { v: 2 }, state: 'available' });
  });

  it('enqueueMany settles items in input order; of items with the same key in the default mode the first wins', async () => {
    const queue = make();
    const jobs = await queue.enqueueMany([
      { task: 't', payload: 1, options: { unique: { key: 'a' } } },
      { task: 't', payload: 2, options: { unique: { key: 'a' } } },
      { task: 't', payload: 3, options: { unique: { key: 'b' } } },
      { task: 't', payload: 4 },
      { task: 'u', payload: 5, options: { unique: { key: 'a' } } },
      { task: 't', payload: { userId: 7 }, options: { unique: { by: ['userId'] } } },
    ]);
    expect(jobs.map((j) => [j.payload, j.unique?.outcome])).toEqual([
      [1, 'inserted'],
      [1, 'deduplicated'],
      [3, 'inserted'],
      [4, undefined],
      [1, 'deduplicated'],
      [{ userId: 7 }, 'inserted'],
    ]);
    expect(jobs[1]!.id).toBe(jobs[0]!.id);
    expect(jobs[4]!.unique?.existingId).toBe(jobs[0]!.id);
    // Ids in input order, as for any batch.
    const ids = [jobs[0]!, jobs[2]!, jobs[3]!, jobs[5]!].map((j) => BigInt(j.id));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    // A key already queued is found by a later batch.
    const again = await queue.enqueueMany([
      { task: 't', payload: 8, options: { unique: { key: 'b' } } },
      { task: 't', payload: 9, options: { unique: { key: 'c' } } },
    ]);
    expect(again.map((j) => [j.id === jobs[2]!.id, j.unique?.outcome])).toEqual([
      [true, 'deduplicated'],
      [false, 'inserted'],
    ]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM queue.jobs`);
    expect(n).toBe(5);
  });

  it('enqueueMany with other modes: each item acts on what the items before it left', async () => {
    const queue = make();
    const jobs = await queue.enqueueMany([
      { task: 't', payload: 1, options: { unique: { key: 'a' } } },
      { task: 't', payload: 2, options: { unique: { key: 'a', mode: 'replace' } } },
      { task: 't', payload: 3, options: { unique: { key: 'a' } } },
      { task: 't', payload: 4, options: { unique: { key: 'b', mode: 'active' } } },
      { task: 't', payload: 5 },
    ]);
    expect(jobs.map((j) => [j.payload, j.unique?.outcome])).toEqual([
      [1, 'inserted'],
      [2, 'replaced'],
      [2, 'deduplicated'],
      [4, 'inserted'],
      [5, undefined],
    ]);
    expect(new Set(jobs.slice(0, 3).map((j) => j.id)).size).toBe(1);
  });

  it('concurrent single enqueues from one queue (coalesced into batches) get what one after the other would', async () => {
    const queue = make();
    const jobs = await Promise.all(
      Array.from({ length: 60 }, (_, i) => queue.enqueue('t', i, { unique: { key: `k${i % 3}` } })),
    );
    for (let k = 0; k < 3; k++) {
      const same = jobs.filter((_, i) => i % 3 === k);
      // The first call of each key inserted (calls are batched in call order); the rest found it.
      expect(same.map(outcome)).toEqual(['inserted', ...Array(19).fill('deduplicated')]);
      expect(new Set(same.map((j) => j.id)).size).toBe(1);
      expect(same.every((j) => j.payload === k)).toBe(true);
    }
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM queue.jobs`);
    expect(n).toBe(3);
  });

  it('a transactional enqueue holds the key until it commits; a concurrent one waits, then finds its job', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN');
      const mine = await queue.enqueue('t', 'mine', { client, unique: { key: 'k' } });
      expect(outcome(mine)).toBe('inserted');
      expect(enqueueXidOf(mine)).toMatch(/^\d+$/);
      // Another producer's enqueue of the key waits for this transaction.
      const theirs = queue.enqueue('t', 'theirs', { unique: { key: 'k' } });
      await someoneWaits();
      await client.query('COMMIT');
      const resolved = await theirs;
      expect(resolved.unique).toEqual({ key: 'k', outcome: 'deduplicated', existingId: mine.id });
      expect(resolved.payload).toBe('mine');
    } finally {
      await client.end();
    }
  });

  it('a rolled-back transactional enqueue leaves the key free: the waiting enqueue inserts', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN');
      const mine = await queue.enqueue('t', 'mine', { client, unique: { key: 'k' } });
      const theirs = queue.enqueue('t', 'theirs', { unique: { key: 'k' } });
      await someoneWaits();
      await client.query('ROLLBACK');
      const resolved = await theirs;
      expect(outcome(resolved)).toBe('inserted');
      expect(resolved.id).not.toBe(mine.id);
      expect(await rows('k')).toMatchObject([{ id: resolved.id, payload: 'theirs' }]);
    } finally {
      await client.end();
    }
  });

  it('the locking modes wait for a transaction holding the key, then act on what it committed', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN');
      const mine = await queue.enqueue('t', 'mine', { client, unique: { key: 'k', mode: 'replace' } });
      expect(outcome(mine)).toBe('inserted');
      // Twice in one transaction: the second sees the first.
      const again = await queue.enqueue('t', 'mine again', { client, unique: { key: 'k', mode: 'replace' } });
      expect(again.unique).toEqual({ key: 'k', outcome: 'replaced', existingId: mine.id });
      const theirs = queue.enqueue('t', 'theirs', { unique: { key: 'k', mode: 'replace' } });
      await someoneWaits();
      await client.query('COMMIT');
      expect((await theirs).unique).toEqual({ key: 'k', outcome: 'replaced', existingId: mine.id });
      expect(await rows('k')).toMatchObject([{ id: mine.id, payload: 'theirs' }]);
    } finally {
      await client.end();
    }
  });

  it('the locking modes are refused in a REPEATABLE READ transaction; the default mode works there', async () => {
    const queue = make();
    const client = await connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await expect(
        queue.enqueue('t', 1, { client, unique: { key: 'k', mode: 'replace' } }),
      ).rejects.toMatchObject({
        code: '25000',
        message: expect.stringMatching(/READ COMMITTED transaction, not REPEATABLE READ/),
      });
      await client.query('ROLLBACK');
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const a = await queue.enqueue('t', 1, { client, unique: { key: 'k' } });
      const b = await queue.enqueue('t', 2, { client, unique: { key: 'k' } });
      expect([outcome(a), outcome(b), b.id]).toEqual(['inserted', 'deduplicated', a.id]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  });
});

describe('unique keys from SQL enqueue()', () => {
  it('dedupes against jobs of any producer, with the same derived keys as the TypeScript client', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const ts = await queue.enqueue('t', { userId: 42, x: 1 }, { unique: { by: ['userId'] } });
    const [{ id }] = await db.query(
      `SELECT queue.enqueue('t', '{"userId": 42, "x": 2}', unique_by => ARRAY['userId'])::text AS id`,
    );
    expect(id).toBe(ts.id);
    const [{ a }] = await db.query(`SELECT queue.enqueue('t', '1', unique_key => 'sql')::text AS a`);
    const [{ b }] = await db.query(`SELECT queue.enqueue('t', '2', unique_key => 'sql')::text AS b`);
    expect(b).toBe(a);
    const fromTs = await queue.enqueue('t', 3, { unique: { key: 'sql' } });
    expect(fromTs.unique).toEqual({ key: 'sql', outcome: 'deduplicated', existingId: a });
    // The modes by name, durations as intervals.
    const [{ r1 }] = await db.query(
      `SELECT queue.enqueue('t', '1', unique_key => 'r', unique_mode => 'replace')::text AS r1`,
    );
    const [{ r2 }] = await db.query(
      `SELECT queue.enqueue('t', '2', unique_key => 'r', unique_mode => 'replace')::text AS r2`,
    );
    expect(r2).toBe(r1);
    expect(await rows('r')).toMatchObject([{ id: r1, payload: 2 }]);
    await db.query(
      `SELECT queue.enqueue('t', '1', unique_key => 'd', unique_mode => 'debounce', unique_period => '1 minute', unique_max_wait => '2 minutes')`,
    );
    const [d] = await rows('d');
    expect(d!.run_us - d!.created_us).toBe(60_000_000);
    await db.query(
      `SELECT queue.enqueue('t', '1', unique_key => 'th', unique_mode => 'throttle', unique_period => '1 minute', unique_keep => 'last')`,
    );
    // Plain calls by position still work, and return a new id each time.
    const [{ p1 }] = await db.query(`SELECT queue.enqueue('t', '1')::text AS p1`);
    const [{ p2 }] = await db.query(`SELECT queue.enqueue('t', '1')::text AS p2`);
    expect(p1).not.toBe(p2);
  });

  it('refuses bad unique arguments with invalid_parameter_value before writing anything', async () => {
    const bad: [string, RegExp][] = [
      [`unique_key => 'k', unique_by => ARRAY['a']`, /unique_key or unique_by, not both/],
      [`unique_key => repeat('x', 257)`, /1 to 256 characters, got 257/],
      [`unique_key => 'k', unique_mode => 'sometimes'`, /got 'sometimes'/],
      [`unique_key => 'k', unique_mode => 'period'`, /needs a positive unique_period/],
      [
        `unique_key => 'k', unique_mode => 'period', unique_period => '-1 hour'`,
        /needs a positive unique_period, got '-01:00:00'/,
      ],
      [`unique_key => 'k', unique_mode => 'replace', unique_period => '1 hour'`, /not 'replace'/],
      [
        `unique_key => 'k', unique_mode => 'debounce', unique_period => '1 minute', unique_max_wait => '1 second'`,
        /shorter than/,
      ],
      [`unique_key => 'k', unique_keep => 'last'`, /unique_keep is for the throttle mode/],
      [
        `unique_key => 'k', unique_mode => 'throttle', unique_period => '1 minute', unique_keep => 'middle'`,
        /got 'middle'/,
      ],
      [
        `unique_key => 'k', unique_mode => 'debounce', unique_period => '1 minute', run_at => now()`,
        /leave run_at NULL/,
      ],
      [`unique_mode => 'active'`, /need unique_key or unique_by/],
      [`unique_by => ARRAY['userId']`, /names field 'userId', which the payload does not have/],
    ];
    for (const [args, message] of bad) {
      await expect(db.query(`SELECT queue.enqueue('t', '{"a": 1}', ${args})`), args).rejects.toMatchObject({
        code: '22023',
        message: expect.stringMatching(message),
      });
    }
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM queue.jobs`);
    expect(n).toBe(0);
  });
});

/** The job's run_at and created_at, and the database's now() in the same transaction, in epoch µs. */
async function inTransaction(queue: Queue<any>, payload: unknown, unique: object) {
  const client = await connect();
  try {
    await client.query('BEGIN');
    const job = await queue.enqueue('t', payload, { client, unique: unique as never });
    const [row] = (
      await client.query(
        `SELECT ${us('run_at')} AS run_us, ${us('created_at')} AS created_us, ${us('now()')} AS now_us
         FROM queue.jobs WHERE id = $1`,
        [job.id],
      )
    ).rows;
    await client.query('COMMIT');
    return { job, ...(row as { run_us: number; created_us: number; now_us: number }) };
  } finally {
    await client.end();
  }
}

describe('debounce, throttle and period on the database clock', () => {
  it('debounce: each enqueue moves run_at to its now() + debounce, replacing the payload, one job throughout', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const unique = { key: 'd', debounce: 1_000 };
    const a = await inTransaction(queue, 1, unique);
    expect(outcome(a.job)).toBe('inserted');
    expect(a.run_us - a.now_us).toBe(1_000_000);
    expect(a.created_us).toBe(a.now_us);
    const b = await inTransaction(queue, 2, unique);
    expect(b.job.unique).toEqual({ key: 'd', outcome: 'replaced', existingId: a.job.id });
    expect(b.run_us - b.now_us).toBe(1_000_000);
    expect(b.run_us).toBeGreaterThan(a.run_us);
    // created_at stays the first enqueue's: it is what maxWait counts from.
    expect(b.created_us).toBe(a.created_us);
    expect(await rows('d')).toMatchObject([{ id: a.job.id, payload: 2 }]);
  });

  it('debounce with maxWait: run_at never passes the first enqueue + maxWait', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const unique = { key: 'd', debounce: 60_000, maxWait: 90_000 };
    const a = await inTransaction(queue, 1, unique);
    // As if the first enqueue had been 80 s ago: now() + 60 s is past its cap of 90 s.
    await db.query(`UPDATE queue.jobs SET created_at = created_at - interval '80 seconds' WHERE id = $1`, [
      a.job.id,
    ]);
    const b = await inTransaction(queue, 2, unique);
    expect(outcome(b.job)).toBe('replaced');
    expect(b.run_us).toBe(a.created_us - 80_000_000 + 90_000_000);
    expect(b.run_us - b.now_us).toBeLessThan(60_000_000);
  });

  it('debounce with maxWait: a steady stream of enqueues still gets a run time at the cap', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const unique = { key: 'd', debounce: 100, maxWait: 300 };
    const first = await queue.enqueue('t', 0, { unique });
    let last = first;
    const runAts: number[] = [];
    // Enqueues back to back, for longer than maxWait: no sleeping, the database times them.
    for (let i = 1; Date.now() - first.createdAt.getTime() < 600 || i < 5; i++) {
      last = await queue.enqueue('t', i, { unique });
      runAts.push(last.runAt.getTime());
    }
    expect(last.id).toBe(first.id);
    expect(runAts).toEqual([...runAts].sort((x, y) => x - y));
    const [row] = await rows('d');
    expect(row!.run_us - row!.created_us).toBe(300_000);
    expect(row!.payload).toBe(last.payload);
  });

  it('throttle: a new job is due one period after the latest start; meanwhile the first payload is kept, or the last', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const worker = await startWorker(queue);
    const unique = { key: 'th', throttle: 60_000 };
    // No run yet: due at once.
    const ran = nextEvent(worker, 'completed', (e: { job: Job }) => e.job.payload === 'a');
    const a = await inTransaction(queue, 'a', unique);
    expect(outcome(a.job)).toBe('inserted');
    expect(a.run_us).toBe(a.now_us);
    await ran;
    await worker.stop();
    const [{ started_us }] = await db.query(
      `SELECT ${us('started_at')} AS started_us FROM queue.job_history WHERE id = $1`,
      [a.job.id],
    );
    const b = await inTransaction(queue, 'b', unique);
    expect(outcome(b.job)).toBe('inserted');
    expect(b.run_us).toBe(started_us + 60_000_000);
    const c = await queue.enqueue('t', 'c', { unique });
    expect(c.unique).toEqual({ key: 'th', outcome: 'deduplicated', existingId: b.job.id });
    expect(c.payload).toBe('b');
    const d = await queue.enqueue('t', 'd', { unique: { ...unique, keep: 'last' } });
    expect(d.unique).toEqual({ key: 'th', outcome: 'replaced', existingId: b.job.id });
    expect(await rows('th')).toMatchObject([{ id: b.job.id, payload: 'd', run_us: b.run_us }]);
  });

  it('period: a job completed within the period (in the history) stands for the enqueue; one from before it does not', async () => {
    const queue = makeQueue({ tasks: { t: async (p: string) => `done ${p}` } });
    const unique = { key: 'p', period: 3_600_000 };
    const a = await queue.enqueue('t', 'a', { unique });
    // Queued: found as in the default mode.
    expect((await queue.enqueue('t', 'x', { unique })).unique).toEqual({
      key: 'p',
      outcome: 'deduplicated',
      existingId: a.id,
    });
    const worker = queue.worker({ pollInterval: 200 });
    const ran = nextEvent(worker, 'completed', (e: { job: Job }) => e.job.id === a.id);
    await worker.start();
    await ran;
    await worker.stop();
    const [history] = await db.query(`SELECT unique_key FROM queue.job_history WHERE id = $1`, [a.id]);
    expect(history.unique_key).toBe('p');
    const b = await queue.enqueue('t', 'b', { unique });
    expect(b.unique).toEqual({ key: 'p', outcome: 'deduplicated', existingId: a.id });
    expect(b).toMatchObject({ id: a.id, payload: 'a', attempts: 1 });
    expect(b.startedAt).toBeInstanceOf(Date);
    // The same job enqueued two hours ago: the period has passed.
    await db.query(
      `UPDATE queue.job_history SET created_at = created_at - interval '2 hours' WHERE id = $1`,
      [a.id],
    );
    const c = await queue.enqueue('t', 'c', { unique });
    expect(outcome(c)).toBe('inserted');
    // A job that failed for good does not count.
    await db.query(`UPDATE queue.jobs SET failed_at = now(), unique_queued = NULL WHERE id = $1`, [c.id]);
    expect(outcome(await queue.enqueue('t', 'd', { unique }))).toBe('inserted');
  });
});

describe('unique keys and workers', () => {
  it("a running job gives up the key's queued slot: new jobs go in behind it and never touch it", async () => {
    const release = gate();
    const queue = makeQueue({ tasks: { t: async () => release.opened } });
    const worker = await startWorker(queue);
    try {
      const started = nextEvent<{ job: Job }>(worker, 'started');
      const running = await queue.enqueue('t', 'running', { unique: { key: 'k' } });
      await started;
      expect(await rows('k')).toMatchObject([{ id: running.id, unique_queued: null }]);
      // replace: the running job is left alone; a new one is inserted (due later, so it stays queued).
      const next = await queue.enqueue('t', 'next', { unique: { key: 'k', mode: 'replace' }, delay: 60_000 });
      expect(outcome(next)).toBe('inserted');
      expect((await queue.enqueue('t', 'x', { unique: { key: 'k' } })).unique?.existingId).toBe(next.id);
      // active: prefers the queued job, which runs after this enqueue.
      expect(
        (await queue.enqueue('t', 'y', { unique: { key: 'k', mode: 'active' } })).unique?.existingId,
      ).toBe(next.id);
      expect(await queue.getJob(running.id)).toMatchObject({ state: 'running', payload: 'running' });

      // debounce: a job that has started is not pushed back; a new one is queued behind it.
      const dStarted = nextEvent<{ job: Job }>(
        worker,
        'started',
        (e) => e.job.task === 't' && e.job.payload === 'd1',
      );
      const d1 = await queue.enqueue('t', 'd1', { unique: { key: 'd', debounce: 1 } });
      await dStarted;
      const before = await rows('d');
      const d2 = await queue.enqueue('t', 'd2', { unique: { key: 'd', debounce: 60_000 } });
      expect(outcome(d2)).toBe('inserted');
      const d3 = await queue.enqueue('t', 'd3', { unique: { key: 'd', debounce: 60_000 } });
      expect(d3.unique).toEqual({ key: 'd', outcome: 'replaced', existingId: d2.id });
      const after = await rows('d');
      expect(after.find((r) => r.id === d1.id)).toEqual(before.find((r) => r.id === d1.id));
      expect(after.map((r) => r.payload)).toEqual(['d1', 'd3']);
    } finally {
      release.open();
      await worker.stop();
    }
  });
});
