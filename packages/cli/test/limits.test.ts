// `queue limits`: shows and sets flow limits and their use, removes them with `none`, and
// refuses bad values (before connecting where it can) and unknown queues, writing nothing.
import { Queue, silentLogger } from '@queue/core';
import { useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  await queue.migrate();
});
afterAll(() => queue.close());

describe('queue limits', () => {
  it('sets limits, shows them with their use, and removes one with none', async () => {
    await queue.enqueue('sync', { tenant: 't1' }, { queue: 'crm', concurrencyKey: 't1' });
    await queue.enqueue('sync', { tenant: 't1' }, { queue: 'crm', concurrencyKey: 't1' });
    await queue.enqueue('sync', { tenant: 't2' }, { queue: 'crm', concurrencyKey: 't2' });
    const set = await queueCli(
      ['limits', 'crm', '--concurrency', '5', '--key-concurrency', '1', '--rate', '100/1m'],
      env(),
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(
      [
        'crm: limits set',
        'queue crm',
        '  concurrency      5 (in use 0)',
        '  key concurrency  1',
        '  rate             100/1m (0 started in the last 1m)',
        '  fair             yes (round-robin across keys)',
        '  jobs             0 running, 3 waiting',
        '  KEY  RUNNING  WAITING',
        '  t1   0        2',
        '  t2   0        1',
        '',
      ].join('\n'),
    );
    const all = await queueCli(['limits'], env());
    expect(all.stdout).toBe(
      [
        'QUEUE  CONCURRENCY  KEY CONCURRENCY  RATE    FAIR',
        'crm    5            1                100/1m  yes',
        '',
      ].join('\n'),
    );
    const none = await queueCli(['limits', 'crm', '--rate', 'none', '--json'], env());
    expect(none.code, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({
      queue: 'crm',
      concurrency: 5,
      keyConcurrency: 1,
      rate: null,
    });
  });

  it('refuses bad values and unknown queues, writing nothing', async () => {
    for (const args of [
      ['--concurrency', '0'],
      ['--concurrency', '-1'],
      ['--concurrency', '1.5'],
      ['--key-concurrency', 'many'],
      ['--rate', '100'],
      ['--rate', '0/1s'],
      ['--fair', 'yes'],
    ]) {
      const r = await queueCli(['limits', 'emails', ...args], env());
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^queue: /);
    }
    const unknown = await queueCli(['limits', 'nowhere', '--concurrency', '2'], env());
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('unknown queue "nowhere"');
    const rows = await db.query(
      `SELECT count(*)::int AS n FROM queue.queues WHERE name IN ('emails', 'nowhere')`,
    );
    expect(rows[0].n).toBe(0);
  });
});
