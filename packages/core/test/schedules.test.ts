import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  InvalidScheduleError,
  type JobContext,
  PayloadValidationError,
  ScheduleExistsError,
  ScheduleNotFoundError,
  silentLogger,
} from '../src/index.js';
import { Scheduler } from '../src/schedules/scheduler.js';
import { makeNames } from '../src/sql/names.js';
import { gate, queueFactory, startWorker } from './helpers.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
beforeEach(() => db.query('TRUNCATE queue.schedules, queue.tasks'));

const noop = async () => {};
/** Jobs a schedule enqueued, live or finished, oldest tick first. */
const scheduledJobs = (name: string) =>
  db.query<{ id: string; tick: string; meta: Record<string, unknown> }>(
    `SELECT id::text, meta ->> 'scheduledAt' AS tick, meta FROM queue.jobs WHERE meta ->> 'schedule' = $1
     UNION ALL
     SELECT id::text, meta ->> 'scheduledAt', meta FROM queue.job_history WHERE meta ->> 'schedule' = $1
     ORDER BY 2`,
    [name],
  );

/** Runs one scheduler until `name` is past `tick` (moved on), then stops it. */
async function fireOnce(queue: { pool: import('pg').Pool }, name: string): Promise<void> {
  const scheduler = new Scheduler({
    query: (text, values) => queue.pool.query(text, values),
    names: makeNames(),
    logger: silentLogger,
  });
  scheduler.start();
  try {
    await waitFor(`schedule ${name} to move on`, async () => {
      const [r] = await db.query(`SELECT next_run_at > now() AS done FROM queue.schedules WHERE name = $1`, [
        name,
      ]);
      return r?.done;
    });
  } finally {
    await scheduler.stop();
  }
}

