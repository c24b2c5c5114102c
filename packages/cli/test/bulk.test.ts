// `queue retry` and `queue delete` with several ids and by filter (--state, --queue, --task,
// --tag), live jobs and finished ones from the history; --yes where a filter removes jobs or
// runs finished work again.
import { type Job, Queue, silentLogger } from '@queue/core';
import { nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCli } from './spawn.js';

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.url });
let queue: Queue;
/** Completed by a worker in beforeAll: two of task 'a' (one tagged 'vip'), one of 'b'; queue 'bq'. */
let completed: Job[];

beforeAll(async () => {
  queue = new Queue({ connectionString: db.url, logger: silentLogger });
  completed = [
    await queue.enqueue('a', {}, { queue: 'bq', tags: ['vip'] }),
    await queue.enqueue('a', {}, { queue: 'bq' }),
    await queue.enqueue('b', {}, { queue: 'bq' }),
  ];
  const runner = new Queue({
    connectionString: db.url,
    logger: silentLogger,
    tasks: { a: async () => 'done', b: async () => 'done' },
  });
  const worker = runner.worker({ queues: ['bq'], pollInterval: 50 });
  let n = 0;
  const all = nextEvent(worker, 'completed', () => ++n === completed.length);
  await worker.start();
  await all;
  await runner.close();
});
afterAll(() => queue.close());

async function failJob(task: string, q: string, tags: string[] = []) {
  const job = await queue.enqueue(task, {}, { queue: q, tags });
  await db.query('UPDATE queue.jobs SET failed_at = now(), attempts = 1 WHERE id = $1', [job.id]);
  return job;
}
const state = async (id: string) => (await queue.getJob(id))?.state;
const inHistory = async (id: string) =>
  (await db.query('SELECT 1 FROM queue.job_history WHERE id = $1', [id])).length > 0;

describe('queue retry', () => {
  it('retries several ids, a failed job in place and a completed one from the history', async () => {
    const failed = await failJob('f', 'bq-live');
    const done = completed[2]!;
    const r = await queueCli(['retry', failed.id, done.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`retried job ${failed.id}\nretried job ${done.id}\n`);
    expect(await state(failed.id)).toBe('available');
    expect(await state(done.id)).toBe('available');
    expect(await inHistory(done.id)).toBe(false);
    await db.query('DELETE FROM queue.jobs WHERE id = ANY($1::bigint[])', [[failed.id, done.id]]);
  });

  it('retries the failed jobs of a queue carrying a tag with --state failed --tag', async () => {
    const vip = await failJob('f', 'bq-tags', ['vip', 'eu']);
    const plain = await failJob('f', 'bq-tags');
    const r = await queueCli(['retry', '--state', 'failed', '--queue', 'bq-tags', '--tag', 'vip'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('retried 1 failed job of queue "bq-tags" tagged "vip"\n');
    expect(await state(vip.id)).toBe('available');
    expect(await state(plain.id)).toBe('failed');
    await db.query(`DELETE FROM queue.jobs WHERE queue = 'bq-tags'`);
  });

  it('retries completed jobs of a task from the history only with --yes', async () => {
    const unconfirmed = await queueCli(['retry', '--state', 'completed', '--task', 'a'], env());
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      'queue: this runs again every completed job of task "a": add --yes to confirm\n',
    );
    const r = await queueCli(
      ['retry', '--state', 'completed', '--task', 'a', '--tag', 'vip', '--yes'],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('retried 1 completed job of task "a" tagged "vip"\n');
    expect(await state(completed[0]!.id)).toBe('available');
    expect(await inHistory(completed[1]!.id)).toBe(true);
    await db.query('DELETE FROM queue.jobs WHERE id = $1', [completed[0]!.id]);
  });
});

describe('queue delete', () => {
  it('deletes several ids, live and from the history', async () => {
    const live = await queue.enqueue('d', {}, { queue: 'bq-del' });
    const done = completed[1]!;
    const r = await queueCli(['delete', live.id, done.id], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`deleted job ${live.id}\ndeleted job ${done.id}\n`);
    expect(await queue.getJob(live.id)).toBeNull();
    expect(await inHistory(done.id)).toBe(false);
  });

  it('deletes every failed job of a queue with --state failed --yes, and only with --yes', async () => {
    const mine = [await failJob('f', 'bq-del'), await failJob('g', 'bq-del')];
    const other = await failJob('f', 'bq-keep');
    const waiting = await queue.enqueue('f', {}, { queue: 'bq-del' });
    const unconfirmed = await queueCli(['delete', '--state', 'failed', '--queue', 'bq-del'], env());
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      'queue: this deletes every failed job of queue "bq-del": add --yes to confirm\n',
    );
    expect(await state(mine[0]!.id)).toBe('failed');

    const r = await queueCli(['delete', '--state', 'failed', '--queue', 'bq-del', '--yes'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('deleted 2 failed jobs of queue "bq-del"\n');
    for (const j of mine) expect(await queue.getJob(j.id)).toBeNull();
    expect(await state(other.id)).toBe('failed');
    expect(await state(waiting.id)).toBe('available');
    await db.query(`DELETE FROM queue.jobs WHERE queue IN ('bq-del', 'bq-keep')`);
  });
});

describe('bad bulk command lines', () => {
  it('exit 2 naming what is wrong, before connecting', async () => {
    const cases: [string[], string][] = [
      [
        ['retry', '--queue', 'q'],
        '--queue, --task and --tag go with --state (one of failed, scheduled, completed, cancelled)',
      ],
      [
        ['delete', '--tag', 'vip'],
        '--queue, --task and --tag go with --state (one of failed, scheduled, available',
      ],
      [
        ['retry', '--state', 'available'],
        '--state must be one of failed, scheduled, completed, cancelled, got "available"',
      ],
      [
        ['delete', '--state', 'running', '--yes'],
        '--state must be one of failed, scheduled, available, completed, cancelled',
      ],
      [['delete', '5', '--state', 'failed', '--yes'], 'give job ids or --state, not both'],
      [['retry', '--failed', '--state', 'failed'], 'give --failed or --state, not both'],
      [['delete', '5', '--yes'], '--yes confirms a filtered delete (--state); ids need none'],
      [['retry', '--state', 'failed', '--tag', ''], '--tag must be 1 to 64 characters, got ""'],
      [['delete'], 'give at least one job id'],
    ];
    const results = await Promise.all(cases.map(([args]) => queueCli(args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`queue: ${cases[i]![1]}`);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });
});
