import { useTestDatabase } from '@queue/test-utils';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type EnqueueOptions, InvalidOptionError, type Queue } from '../src/index.js';
import { enqueueXidOf } from '../src/xid.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const noop = async () => {};

const stored = (id: string) =>
  db.query<{ tags: string[]; meta: unknown }>(`SELECT tags, meta FROM queue.jobs WHERE id = $1`, [id]);
const count = async () => (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

/** A queue with a task map (plain INSERT) and one without (insert_jobs() fills the options). */
const kinds: [string, () => Queue<any>][] = [
  ['with a task map', () => makeQueue({ tasks: { t: noop } })],
  ['without a task map', () => makeQueue()],
];

describe.each(kinds)('tags and meta at enqueue, %s', (_kind, make) => {
  it('round-trip through enqueue, enqueueMany and getJob', async () => {
    const queue = make();
    const meta = { tenant: 'acme', nested: { n: 1, list: [true, null] } };
    const one = await queue.enqueue('t', { a: 1 }, { tags: ['tenant:acme', 'import'], meta });
    expect(one).toMatchObject({ tags: ['tenant:acme', 'import'], meta });
    expect(await queue.getJob(one.id)).toMatchObject({ tags: ['tenant:acme', 'import'], meta });
    expect(await stored(one.id)).toEqual([{ tags: ['tenant:acme', 'import'], meta }]);

    const plain = await queue.enqueue('t', null);
    expect(plain).toMatchObject({ tags: [], meta: {} });
    expect(await stored(plain.id)).toEqual([{ tags: [], meta: {} }]);

    // Rows with tags, with meta only, with neither, and tags of different lengths, in one statement.
    const many = await queue.enqueueMany([
      { task: 't', payload: 1, options: { tags: ['a'] } },
      { task: 't', payload: 2 },
      { task: 't', payload: 3, options: { meta: { k: 'v' } } },
      { task: 't', payload: 4, options: { tags: ['b', 'c', 'quote"back\\slash,{brace}'], meta: { x: [1] } } },
      { task: 't', payload: 5, options: { tags: [], meta: {} } },
    ]);
    const expected = [
      { tags: ['a'], meta: {} },
      { tags: [], meta: {} },
      { tags: [], meta: { k: 'v' } },
      { tags: ['b', 'c', 'quote"back\\slash,{brace}'], meta: { x: [1] } },
      { tags: [], meta: {} },
    ];
    expect(many.map((j) => ({ tags: j.tags, meta: j.meta }))).toEqual(expected);
    for (const [i, job] of many.entries()) expect(await stored(job.id)).toEqual([expected[i]]);

    // Only meta in a batch: the tags array is sent as NULL for the whole batch.
    const metaOnly = await queue.enqueueMany([{ task: 't', payload: 1, options: { meta: { only: true } } }]);
    expect(await stored(metaOnly[0]!.id)).toEqual([{ tags: [], meta: { only: true } }]);
  });

  it('a transactional enqueue returns Jobs carrying the transaction id; one on the pool does not', async () => {
    const queue = make();
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      await client.query('BEGIN');
      const one = await queue.enqueue('t', 1, { client, tags: ['tx'] });
      const many = await queue.enqueueMany(
        [
          { task: 't', payload: 2 },
          { task: 't', payload: 3, options: { tags: ['tx'] } },
        ],
        { client },
      );
      const [{ xid }] = (await client.query(`SELECT pg_current_xact_id()::text AS xid`)).rows;
      await client.query('COMMIT');
      expect(xid).toMatch(/^\d+$/);
      expect([one, ...many].map(enqueueXidOf)).toEqual([xid, xid, xid]);
      // Not enumerable: the Job still serialises and compares as before.
      expect(Object.keys(one)).not.toContain('xid');
      expect(JSON.parse(JSON.stringify(one)).tags).toEqual(['tx']);
    } finally {
      await client.end();
    }
    expect(enqueueXidOf(await queue.enqueue('t', 4))).toBeUndefined();
    expect(enqueueXidOf((await queue.enqueueMany([{ task: 't', payload: 5 }]))[0]!)).toBeUndefined();
  });
});

