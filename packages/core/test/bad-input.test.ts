import { useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidPayloadError, UnknownTaskError } from '../src/index.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const count = async () => (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

describe('bad input is refused before anything is written', () => {
  afterEach(async () => {
    await db.query(`DELETE FROM queue.jobs`);
  });

  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;

  const payloads: [string, unknown, RegExp][] = [
    ['a circular object', circular, /circular reference/],
    ['a BigInt', { n: 10n }, /BigInt/],
    ['a \\u0000 in a value', { s: 'a\u0000b' }, /\\u0000/],
    ['a \\u0000 in a key', { 'a\u0000': 1 }, /\\u0000/],
    ['a lone high surrogate', { s: 'x\ud800y' }, /lone UTF-16 surrogate/],
    ['a lone low surrogate', ['\udc00'], /lone UTF-16 surrogate/],
    ['a function', { f: () => 1 }, /property "f" is a function/],
    ['a symbol', { s: Symbol('x') }, /is a symbol/],
    ['NaN', { n: Number.NaN }, /NaN/],
    ['Infinity', [Number.POSITIVE_INFINITY], /Infinity/],
    ['a payload over the size limit', { s: 'x'.repeat(2048) }, /over the limit of 1024/],
  ];

  for (const [what, payload, message] of payloads) {
    it(`payload with ${what}`, async () => {
      const queue = makeQueue({ tasks: { t: async () => {} }, maxPayloadBytes: 1024 });
      const error = await queue.enqueue('t', payload).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect(error.code).toBe('QUEUE_INVALID_PAYLOAD');
      expect(error.message).toMatch(/task "t"/);
      expect(error.message).toMatch(message);
      expect(await count()).toBe(0);
    });
  }

  it('keeps text that only looks like an escape, and paired surrogates', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const payload = {
      literal: '\\u0000 and \\ud800',
      emoji: '😀',
      nested: [{ u: undefined, d: new Date(0) }],
    };
    const job = await queue.enqueue('t', payload);
    // Documented JSON encoding: undefined properties are left out, Dates become ISO strings.
    expect((await queue.getJob(job.id))?.payload).toEqual({
      literal: '\\u0000 and \\ud800',
      emoji: '😀',
      nested: [{ d: '1970-01-01T00:00:00.000Z' }],
    });
  });

  it('unknown task name', async () => {
    const queue = makeQueue({ tasks: { known: async () => {} } });
    const error = await (queue as any).enqueue('unknown', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTaskError);
    expect(error.message).toBe('unknown task "unknown": known tasks are "known"');
    expect(await count()).toBe(0);
  });

  const options: [string, object, RegExp][] = [
    ['negative delay', { delay: -1 }, /delay: must be a finite number of milliseconds >= 0, got -1/],
    ['NaN delay', { delay: Number.NaN }, /delay/],
    ['delay and runAt together', { delay: 1, runAt: new Date() }, /either runAt or delay/],
    ['invalid runAt', { runAt: new Date('nope') }, /runAt: must be a valid Date/],
    ['runAt as a string', { runAt: '2030-01-01' }, /runAt: must be a valid Date, got "2030-01-01"/],
    ['non-integer priority', { priority: 1.5 }, /priority: must be an integer from -32768 to 32767, got 1.5/],
    ['priority out of range', { priority: 40_000 }, /priority/],
    ['zero maxAttempts', { maxAttempts: 0 }, /maxAttempts/],
    ['empty queue name', { queue: '' }, /queue: must be a string of 1 to 128 characters/],
    ['non-string queue', { queue: 7 }, /queue/],
  ];
  for (const [what, opts, message] of options) {
    it(`option: ${what}`, async () => {
      const queue = makeQueue({ tasks: { t: async () => {} } });
      const error = await queue.enqueue('t', {}, opts as never).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.code).toBe('QUEUE_INVALID_OPTION');
      expect(error.message).toMatch(message);
      expect(await count()).toBe(0);
    });
  }

  it('one bad item in enqueueMany writes none of the batch', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    await expect(
      queue.enqueueMany([
        { task: 't', payload: 1 },
        { task: 't', payload: { bad: 1n } },
      ]),
    ).rejects.toThrow(InvalidPayloadError);
    expect(await count()).toBe(0);
  });

  it('invalid task options are refused when the queue is created', () => {
    expect(() => makeQueue({ tasks: { t: { timeout: 2 ** 31, handler: async () => {} } } })).toThrow(
      /tasks.t.timeout: must be an integer from 1 to 2147483647/,
    );
    expect(() => makeQueue({ tasks: { t: { handler: 'nope' } as never } })).toThrow(
      /needs a handler function/,
    );
  });

  it('invalid job ids in admin calls', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    await expect(queue.getJob('12abc')).rejects.toThrow(InvalidOptionError);
    await expect(queue.getJob('99999999999999999999')).rejects.toThrow(/positive bigint job id/);
    await expect(queue.deleteJob(-1 as never)).rejects.toThrow(InvalidOptionError);
  });
});
