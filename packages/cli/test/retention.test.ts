// `queue retention`: shows a queue's effective retention, sets it from durations and counts,
// restores defaults, and refuses bad values before connecting.
import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;

beforeAll(() => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
});
afterAll(() => queue.close());

describe('queue retention', () => {
  it("shows a queue's defaults", async () => {
    const r = await queueCli(['retention', 'fresh'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'queue fresh',
        '  keep               1d (default)',
        '  keep count         no cap (default)',
        '  failed keep        until retried or deleted (default)',
        '  failed keep count  no cap (default)',
        '',
      ].join('\n'),
    );
    const none = await queueCli(['retention'], env());
    expect(none.stdout).toBe(
      'no queue sets its own retention; every other queue: keep 1d, no count cap; failed jobs kept until retried or deleted\n',
    );
  });

  it('sets durations and counts, keeps what it was not given, and restores defaults', async () => {
    const r = await queueCli(
      ['retention', 'emails', '--keep', '7d', '--keep-count', '5000', '--failed-keep', '90m'],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'emails: retention set',
        'queue emails',
        '  keep               7d',
        '  keep count         5000',
        '  failed keep        90m',
        '  failed keep count  no cap (default)',
        '',
      ].join('\n'),
    );
    expect(await queue.getRetention('emails')).toMatchObject({
      keep: 7 * 86_400_000,
      keepCount: 5000,
      failedKeep: 90 * 60_000,
      failedKeepCount: null,
    });

    const more = await queueCli(
      ['retention', 'emails', '--failed-keep-count', '100', '--keep', '30s'],
      env(),
    );
    expect(more.code, more.stderr).toBe(0);
    expect(await queue.getRetention('emails')).toMatchObject({
      keep: 30_000,
      keepCount: 5000,
      failedKeep: 90 * 60_000,
      failedKeepCount: 100,
    });

    const list = await queueCli(['retention'], env());
    expect(list.stdout).toMatch(/^QUEUE +KEEP +KEEP COUNT +FAILED KEEP +FAILED KEEP COUNT$/m);
    expect(list.stdout).toMatch(/^emails +30s +5000 +90m +100$/m);

    const json = JSON.parse((await queueCli(['retention', 'emails', '--json'], env())).stdout);
    expect(json).toMatchObject({ queue: 'emails', keep: 30_000, keepCount: 5000 });

    const reset = await queueCli(
      [
        'retention',
        'emails',
        '--keep',
        'default',
        '--keep-count',
        'default',
        '--failed-keep',
        'default',
        '--failed-keep-count',
        'default',
      ],
      env(),
    );
    expect(reset.code, reset.stderr).toBe(0);
    expect(await queue.getRetention('emails')).toMatchObject({
      keep: 86_400_000,
      keepCount: null,
      failedKeep: null,
      failedKeepCount: null,
    });
  });

  it('keeps nothing with --keep 0', async () => {
    const r = await queueCli(['retention', 'fast', '--keep', '0'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  keep               0: finished jobs are not kept\n');
    expect((await queue.getRetention('fast')).keep).toBe(0);
  });

  it('exits 2 for a bad value, naming the flag, before connecting', async () => {
    const cases: [string[], string][] = [
      [
        ['q', '--keep', '1 day'],
        '--keep must be a whole number with a unit, s, m, h or d (30s, 15m, 1h, 7d), 0 for none',
      ],
      [['q', '--keep', '1.5h'], '--keep must be a whole number with a unit'],
      [['q', '--failed-keep', '-1d'], '--failed-keep needs a value'],
      [['q', '--keep', '10'], '--keep must be a whole number with a unit'],
      [['q', '--keep-count', 'many'], '--keep-count must be a whole number from 0 to 2147483647, got "many"'],
      [['q', '--failed-keep-count', '-5'], '--failed-keep-count needs a value'],
      [['--keep', '1d'], 'name the queue to set: queue retention emails --keep 7d'],
      [['a', 'b'], 'give at most one queue name, got 2'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(['retention', ...args])));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });
});