describe('tags and meta from SQL enqueue()', () => {
  it('takes tags and meta by name, and the old positional call still works', async () => {
    const queue = makeQueue();
    const [{ id }] = await db.query(
      `SELECT queue.enqueue('t', '{"a":1}', tags => ARRAY['x', 'y'], meta => '{"k":1}') AS id`,
    );
    expect(await queue.getJob(String(id))).toMatchObject({ tags: ['x', 'y'], meta: { k: 1 } });
    const [{ id: old }] = await db.query(`SELECT queue.enqueue('t', '{}', 'q2', NULL, 3, 4) AS id`);
    expect(await queue.getJob(String(old))).toMatchObject({
      queue: 'q2',
      priority: 3,
      maxAttempts: 4,
      tags: [],
      meta: {},
    });
  });

  const bad: [string, string, RegExp][] = [
    ['17 tags', `tags => array_fill('x'::text, ARRAY[17])`, /at most 16 tags are allowed, got 17/],
    ['an empty tag', `tags => ARRAY['']`, /each tag must be 1 to 64 characters/],
    ['a NULL tag', `tags => ARRAY[NULL::text]`, /each tag must be 1 to 64 characters/],
    ['a 65-character tag', `tags => ARRAY[repeat('x', 65)]`, /each tag must be 1 to 64 characters/],
    ['meta that is an array', `meta => '[1]'`, /meta must be a JSON object, got array/],
    ['meta over 4 KB', `meta => jsonb_build_object('s', repeat('x', 4100))`, /over the limit of 4096/],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} (invalid_parameter_value) and writes nothing`, async () => {
      const error = await db.query(`SELECT queue.enqueue('t', 'null', ${args})`).catch((e) => e);
      expect(error.code).toBe('22023');
      expect(error.message).toMatch(/^enqueue\(t\): /);
      expect(error.message).toMatch(message);
      expect(await count()).toBe(0);
    });
  }

  it('accepts 16 tags of 64 characters', async () => {
    await db.query(`SELECT queue.enqueue('t', 'null', tags => array_fill(repeat('é', 64), ARRAY[16]))`);
    expect(await count()).toBe(1);
  });
});

describe('bad tags and meta are refused before anything is written', () => {
  afterEach(async () => {
    await db.query(`DELETE FROM queue.jobs`);
  });

  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const cases: [string, EnqueueOptions, 'tags' | 'meta', RegExp][] = [
    ['tags not an array', { tags: 'a' as never }, 'tags', /must be an array of strings, got "a"/],
    ['17 tags', { tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, 'tags', /at most 16 tags.*got 17/],
    ['an empty tag', { tags: ['ok', ''] }, 'tags', /must not be empty/],
    ['a 65-character tag', { tags: ['x'.repeat(65)] }, 'tags', /at most 64 characters, got 65/],
    ['a tag that is not a string', { tags: [1 as never] }, 'tags', /each tag must be a string, got 1/],
    ['a \\u0000 in a tag', { tags: ['a\u0000b'] }, 'tags', /\\u0000/],
    ['a lone surrogate in a tag', { tags: ['a\ud800'] }, 'tags', /lone UTF-16 surrogate/],
    ['meta that is an array', { meta: [1] as never }, 'meta', /must be a plain object/],
    ['meta that is a Date', { meta: new Date() as never }, 'meta', /must be a plain object.*Date/],
    ['meta that is a string', { meta: 'x' as never }, 'meta', /must be a plain object/],
    ['meta with a function', { meta: { f: () => 1 } }, 'meta', /property "f" is a function/],
    ['meta with a BigInt', { meta: { n: 1n } }, 'meta', /BigInt/],
    ['meta with NaN', { meta: { n: Number.NaN } }, 'meta', /NaN/],
    ['meta with a \\u0000', { meta: { s: '\u0000' } }, 'meta', /\\u0000/],
    ['circular meta', { meta: circular }, 'meta', /circular reference/],
    ['meta over 4 KB', { meta: { s: 'x'.repeat(4096) } }, 'meta', /over the limit of 4096/],
  ];
  for (const [what, options, option, message] of cases) {
    it(what, async () => {
      const queue = makeQueue({ tasks: { t: noop } });
      const error = await queue.enqueue('t', null, options).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('QUEUE_INVALID_OPTION');
      expect(error.option).toBe(option);
      expect(error.message).toMatch(new RegExp(`^invalid option ${option}: for task "t": `));
      expect(error.message).toMatch(message);
      // A bad item anywhere in a batch refuses the whole batch.
      await expect(
        queue.enqueueMany([
          { task: 't', payload: 1, options: { tags: ['good'] } },
          { task: 't', payload: 2, options },
        ]),
      ).rejects.toThrow(message);
      expect(await count()).toBe(0);
    });
  }

  it('counts tag length in characters, not UTF-16 units', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const job = await queue.enqueue('t', null, { tags: ['😀'.repeat(64)] });
    expect((await stored(job.id))[0]!.tags).toEqual(['😀'.repeat(64)]);
    await expect(queue.enqueue('t', null, { tags: ['😀'.repeat(65)] })).rejects.toThrow(/got 65/);
  });

  it('takes meta with a null prototype, and drops undefined properties as JSON does', async () => {
    const queue = makeQueue({ tasks: { t: noop } });
    const meta = Object.assign(Object.create(null), { a: 1, gone: undefined });
    const job = await queue.enqueue('t', null, { meta });
    expect((await stored(job.id))[0]!.meta).toEqual({ a: 1 });
  });
});
