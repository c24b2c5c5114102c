import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { ms } from './process-kit.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const MB = 1024 * 1024;

/** How many ids the jobs table has handed out: an INSERT that failed would still use one. */
const idsUsed = async () =>
  (await db.query(`SELECT last_value::text AS n FROM queue.jobs_id_seq`))[0].n as string;

/** About `bytes` of JSON with variety: multi-byte text, emoji, escapes, numbers, nesting. */
function bigPayload(bytes: number) {
  const chunk = 'Grüße, 世界! 😀 "quoted" \\ back\\slash \n\t tab; ';
  const rows: { i: number; f: number; s: string; tags: (string | boolean | null)[] }[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = { i, f: i / 7, s: `${chunk}${i}`.repeat(20), tags: ['a', true, null, `n${i}`] };
    size += JSON.stringify(row).length + Buffer.byteLength(row.s) - row.s.length;
    rows.push(row);
  }
  return { kind: 'big', rows, nested: { deep: [[[{ x: -1.5e-7, y: 1e21, z: '' }]]] } };
}

describe('fault 13: bad payloads', () => {
  it('are refused with clear errors before any write; other jobs are unaffected', async () => {
    const received = new Map<string, unknown>();
    const tasks = {
      t: async (payload: unknown, { job }: { job: { id: string } }) => void received.set(job.id, payload),
    };
    const queue = makeQueue({ tasks });
    const worker = await startWorker(queue, { concurrency: 4 });
    const good: string[] = [];
    good.push((await queue.enqueue('t', { n: 'before' })).id);

    const circular: Record<string, unknown> = { a: 1 };
    circular.self = { back: circular };
    const tenMB = { blob: 'x'.repeat(10 * MB) };
    const bad: [string, unknown, RegExp][] = [
      [
        '\\u0000 in a value',
        { s: 'a\u0000b' },
        /contains a \\u0000 character, which Postgres jsonb cannot store/,
      ],
      ['\\u0000 in a key', { 'k\u0000': 1 }, /\\u0000 character/],
      ['lone high surrogate', { s: 'x\ud800' }, /lone UTF-16 surrogate \(\\ud800\)/],
      ['lone low surrogate', ['\udfff'], /lone UTF-16 surrogate \(\\udfff\)/],
      ['surrogates in the wrong order', { s: '\udc00\ud800' }, /lone UTF-16 surrogate/],
      [
        '10 MB payload (default limit 1 MiB)',
        tenMB,
        /it is 10485771 bytes as JSON, over the limit of 1048576/,
      ],
      ['circular object', circular, /it contains a circular reference/],
      ['BigInt', { n: 2n ** 64n }, /property "n" is a BigInt; convert it to a string or number first/],
    ];
    const usedBefore = await idsUsed();
    const outcomes: string[] = [];
    for (const [what, payload, message] of bad) {
      const error = await queue.enqueue('t', payload as never).catch((e: unknown) => e);
      const clear =
        error instanceof InvalidPayloadError &&
        error.code === 'QUEUE_INVALID_PAYLOAD' &&
        error.task === 't' &&
        message.test(error.message);
      outcomes.push(`${what}: ${clear ? 'refused' : `NOT CLEAR (${String(error)})`}`);
    }
    // Mixed with good ones in the same tick: the client coalesces the good ones into one
    // INSERT, and a bad one must not take its neighbours down with it.
    const mixed = await Promise.allSettled([
      queue.enqueue('t', { n: 'mixed 1' }),
      queue.enqueue('t', { s: '\u0000' }),
      queue.enqueue('t', { n: 'mixed 2' }),
      queue.enqueue('t', circular),
      queue.enqueue('t', { n: 'mixed 3' }),
    ]);
    const mixedOk = mixed.filter((r) => r.status === 'fulfilled').map((r) => r.value.id);
    const mixedRefused = mixed.filter(
      (r) => r.status === 'rejected' && r.reason instanceof InvalidPayloadError,
    );
    good.push(...mixedOk);
    // One bad item in a batch writes none of the batch.
    const batch = await queue
      .enqueueMany([
        { task: 't', payload: { n: 'batch ok' } },
        { task: 't', payload: { bad: 1n } },
      ])
      .catch((e: unknown) => e);
    const usedAfterBad = await idsUsed();
    // The only ids used since are the good mixed ones': the refused never reached an INSERT.
    const badWrites = Number(usedAfterBad) - Number(usedBefore) - mixedOk.length;

    // undefined is left out of objects (and becomes null in arrays), exactly as JSON does.
    const withUndefined = await queue.enqueue('t', {
      a: 1,
      u: undefined,
      nested: { v: undefined },
      list: [undefined, 2],
    });
    good.push(withUndefined.id);
    good.push((await queue.enqueue('t', { n: 'after' })).id);

    // With the limit raised above it, 10 MB is accepted and comes back exactly.
    const roomy = makeQueue({ tasks, maxPayloadBytes: 16 * MB });
    const big = bigPayload(10 * MB);
    const bigBytes = Buffer.byteLength(JSON.stringify(big));
    const t0 = performance.now();
    const bigJob = await roomy.enqueue('t', big);
    good.push(bigJob.id);
    const stored = await roomy.getJob(bigJob.id).catch(() => null);

    await new Promise<void>((resolve) => {
      const check = () => good.every((id) => received.has(id)) && resolve();
      worker.on('completed', check);
      check();
    });
    const bigMs = performance.now() - t0;
    const bigExact = JSON.stringify(canonical(received.get(bigJob.id))) === JSON.stringify(canonical(big));
    let storedExact = stored === null; // completed (and deleted) before getJob: the handler's copy counts
    if (stored) storedExact = JSON.stringify(canonical(stored.payload)) === JSON.stringify(canonical(big));
    const undefinedOk =
      JSON.stringify(canonical(received.get(withUndefined.id))) ===
      JSON.stringify({ a: 1, list: [null, 2], nested: {} });
    const left = (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

    const allRefused = outcomes.every((o) => o.endsWith('refused'));
    const pass =
      allRefused &&
      badWrites === 0 &&
      mixedOk.length === 3 &&
      mixedRefused.length === 2 &&
      batch instanceof InvalidPayloadError &&
      bigExact &&
      storedExact &&
      undefinedOk &&
      left === 0;
    recordFigure({
      scenario: 13,
      name: 'bad payloads',
      figure: `${outcomes.filter((o) => o.endsWith('refused')).length}/${bad.length} refused with InvalidPayloadError before any write (${bad.map((b) => b[0]).join(', ')}); ids used by refused enqueues ${badWrites}; mixed in one tick: ${mixedOk.length} good stored, ${mixedRefused.length} refused; 10 MB (${(bigBytes / MB).toFixed(1)} MiB JSON) with maxPayloadBytes 16 MiB round-tripped exactly: ${bigExact} (enqueue to done ${ms(bigMs)}); undefined fields left out: ${undefinedOk}; other jobs completed ${good.filter((id) => received.has(id)).length}/${good.length}`,
      pass,
    });
    expect(outcomes.filter((o) => !o.endsWith('refused'))).toEqual([]);
    expect(badWrites).toBe(0);
    expect(mixedOk).toHaveLength(3);
    expect(mixedRefused).toHaveLength(2);
    expect(batch).toBeInstanceOf(InvalidPayloadError);
    expect(received.get(bigJob.id)).toEqual(big);
    expect(bigExact).toBe(true);
    expect(storedExact).toBe(true);
    expect(received.get(withUndefined.id)).toEqual({ a: 1, nested: {}, list: [null, 2] });
    expect(left).toBe(0);
    await worker.stop();
  });
});

/** JSON with object keys sorted: jsonb keeps no key order, so "exact" means equal values. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
