import { setTimeout as sleep } from 'node:timers/promises';
import { useTestDatabase } from '@queue/test-utils';
import { describe, expect, it } from 'vitest';
import { InvalidLimitError, UnknownQueueError } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);

/** Counts overlapping runs, overall and per key, from inside the handlers. */
function overlap() {
  let now = 0;
  let max = 0;
  const perKey = new Map<string, number>();
  let maxPerKey = 0;
  let done = 0;
  return {
    async run(key: string | undefined, ms: number) {
      now++;
      max = Math.max(max, now);
      if (key !== undefined) {
        const k = (perKey.get(key) ?? 0) + 1;
        perKey.set(key, k);
        maxPerKey = Math.max(maxPerKey, k);
      }
      await sleep(ms);
      now--;
      if (key !== undefined) perKey.set(key, perKey.get(key)! - 1);
      done++;
    },
    get max() {
      return max;
    },
    get maxPerKey() {
      return maxPerKey;
    },
    get done() {
      return done;
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('flow control', () => {
  it('a global limit caps running jobs across workers, and the slots are free afterwards', async () => {
    const o = overlap();
    const queue = makeQueue({ tasks: { work: async () => o.run(undefined, 15) } });
    await queue.registerTasks();
    await queue.setLimits('default', { concurrency: 3 });
    await queue.enqueueMany(Array.from({ length: 40 }, () => ({ task: 'work' as const, payload: {} })));
    await Promise.all([startWorker(queue, { concurrency: 10 }), startWorker(queue, { concurrency: 10 })]);
    await until(
      async () => (await db.query('SELECT count(*)::int AS n FROM queue.jobs'))[0].n === 0,
      'all jobs',
    );
    expect(o.done).toBe(40);
    expect(o.max).toBe(3);
    const usage = await queue.limitUsage('default');
    expect(usage).toMatchObject({ concurrency: 3, inUse: 0, waiting: 0, running: 0 });
  });

  it('a per-key limit of 1 never runs two jobs of a key at once, and runs keys side by side', async () => {
    const o = overlap();
    const queue = makeQueue({
      tasks: {
        work: { concurrencyKey: 'tenant', handler: async (p: { tenant: string }) => o.run(p.tenant, 10) },
      },
    });
    await queue.registerTasks();
    await queue.setLimits('default', { keyConcurrency: 1 });
    const items = Array.from({ length: 60 }, (_, i) => ({
      task: 'work' as const,
      payload: { tenant: `t${i % 6}` },
    }));
    await queue.enqueueMany(items);
    await startWorker(queue, { concurrency: 12 });
    await until(() => o.done === 60, 'all jobs');
    expect(o.maxPerKey).toBe(1);
    expect(o.max).toBe(6);
  });

  it('a rate limit keeps every window of one period within the limit (database clock)', async () => {
    const queue = makeQueue({ tasks: { work: async () => {} } });
    await queue.registerTasks();
    await queue.setLimits('default', { rate: { limit: 10, periodMs: 200 } });
    await queue.enqueueMany(Array.from({ length: 50 }, () => ({ task: 'work' as const, payload: {} })));
    await startWorker(queue, { concurrency: 8 });
    await until(async () => {
      const rows = await db.query('SELECT count(*)::int AS n FROM queue.job_history');
      return rows[0].n === 50;
    }, 'all jobs');
    const rows = await db.query(`SELECT (extract(epoch FROM started_at) * 1000)::float8 AS at
      FROM queue.job_history ORDER BY started_at`);
    const at = rows.map((r) => r.at as number);
    let worst = 0;
    for (let i = 0; i < at.length; i++) {
      let j = i;
      while (j < at.length && at[j]! < at[i]! + 200) j++;
      worst = Math.max(worst, j - i);
    }
    expect(worst).toBeLessThanOrEqual(10);
    // 50 jobs at 10 per 200 ms take at least 4 periods after the first burst.
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(800);
  });

  it('round-robin across keys: a key with a backlog does not hold back a new key', async () => {
    const started: string[] = [];
    const queue = makeQueue({
      tasks: {
        work: {
          concurrencyKey: 'tenant',
          handler: async (p: { tenant: string }) => {
            started.push(p.tenant);
            await sleep(2);
          },
        },
      },
    });
    await queue.registerTasks();
    await queue.setLimits('default', { fair: true });
    await queue.enqueueMany(
      Array.from({ length: 2000 }, () => ({ task: 'work' as const, payload: { tenant: 'A' } })),
    );
    const worker = await startWorker(queue, { concurrency: 8 });
    await until(() => started.length >= 50, 'A running');
    await queue.enqueueMany(
      Array.from({ length: 5 }, () => ({ task: 'work' as const, payload: { tenant: 'B' } })),
    );
    const at = started.length;
    await until(() => started.filter((t) => t === 'B').length === 5, 'B done');
    const lastB = started.lastIndexOf('B');
    // B's five start among the next few claims, not after A's ~1,950 remaining jobs.
    expect(lastB - at).toBeLessThan(40);
    await worker.stop();
  });

  it('a queue limited while a worker runs is claimed within its limit from then on', async () => {
    const o = overlap();
    const queue = makeQueue({ tasks: { work: async () => o.run(undefined, 10) } });
    await queue.registerTasks();
    await startWorker(queue, { concurrency: 8 });
    await queue.setLimits('default', { concurrency: 2 });
    await queue.enqueueMany(Array.from({ length: 30 }, () => ({ task: 'work' as const, payload: {} })));
    await until(() => o.done === 30, 'all jobs');
    expect(o.max).toBe(2);
    await queue.setLimits('default', { concurrency: null });
    expect(await queue.getLimits('default')).toEqual({
      queue: 'default',
      concurrency: null,
      keyConcurrency: null,
      rate: null,
      fair: false,
    });
  });

  it('refuses bad limits and keys by name, before anything is written', async () => {
    const queue = makeQueue({ tasks: { work: { concurrencyKey: 'tenant', handler: async () => {} } } });
    await queue.registerTasks();
    for (const bad of [0, -1, 1.5, '3', Number.NaN, 70_000]) {
      await expect(queue.setLimits('default', { concurrency: bad as number })).rejects.toMatchObject({
        code: 'QUEUE_INVALID_LIMIT',
        option: 'limits.concurrency',
      });
    }
    await expect(queue.setLimits('default', { rate: { limit: 10, periodMs: 0 } })).rejects.toBeInstanceOf(
      InvalidLimitError,
    );
    await expect(queue.setLimits('default', { burst: 3 } as never)).rejects.toBeInstanceOf(InvalidLimitError);
    await expect(queue.setLimits('nowhere', { concurrency: 2 })).rejects.toBeInstanceOf(UnknownQueueError);
    await expect(queue.enqueue('work', { tenant: 42 })).rejects.toMatchObject({
      code: 'QUEUE_INVALID_LIMIT',
    });
    await expect(queue.enqueue('work', {}, { concurrencyKey: 7 as never })).rejects.toMatchObject({
      code: 'QUEUE_INVALID_LIMIT',
      option: 'concurrencyKey',
    });
    const rows = await db.query(
      'SELECT (SELECT count(*)::int FROM queue.jobs) AS jobs, (SELECT count(*)::int FROM queue.queues) AS queues',
    );
    expect(rows[0]).toEqual({ jobs: 0, queues: 0 });
  });
});

describe('limits declared with the task map', () => {
  it('are recorded when a worker starts, and a queue no task goes to is refused at construction', async () => {
    const queue = makeQueue({
      tasks: { mail: { queue: 'mail', handler: async () => {} } },
      limits: { mail: { concurrency: 3, rate: { limit: 50, periodMs: 1_000 } } },
    });
    await startWorker(queue);
    expect(await queue.getLimits('mail')).toEqual({
      queue: 'mail',
      concurrency: 3,
      keyConcurrency: null,
      rate: { limit: 50, periodMs: 1_000 },
      fair: false,
    });
    expect(() =>
      makeQueue({
        tasks: { mail: { queue: 'mail', handler: async () => {} } },
        limits: { mial: { concurrency: 1 } },
      }),
    ).toThrow(UnknownQueueError);
    expect(() =>
      makeQueue({
        tasks: { mail: { queue: 'mail', handler: async () => {} } },
        limits: { mail: { concurrency: 0 } },
      }),
    ).toThrow(InvalidLimitError);
  });
});