describe('admin API', () => {
  it('creates, reads, lists, updates, pauses, resumes, runs now and deletes a schedule', async () => {
    const queue = makeQueue();
    const created = await queue.createSchedule('nightly', {
      task: 'report',
      cron: '0 3 * * *',
      timeZone: 'europe/berlin',
      payload: { kind: 'daily' },
      tags: ['reports'],
      meta: { owner: 'ops' },
    });
    expect(created).toMatchObject({
      name: 'nightly',
      task: 'report',
      cron: '0 3 * * *',
      every: null,
      timeZone: 'Europe/Berlin',
      payload: { kind: 'daily' },
      queue: null,
      catchUp: 'once',
      pausedAt: null,
      lastRunAt: null,
      tags: ['reports'],
      meta: { owner: 'ops' },
    });
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect([1, 2]).toContain(created.nextRunAt.getUTCHours());
    expect(created.nextRunAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await expect(queue.createSchedule('nightly', { task: 'report', every: 1000 })).rejects.toThrow(
      ScheduleExistsError,
    );

    expect(await queue.getSchedule('nightly')).toEqual(created);
    const [listed] = await queue.listSchedules();
    // No worker runs: flagged as an unknown task would be.
    expect(listed).toMatchObject({
      name: 'nightly',
      jobQueue: 'default',
      unrouted: { reason: 'queue-not-served' },
    });

    const repaid = await queue.updateSchedule('nightly', { payload: { kind: 'weekly' }, queue: 'reports' });
    expect(repaid).toMatchObject({ payload: { kind: 'weekly' }, queue: 'reports', cron: '0 3 * * *' });
    expect(repaid.nextRunAt).toEqual(created.nextRunAt);
    const retimed = await queue.updateSchedule('nightly', { every: '90s', queue: null });
    expect(retimed).toMatchObject({ cron: null, every: 90_000, queue: null, timeZone: 'UTC' });
    expect(retimed.nextRunAt).not.toEqual(created.nextRunAt);

    const paused = await queue.pauseSchedule('nightly');
    expect(paused.pausedAt).toBeInstanceOf(Date);
    expect((await queue.pauseSchedule('nightly')).pausedAt).toEqual(paused.pausedAt);
    const resumed = await queue.resumeSchedule('nightly');
    expect(resumed.pausedAt).toBeNull();

    const job = await queue.runScheduleNow('nightly');
    expect(job).toMatchObject({
      task: 'report',
      queue: 'default',
      payload: { kind: 'weekly' },
      tags: ['reports'],
    });
    expect(job.meta).toMatchObject({ owner: 'ops', schedule: 'nightly', manual: true });
    expect(
      Math.abs(new Date(job.meta.scheduledAt as string).getTime() - job.createdAt.getTime()),
    ).toBeLessThan(2);
    // It is the schedule's last run now; its next tick stays.
    const after = await queue.getSchedule('nightly');
    expect(after).toMatchObject({ lastJobId: job.id, nextRunAt: resumed.nextRunAt });
    expect(Math.abs(after!.lastRunAt!.getTime() - job.createdAt.getTime())).toBeLessThan(2);

    expect((await queue.deleteSchedule('nightly')).name).toBe('nightly');
    expect(await queue.getSchedule('nightly')).toBeNull();
    for (const call of [
      () => queue.deleteSchedule('nightly'),
      () => queue.pauseSchedule('nightly'),
      () => queue.resumeSchedule('nightly'),
      () => queue.updateSchedule('nightly', { payload: 1 }),
      () => queue.runScheduleNow('nightly'),
    ]) {
      await expect(call()).rejects.toThrow(ScheduleNotFoundError);
    }
  });

  it('runScheduleNow on a paused schedule records its last run; with a tick due and not yet fired, that tick stays to fire and is the last run', async () => {
    const queue = makeQueue({ tasks: { report: noop } });
    await queue.createSchedule('p', { task: 'report', every: '1h' });
    await queue.pauseSchedule('p');
    const manual = await queue.runScheduleNow('p');
    expect(await queue.getSchedule('p')).toMatchObject({ lastJobId: manual.id, lastRunAt: manual.createdAt });

    // A tick due a second ago that no scheduler has fired (none runs here).
    await queue.createSchedule('due', { task: 'report', every: '1h' });
    await db.query(
      `UPDATE queue.schedules SET next_run_at = date_trunc('milliseconds', now()) - interval '1 second' WHERE name = 'due'`,
    );
    await queue.runScheduleNow('due');
    const before = await queue.getSchedule('due');
    expect(before).toMatchObject({ lastRunAt: null, lastJobId: null });
    await fireOnce(queue as never, 'due');
    const fired = await queue.getSchedule('due');
    expect(fired!.lastRunAt).toEqual(before!.nextRunAt);
    const ticks = await scheduledJobs('due');
    expect(ticks.map((t) => t.meta.manual ?? false)).toEqual([false, true]);
    expect(fired!.lastJobId).toBe(ticks[0]!.id);
  });

  it("a schedule's jobs take the task's options unless it overrides them", async () => {
    const queue = makeQueue({ tasks: { report: { queue: 'reports', priority: 3, handler: noop } } });
    await queue.registerTasks();
    await queue.createSchedule('a', { task: 'report', every: '1h' });
    await queue.createSchedule('b', { task: 'report', every: '1h', queue: 'other', maxAttempts: 2 });
    expect(await queue.runScheduleNow('a')).toMatchObject({ queue: 'reports', priority: 3, maxAttempts: 25 });
    expect(await queue.runScheduleNow('b')).toMatchObject({ queue: 'other', priority: 3, maxAttempts: 2 });
  });
});

describe('schedules declared in code', () => {
  const daily = { task: 'report', cron: '0 3 * * *', timeZone: 'Europe/Berlin' } as const;

  it('a worker records them when it starts; a restart keeps next_run_at unless the timing changed', async () => {
    const first = makeQueue({
      tasks: { report: noop },
      schedules: { nightly: { ...daily, payload: { v: 1 } } },
    });
    await (await startWorker(first)).stop();
    const [row] = await db.query(
      `SELECT next_run_at, updated_at FROM queue.schedules WHERE name = 'nightly'`,
    );
    // Moved by hand, to see whether a restart resets it.
    await db.query(`UPDATE queue.schedules SET next_run_at = next_run_at + interval '1 day'`);
    await first.pauseSchedule('nightly');

    const same = makeQueue({
      tasks: { report: noop },
      schedules: { nightly: { ...daily, payload: { v: 1 } } },
    });
    await (await startWorker(same)).stop();
    let s = (await same.getSchedule('nightly'))!;
    expect(s.nextRunAt.getTime()).toBe(row.next_run_at.getTime() + 86_400_000);
    expect(s.pausedAt).not.toBeNull();

    const newPayload = makeQueue({
      tasks: { report: noop },
      schedules: { nightly: { ...daily, payload: { v: 2 } } },
    });
    await (await startWorker(newPayload)).stop();
    s = (await newPayload.getSchedule('nightly'))!;
    expect(s.payload).toEqual({ v: 2 });
    expect(s.nextRunAt.getTime()).toBe(row.next_run_at.getTime() + 86_400_000);
    // A pause made at runtime survives deploys.
    expect(s.pausedAt).not.toBeNull();

    const newTime = makeQueue({
      tasks: { report: noop },
      schedules: { nightly: { ...daily, cron: '0 4 * * *', payload: { v: 2 } } },
    });
    await (await startWorker(newTime)).stop();
    s = (await newTime.getSchedule('nightly'))!;
    expect(s.cron).toBe('0 4 * * *');
    expect(s.nextRunAt.getTime()).not.toBe(row.next_run_at.getTime() + 86_400_000);
  });

  it('a payload that fails the task schema fails worker.start() before the schedule is written', async () => {
    const queue = makeQueue({
      tasks: { report: { schema: z.object({ v: z.number() }), handler: noop } },
      schedules: { nightly: { ...daily, payload: { v: 'x' } as never } },
    });
    await expect(queue.worker().start()).rejects.toThrow(PayloadValidationError);
    expect(await db.query('SELECT * FROM queue.schedules')).toEqual([]);
    await expect(queue.createSchedule('n2', { ...daily, payload: { v: 'x' } as never })).rejects.toThrow(
      PayloadValidationError,
    );
  });
});

describe('bad input is refused before anything is written, quoting the value', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'invalid cron',
      { task: 't', cron: '61 * * * *' },
      'cron',
      /cron "61 \* \* \* \*" is not a valid cron expression/,
    ],
    ['cron garbage', { task: 't', cron: 'every day' }, 'cron', /cron "every day" is not a valid/],
    ['cron that never matches', { task: 't', cron: '0 0 30 2 *' }, 'cron', /"0 0 30 2 \*" never matches/],
    [
      'unknown zone',
      { task: 't', cron: '* * * * *', timeZone: 'Mars/Olympus' },
      'timeZone',
      /"Mars\/Olympus" is not a known IANA time zone/,
    ],
    ['interval 0', { task: 't', every: 0 }, 'every', /every 0 must be a positive/],
    ['interval < 0', { task: 't', every: -1000 }, 'every', /every -1000 must be a positive/],
    ['interval string 0', { task: 't', every: '0s' }, 'every', /every "0s" must be a positive/],
    ['interval words', { task: 't', every: 'hourly' }, 'every', /every "hourly"/],
    [
      'catch-up word',
      { task: 't', every: 1000, catchUp: 'sometimes' },
      'catchUp',
      /catchUp "sometimes" is not a catch-up policy/,
    ],
    [
      'catch-up bound',
      { task: 't', every: 1000, catchUp: { each: 0 } },
      'catchUp',
      /catchUp \{"each":0\} is not a catch-up policy/,
    ],
    [
      'unknown task',
      { task: 'nope', every: 1000 },
      'task',
      /task "nope" is not in this queue's task map: known tasks are "t"/,
    ],
    [
      'cron and every',
      { task: 't', every: 1000, cron: '* * * * *' },
      'cron',
      /cron "\* \* \* \* \*" and every 1000 conflict/,
    ],
    ['neither', { task: 't' }, 'cron', /"bad": cron and every are both missing/],
    [
      'zone with interval',
      { task: 't', every: 1000, timeZone: 'UTC' },
      'timeZone',
      /applies to cron schedules only/,
    ],
    [
      'reserved meta',
      { task: 't', every: 1000, meta: { scheduledAt: 1 } },
      'meta',
      /"scheduledAt" is a key the scheduler sets/,
    ],
    ['unknown option', { task: 't', every: 1000, tz: 'UTC' }, 'option', /option "tz" is unknown/],
  ];

  it.each(cases)('%s', async (_label, spec, option, message) => {
    const queue = makeQueue({ tasks: { t: noop } });
    const error = await queue.createSchedule('bad', spec as never).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidScheduleError);
    expect(error).toMatchObject({ code: 'QUEUE_INVALID_SCHEDULE', schedule: 'bad', option });
    expect(error.message).toMatch(message);
    expect(() => makeQueue({ tasks: { t: noop }, schedules: { bad: spec as never } })).toThrow(message);
    expect(await db.query('SELECT * FROM queue.schedules')).toEqual([]);
  });

  it('an update with bad input changes nothing', async () => {
    const queue = makeQueue();
    const before = await queue.createSchedule('s', { task: 't', cron: '0 3 * * *' });
    await expect(queue.updateSchedule('s', { cron: '0 3 * *' })).rejects.toThrow(/cron "0 3 \* \*"/);
    await expect(queue.updateSchedule('s', { timeZone: 'Nowhere/City' })).rejects.toThrow(/"Nowhere\/City"/);
    expect(await queue.getSchedule('s')).toEqual(before);
  });
});

