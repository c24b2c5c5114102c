import { type Job, silentLogger, task } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueue, type ExpressQueue } from '../src/index.js';
import { expressVersions, listen } from './helpers.js';

const db = useTestDatabase();
const open: ExpressQueue<any>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close().catch(() => {})));
  await expectNoAdvisoryLocks(db);
});

const tasks = {
  report: task<{ kind: string }>({ queue: 'reports', handler: async () => {} }),
};

for (const [label, express] of expressVersions) {
  describe(`schedules on ${label}`, () => {
    it('a schedule in the options is recorded when the worker starts, and its ticks run', async () => {
      const name = `express-tick-${label.replace(' ', '')}`;
      const app = express();
      const jobs = createQueue(app, {
        connectionString: db.url,
        logger: silentLogger,
        tasks,
        schedules: { [name]: { task: 'report', every: '1s', payload: { kind: 'tick' }, catchUp: 'skip' } },
      });
      open.push(jobs);
      const isTick = (e: { job: Job }) => e.job.meta.schedule === name;
      const first = nextEvent<{ job: Job }>(jobs.worker!, 'completed', isTick);
      await listen(app);
      await jobs.ready();
      const { job } = await first;
      expect(job).toMatchObject({ task: 'report', queue: 'reports', payload: { kind: 'tick' } });
      const second = await nextEvent<{ job: Job }>(jobs.worker!, 'completed', isTick);
      expect(
        Date.parse(second.job.meta.scheduledAt as string) - Date.parse(job.meta.scheduledAt as string),
      ).toBe(1_000);

      // One job per tick, live or finished.
      const rows = await db.query<{ tick: string }>(
        `SELECT meta ->> 'scheduledAt' AS tick FROM queue.jobs WHERE meta ->> 'schedule' = $1
         UNION ALL SELECT meta ->> 'scheduledAt' FROM queue.job_history WHERE meta ->> 'schedule' = $1`,
        [name],
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(new Set(rows.map((r) => r.tick)).size).toBe(rows.length);
      const [stored] = await db.query('SELECT task, interval_ms FROM queue.schedules WHERE name = $1', [
        name,
      ]);
      expect(stored).toEqual({ task: 'report', interval_ms: '1000' });
    });
  });
}

describe('schedule options are typed by the task map', () => {
  it('refuses a task the map does not have, and a payload of the wrong shape', () => {
    const typed = () => {
      const app = expressVersions[0]![1]();
      createQueue(app, {
        connectionString: db.url,
        tasks,
        schedules: {
          // @ts-expect-error: 'nope' is not a task of the map
          wrong: { task: 'nope', every: '1s' },
        },
      });
    };
    // Also refused at runtime, by core, before anything is written.
    expect(typed).toThrow(expect.objectContaining({ code: 'QUEUE_INVALID_SCHEDULE', schedule: 'wrong' }));
  });
});
