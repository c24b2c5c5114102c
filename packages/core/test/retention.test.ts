import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, QueueClosedError, RETENTION_DEFAULTS } from '../src/index.js';
import { queueFactory } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

const DAY = 86_400_000;
const none = { keep: null, keepCount: null, failedKeep: null, failedKeepCount: null };

describe('retention settings', () => {
  it('a queue that sets nothing has the defaults: a day of history, no caps, failed jobs kept', async () => {
    const queue = makeQueue();
    expect(await queue.getRetention('emails')).toEqual({
      queue: 'emails',
      keep: DAY,
      keepCount: null,
      failedKeep: null,
      failedKeepCount: null,
      settings: none,
    });
    expect(RETENTION_DEFAULTS).toEqual({
      keep: DAY,
      keepCount: null,
      failedKeep: null,
      failedKeepCount: null,
    });
    expect(await queue.getRetention()).toEqual([]);
  });

  it('sets only what is given, null restores a default, and the database holds it for every process', async () => {
    const queue = makeQueue();
    expect(await queue.setRetention('emails', { keep: 3_600_000, failedKeepCount: 100 })).toEqual({
      queue: 'emails',
      keep: 3_600_000,
      keepCount: null,
      failedKeep: null,
      failedKeepCount: 100,
      settings: { ...none, keep: 3_600_000, failedKeepCount: 100 },
    });
    await queue.setRetention('emails', { keepCount: 5_000, failedKeep: 7 * DAY });
    const other = makeQueue();
    expect(await other.getRetention('emails')).toMatchObject({
      keep: 3_600_000,
      keepCount: 5_000,
      failedKeep: 7 * DAY,
      failedKeepCount: 100,
    });
    await queue.setRetention('emails', { keep: null, failedKeepCount: null });
    expect(await other.getRetention('emails')).toEqual({
      queue: 'emails',
      keep: DAY,
      keepCount: 5_000,
      failedKeep: 7 * DAY,
      failedKeepCount: null,
      settings: { ...none, keepCount: 5_000, failedKeep: 7 * DAY },
    });
    // Stored as SQL values the finish statement and the maintenance read: exact durations (hours,
    // not calendar days, which a session's time zone would stretch across a DST change).
    const [row] = await db.query(
      `SELECT keep, keep_count, failed_keep::text, failed_keep_count FROM queue.queues WHERE name = 'emails'`,
    );
    expect(row).toEqual({ keep: null, keep_count: 5_000, failed_keep: '168:00:00', failed_keep_count: null });
  });

  it('keep 0 keeps nothing; milliseconds survive the round trip', async () => {
    const queue = makeQueue();
    expect((await queue.setRetention('pings', { keep: 0 })).keep).toBe(0);
    expect((await queue.setRetention('pings', { failedKeep: 1_234 })).failedKeep).toBe(1_234);
    const [row] = await db.query(
      `SELECT keep::text, failed_keep::text FROM queue.queues WHERE name = 'pings'`,
    );
    expect(row).toEqual({ keep: '00:00:00', failed_keep: '00:00:01.234' });
  });

  it('lists every queue with a setting of its own, by name; a paused queue keeps its pause', async () => {
    const queue = makeQueue();
    await queue.pauseQueue('paused');
    await queue.setRetention('paused', { keepCount: 10 });
    await queue.setRetention('beta', { keep: 60_000 });
    expect(await queue.getRetention()).toEqual([
      expect.objectContaining({ queue: 'beta', keep: 60_000 }),
      expect.objectContaining({ queue: 'paused', keep: DAY, keepCount: 10 }),
    ]);
    const [row] = await db.query(
      `SELECT paused_at IS NOT NULL AS paused FROM queue.queues WHERE name = 'paused'`,
    );
    expect(row.paused).toBe(true);
  });

  it.each([
    ['a negative keep', 'emails', { keep: -1 }, 'keep', /must be a whole number of milliseconds .* got -1/],
    ['a fractional keep', 'emails', { keep: 1.5 }, 'keep', /got 1\.5/],
    ['a keep in words', 'emails', { keep: '1 day' }, 'keep', /got "1 day"/],
    ['a count past int4', 'emails', { keepCount: 2 ** 31 }, 'keepCount', /from 0 to 2147483647/],
    ['a negative failedKeepCount', 'emails', { failedKeepCount: -5 }, 'failedKeepCount', /got -5/],
    ['NaN', 'emails', { failedKeep: Number.NaN }, 'failedKeep', /got NaN/],
    [
      'an unknown key',
      'emails',
      { keep: 1, maxAge: 5 },
      'maxAge',
      /is not a retention setting: the settings are keep, keepCount/,
    ],
    ['options that are not an object', 'emails', 5, 'options', /must be an object/],
    ['null options', 'emails', null, 'options', /must be an object/],
    ['an empty queue name', '', { keep: 1 }, 'queue', /must be a string of 1 to 128 characters/],
    ['a queue name that is not a string', 42, { keep: 1 }, 'queue', /got 42/],
  ])('refuses %s before writing anything', async (_what, name, options, option, message) => {
    const queue = makeQueue();
    const error = await queue.setRetention(name as string, options as never).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({
      code: 'QUEUE_INVALID_OPTION',
      option,
      message: expect.stringMatching(message),
    });
    expect(await db.query('SELECT * FROM queue.queues')).toEqual([]);
  });

  it('getRetention refuses a bad queue name; both refuse after close()', async () => {
    const queue = makeQueue();
    await expect(queue.getRetention('' as string)).rejects.toMatchObject({
      code: 'QUEUE_INVALID_OPTION',
      option: 'queue',
    });
    await queue.close();
    await expect(queue.setRetention('a', { keep: 1 })).rejects.toThrow(QueueClosedError);
    await expect(queue.getRetention()).rejects.toThrow(QueueClosedError);
  });
});
