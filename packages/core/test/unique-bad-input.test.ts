import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidUniqueError, type UniqueOptions } from '../src/index.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
const count = async () => (await db.query(`SELECT count(*)::int AS n FROM queue.jobs`))[0].n as number;

/** [what, unique option, other enqueue options, payload, the option named, a fragment of the message] */
const cases: [string, unknown, object, unknown, string, string][] = [
  ['not an object', 'k', {}, {}, 'unique', `unique "k" must be an object`],
  ['an unknown property', { key: 'k', debouce: 100 }, {}, {}, 'unique.debouce', 'is not a unique option'],
  ['neither key nor by', { mode: 'active' }, {}, {}, 'unique', 'needs key or by'],
  ['key with by', { key: 'k', by: ['a'] }, {}, { a: 1 }, 'unique', 'has both key and by'],
  [
    'debounce with throttle',
    { key: 'k', debounce: 10, throttle: 10 },
    {},
    {},
    'unique.throttle',
    'conflicts with debounce',
  ],
  [
    'replace with period',
    { key: 'k', mode: 'replace', period: 1000 },
    {},
    {},
    'unique.period',
    'conflicts with mode',
  ],
  ['maxWait without debounce', { key: 'k', maxWait: 10 }, {}, {}, 'unique.maxWait', 'is only for debounce'],
  ['keep without throttle', { key: 'k', keep: 'last' }, {}, {}, 'unique.keep', 'is only for throttle'],
  ['debounce with delay', { key: 'k', debounce: 10 }, { delay: 5 }, {}, 'unique.debounce', 'leave out delay'],
  [
    'throttle with runAt',
    { key: 'k', throttle: 10 },
    { runAt: new Date() },
    {},
    'unique.throttle',
    'leave out runAt',
  ],
  [
    'a zero period',
    { key: 'k', period: 0 },
    {},
    {},
    'unique.period',
    'period 0 must be a positive whole number',
  ],
  [
    'a negative debounce',
    { key: 'k', debounce: -5 },
    {},
    {},
    'unique.debounce',
    'debounce -5 must be a positive',
  ],
  [
    'a fractional throttle',
    { key: 'k', throttle: 1.5 },
    {},
    {},
    'unique.throttle',
    'throttle 1.5 must be a positive',
  ],
  ['a period as text', { key: 'k', period: '1h' }, {}, {}, 'unique.period', 'period "1h" must be a positive'],
  ['an infinite period', { key: 'k', period: Infinity }, {}, {}, 'unique.period', 'period Infinity'],
  [
    'maxWait under debounce',
    { key: 'k', debounce: 100, maxWait: 50 },
    {},
    {},
    'unique.maxWait',
    'maxWait 50 is shorter than debounce (100)',
  ],
  [
    'an unknown mode',
    { key: 'k', mode: 'always' },
    {},
    {},
    'unique.mode',
    `mode "always" must be 'queued', 'active' or 'replace'`,
  ],
  [
    'an unknown keep',
    { key: 'k', throttle: 10, keep: 'middle' },
    {},
    {},
    'unique.keep',
    `keep "middle" must be 'first' or 'last'`,
  ],
  ['an empty key', { key: '' }, {}, {}, 'unique.key', 'key "" must not be empty'],
  ['a key that is not a string', { key: 42 }, {}, {}, 'unique.key', 'key 42 must be a string'],
  [
    'a key over 256 characters',
    { key: 'x'.repeat(257) },
    {},
    {},
    'unique.key',
    `key "${'x'.repeat(40)}"… is 257 characters, over the limit of 256`,
  ],
  ['a key with \\u0000', { key: 'a\u0000b' }, {}, {}, 'unique.key', 'contains a \\u0000 character'],
  [
    'by naming a field the payload lacks',
    { by: ['userId'] },
    {},
    { user: 1 },
    'unique.by',
    'names field "userId", which the payload does not have (its fields: "user")',
  ],
  [
    'by naming a field set to undefined',
    { by: ['a'] },
    {},
    { a: undefined },
    'unique.by',
    'names field "a", which the payload does not have',
  ],
  [
    'by with a payload that is not an object',
    { by: ['a'] },
    {},
    [1],
    'unique.by',
    'the payload is [object Array], not an object',
  ],
  ['by empty', { by: [] }, {}, {}, 'unique.by', 'must be an array of 1 to 16 payload field names'],
  ['by naming a field twice', { by: ['a', 'a'] }, {}, { a: 1 }, 'unique.by', 'names field "a" twice'],
];

describe('bad unique options are refused before anything is written', () => {
  it.each(cases)('%s', async (_what, unique, options, payload, option, message) => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const attempt = queue.enqueue('t', payload, { ...options, unique: unique as UniqueOptions });
    await expect(attempt).rejects.toBeInstanceOf(InvalidUniqueError);
    const error = (await attempt.catch((e) => e)) as InvalidUniqueError;
    expect(error.code).toBe('QUEUE_INVALID_UNIQUE');
    expect(error.option).toBe(option);
    expect(error.task).toBe('t');
    expect(error.message).toContain('enqueue of task "t": ');
    expect(error.message).toContain(message);
    expect(await count()).toBe(0);
  });

  it('enqueueMany names the item, and writes none of the batch', async () => {
    const queue = makeQueue({ tasks: { t: async () => {} } });
    const attempt = queue.enqueueMany([
      { task: 't', payload: 1, options: { unique: { key: 'a' } } },
      { task: 't', payload: 2 },
      { task: 't', payload: { b: 1 }, options: { unique: { by: ['a'] } } },
    ]);
    const error = (await attempt.catch((e) => e)) as InvalidUniqueError;
    expect(error).toBeInstanceOf(InvalidUniqueError);
    expect(error.option).toBe('items[2].options.unique.by');
    expect(error.value).toEqual(['a']);
    expect(await count()).toBe(0);
  });
});
