import { type Job, silentLogger, task } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifyQueue } from '../src/index.js';

const db = useTestDatabase();
const open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
});

const tasks = {
  report: task<{ kind: string }>({ queue: 'reports', handler: async () => {} }),
};

describe('schedules', () => {
  it('a schedule in the plugin options is recorded when the worker starts, and its ticks run', async () => {
    const app = Fastify();
    open.push(app);
    await app.register(fastifyQueue, {
      connectionString: db.url,
      logger: silentLogger,
      tasks,
      schedules: {
        'fastify-tick': { task: 'report', every: '1s', payload: { kind: 'tick' }, catchUp: 'skip' },
      },
    });
    const isTick = (e: { job: Job }) => e.job.meta.schedule === 'fastify-tick';
    const first = nextEvent<{ job: Job }>(app.queueWorker!, 'completed', isTick);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { job } = await first;
    expect(job).toMatchObject({ task: 'report', queue: 'reports', payload: { kind: 'tick' } });
    const second = await nextEvent<{ job: Job }>(app.queueWorker!, 'completed', isTick);
    expect(
      Date.parse(second.job.meta.scheduledAt as string) - Date.parse(job.meta.scheduledAt as string),
    ).toBe(1_000);

    // One job per tick, live or finished.
    const rows = await db.query<{ tick: string }>(
      `SELECT meta ->> 'scheduledAt' AS tick FROM queue.jobs WHERE meta ->> 'schedule' = $1
       UNION ALL SELECT meta ->> 'scheduledAt' FROM queue.job_history WHERE meta ->> 'schedule' = $1`,
      ['fastify-tick'],
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rows.map((r) => r.tick)).size).toBe(rows.length);
    const [stored] = await db.query('SELECT task, interval_ms FROM queue.schedules WHERE name = $1', [
      'fastify-tick',
    ]);
    expect(stored).toEqual({ task: 'report', interval_ms: '1000' });
  });

  it('a bad schedule fails the registration with core`s InvalidScheduleError', async () => {
    const app = Fastify();
    open.push(app);
    const registered = app.register(fastifyQueue, {
      connectionString: db.url,
      logger: silentLogger,
      tasks,
      schedules: { broken: { task: 'report', cron: 'not a cron' } },
    });
    await expect(registered).rejects.toMatchObject({
      code: 'QUEUE_INVALID_SCHEDULE',
      schedule: 'broken',
      option: 'cron',
    });
  });
});