describe('catch-up after downtime', () => {
  /** A per-second schedule whose scheduler was away for 10 s: its next_run_at is 10 ticks ago. */
  async function missedTen(queue: ReturnType<typeof makeQueue>, name: string, catchUp: unknown) {
    await queue.createSchedule(name, { task: 't', cron: '* * * * * *', catchUp: catchUp as never });
    await db.query(
      `UPDATE queue.schedules SET next_run_at = date_trunc('second', now()) - interval '10 seconds' WHERE name = $1`,
      [name],
    );
  }

  it("'skip' fires only the latest tick, 'once' one job for all, { each: 3 } the latest three", async () => {
    const queue = makeQueue();
    await missedTen(queue, 'skip', 'skip');
    await missedTen(queue, 'once', 'once');
    await missedTen(queue, 'each', { each: 3 });
    const [{ missed_from: missedFrom }] = await db.query(
      `SELECT next_run_at AS missed_from FROM queue.schedules WHERE name = 'once'`,
    );
    await fireOnce(queue, 'skip');
    const [skip, once, each] = (await Promise.all(['skip', 'once', 'each'].map(scheduledJobs))) as [
      Awaited<ReturnType<typeof scheduledJobs>>,
      Awaited<ReturnType<typeof scheduledJobs>>,
      Awaited<ReturnType<typeof scheduledJobs>>,
    ];
    const ticks = (jobs: { tick: string }[]) => jobs.map((j) => new Date(j.tick).getTime());
    expect(skip).toHaveLength(1);
    expect(once).toHaveLength(1);
    expect(once[0]!.meta.missedFrom).toBe(missedFrom.toISOString());
    expect(each).toHaveLength(3);
    expect(ticks(each)[2]! - ticks(each)[0]!).toBe(2_000);
    // All fired the same, latest, tick: at or just before the database's now when they ran.
    expect(ticks(skip)).toEqual(ticks(once));
    expect(ticks(each)[2]).toBe(ticks(skip)[0]);
    const rows = await db.query(
      `SELECT name, last_run_at, last_job_id::text FROM queue.schedules ORDER BY name`,
    );
    for (const r of rows) expect(r.last_run_at.getTime()).toBe(ticks(skip)[0]);
    expect(rows.find((r) => r.name === 'each').last_job_id).toBe(each[2]!.id);
  });

  it("a daily tick missed by hours: 'skip' drops it and moves on, 'once' runs it", async () => {
    const queue = makeQueue();
    await queue.createSchedule('skip', { task: 't', cron: '0 3 * * *', catchUp: 'skip' });
    await queue.createSchedule('once', { task: 't', cron: '0 3 * * *' });
    await db.query(`UPDATE queue.schedules SET next_run_at = date_trunc('day', now()) - interval '21 hours'`);
    await fireOnce(queue, 'skip');
    await fireOnce(queue, 'once');
    expect(await scheduledJobs('skip')).toEqual([]);
    expect(await scheduledJobs('once')).toHaveLength(1);
    const skip = (await queue.getSchedule('skip'))!;
    expect(skip.lastRunAt).toBeNull();
    expect(skip.nextRunAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a long catch-up of several schedules is fired in bounded statements, each tick once', async () => {
    const queue = makeQueue();
    for (const name of ['a', 'b', 'c']) {
      await queue.createSchedule(name, { task: 't', cron: '* * * * * *', catchUp: { each: 3_000 } });
    }
    await db.query(
      `UPDATE queue.schedules SET next_run_at = date_trunc('second', now()) - interval '1 hour'`,
    );
    await fireOnce(queue, 'a');
    await fireOnce(queue, 'c');
    const rows = await db.query(
      `SELECT meta ->> 'schedule' AS name, count(*)::int AS jobs, count(DISTINCT meta ->> 'scheduledAt')::int AS ticks
       FROM queue.jobs GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    for (const r of rows) {
      expect(r.jobs).toBe(r.ticks);
      // The latest 3,000 of the hour's ticks, and the few that came due while the test ran.
      expect(r.jobs).toBeGreaterThanOrEqual(3_000);
      expect(r.jobs).toBeLessThan(3_010);
    }
  });

  it('a paused schedule fires nothing, and resuming does not catch up the pause', async () => {
    const queue = makeQueue();
    await queue.createSchedule('p', { task: 't', every: '1s', catchUp: { each: 100 } });
    await queue.pauseSchedule('p');
    await db.query(`UPDATE queue.schedules SET next_run_at = now() - interval '5 seconds'`);
    const resumed = await queue.resumeSchedule('p');
    expect(resumed.nextRunAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await fireOnce(queue, 'p');
    expect((await scheduledJobs('p')).length).toBeLessThanOrEqual(1);
  });
});

describe('the job knows its tick', () => {
  it('ctx.scheduledAt is the tick, the same as meta.scheduledAt; other jobs get undefined', async () => {
    const seen: { scheduledAt: Date | undefined; meta: Record<string, unknown> }[] = [];
    const ran = gate();
    const queue = makeQueue({
      tasks: {
        tick: async (_: unknown, ctx: JobContext) => {
          seen.push({ scheduledAt: ctx.scheduledAt, meta: ctx.job.meta });
          if (seen.length === 2) ran.open();
        },
      },
      schedules: { everySecond: { task: 'tick', cron: '* * * * * *' } },
    });
    await queue.enqueue('tick', null);
    await startWorker(queue);
    await ran.opened;
    const plain = seen.find((s) => !s.meta.schedule)!;
    const ticked = seen.find((s) => s.meta.schedule === 'everySecond')!;
    expect(plain.scheduledAt).toBeUndefined();
    expect(ticked.scheduledAt).toBeInstanceOf(Date);
    expect(ticked.scheduledAt!.toISOString()).toBe(ticked.meta.scheduledAt);
    expect(ticked.scheduledAt!.getMilliseconds()).toBe(0);
  });
});
