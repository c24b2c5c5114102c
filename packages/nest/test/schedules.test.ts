import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Job, type JobContext, QueueError, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DuplicateScheduleError,
  Processor,
  ProcessorDefinitionError,
  QUEUE_WORKER,
  QueueModule,
  type QueueModuleOptions,
  Schedule,
  Task,
} from '../src/index.js';

const db = useTestDatabase();
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
});

function root(providers: any[], options: Partial<QueueModuleOptions> = {}): DynamicModule {
  return {
    module: class AppModule {},
    imports: [QueueModule.forRoot({ connectionString: db.url, ...options } as QueueModuleOptions)],
    providers,
  };
}

async function boot(module: DynamicModule) {
  const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
  apps.push(app);
  return app;
}

/** Boots and, should it succeed, closes again; resolves with the error the boot threw. */
async function bootError(module: DynamicModule): Promise<any> {
  try {
    const app = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
    await app.close();
  } catch (error) {
    return error;
  }
  throw new Error('expected the app not to start');
}

/** Jobs a schedule enqueued, live or finished, one row per tick. */
async function ticksOf(schedule: string): Promise<{ tick: string; task: string }[]> {
  return db.query(
    `SELECT meta ->> 'scheduledAt' AS tick, task FROM queue.jobs WHERE meta ->> 'schedule' = $1
     UNION ALL
     SELECT meta ->> 'scheduledAt', task FROM queue.job_history WHERE meta ->> 'schedule' = $1
     ORDER BY 1`,
    [schedule],
  );
}

describe('@Schedule() on a @Task() method', () => {
  it('records the schedule when the worker starts, and its jobs run on the processor', async () => {
    @Processor('reports')
    class Reports {
      readonly ticks: { payload: unknown; scheduledAt: Date | undefined }[] = [];
      @Schedule('every-second', { every: '1s', payload: { kind: 'tick' }, catchUp: 'skip' })
      @Task('report')
      async report(payload: unknown, ctx: JobContext) {
        this.ticks.push({ payload, scheduledAt: ctx.scheduledAt });
      }
    }
    const app = await boot(root([Reports]));
    const worker = app.get<Worker>(QUEUE_WORKER);
    const isTick = (e: { job: Job }) => e.job.meta.schedule === 'every-second';
    const first = await nextEvent<{ job: Job }>(worker, 'completed', isTick);
    const second = await nextEvent<{ job: Job }>(worker, 'completed', isTick);

    expect(first.job).toMatchObject({ task: 'report', queue: 'reports', payload: { kind: 'tick' } });
    const [a, b] = [first, second].map((e) => Date.parse(e.job.meta.scheduledAt as string));
    expect(b! - a!).toBe(1_000);
    const processor = app.get(Reports);
    expect(processor.ticks.slice(0, 2).map((t) => t.scheduledAt?.getTime())).toEqual([a, b]);

    // One job per tick: no tick was enqueued twice.
    const rows = await ticksOf('every-second');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rows.map((r) => r.tick)).size).toBe(rows.length);
    expect(rows.every((r) => r.task === 'report')).toBe(true);

    const [stored] = await db.query(
      `SELECT task, interval_ms, catch_up FROM queue.schedules WHERE name = 'every-second'`,
    );
    expect(stored).toMatchObject({ task: 'report', interval_ms: '1000', catch_up: 'skip' });
  });

  it('several @Schedule() on one method, beside the module`s `schedules` option', async () => {
    @Processor()
    class Cleanup {
      @Schedule('sweep-fast', { every: '1s' })
      @Schedule('sweep-nightly', { cron: '0 3 * * *', timeZone: 'Europe/Berlin', payload: { full: true } })
      @Task('sweep')
      async sweep() {}

      @Task('other')
      async other() {}
    }
    const app = await boot(
      root([Cleanup], { schedules: { 'other-hourly': { task: 'other', cron: '0 * * * *' } } }),
    );
    const worker = app.get<Worker>(QUEUE_WORKER);
    await nextEvent<{ job: Job }>(worker, 'completed', (e) => e.job.meta.schedule === 'sweep-fast');
    const stored = await db.query(
      `SELECT name, task, cron, time_zone AS "timeZone", payload FROM queue.schedules
       WHERE name IN ('sweep-fast', 'sweep-nightly', 'other-hourly') ORDER BY name`,
    );
    expect(stored).toMatchObject([
      { name: 'other-hourly', task: 'other', cron: '0 * * * *' },
      { name: 'sweep-fast', task: 'sweep', cron: null },
      {
        name: 'sweep-nightly',
        task: 'sweep',
        cron: '0 3 * * *',
        timeZone: 'Europe/Berlin',
        payload: { full: true },
      },
    ]);
  });
});

describe('misdeclared schedules fail the boot with a named error', () => {
  it('@Schedule() on a method without @Task()', async () => {
    @Processor()
    class Half {
      @Task('ok')
      async ok() {}

      @Schedule('lonely', { every: '1m' })
      async notATask() {}
    }
    const error = await bootError(root([Half]));
    expect(error).toBeInstanceOf(ProcessorDefinitionError);
    expect(error).toBeInstanceOf(QueueError);
    expect(error.code).toBe('QUEUE_NEST_SCHEDULE_WITHOUT_TASK');
    expect(error.message).toMatch(/Half\.notATask has @Schedule\("lonely"\) but no @Task\(\)/);
  });

  it('@Schedule() in a class that is no processor at all', async () => {
    class Plain {
      @Schedule('stray', { every: '1m' })
      async run() {}
    }
    @Processor()
    class Real {
      @Task('real')
      async real() {}
    }
    const error = await bootError(root([Plain, Real]));
    expect(error).toMatchObject({ code: 'QUEUE_NEST_SCHEDULE_WITHOUT_TASK' });
  });

  it('the same schedule name twice in processors', async () => {
    @Processor()
    class A {
      @Schedule('nightly', { cron: '0 3 * * *' })
      @Task('a')
      async a() {}
    }
    @Processor()
    class B {
      @Schedule('nightly', { cron: '0 4 * * *' })
      @Task('b')
      async b() {}
    }
    const error = await bootError(root([A, B]));
    expect(error).toBeInstanceOf(DuplicateScheduleError);
    expect(error).toMatchObject({ code: 'QUEUE_NEST_DUPLICATE_SCHEDULE', schedule: 'nightly' });
    expect(error.message).toMatch(
      /by @Schedule\(\) on A\.a \(in AppModule\) and by @Schedule\(\) on B\.b \(in AppModule\)/,
    );
  });

  it('a schedule name in both the `schedules` option and a @Schedule()', async () => {
    @Processor()
    class A {
      @Schedule('nightly', { cron: '0 3 * * *' })
      @Task('a')
      async a() {}
    }
    const error = await bootError(root([A], { schedules: { nightly: { task: 'a', every: '1h' } } }));
    expect(error).toMatchObject({ name: 'DuplicateScheduleError', code: 'QUEUE_NEST_DUPLICATE_SCHEDULE' });
    expect(error.message).toMatch(/by the `schedules` option and by @Schedule\(\) on A\.a/);
  });

  it('a bad cron expression: core`s InvalidScheduleError, naming the schedule', async () => {
    @Processor()
    class A {
      @Schedule('broken', { cron: '61 * * * *' })
      @Task('a')
      async a() {}
    }
    const error = await bootError(root([A]));
    expect(error).toMatchObject({ code: 'QUEUE_INVALID_SCHEDULE', schedule: 'broken', option: 'cron' });
  });

  it('at class definition: on a static method, a bad name, or with `task`', () => {
    const onStatic = () => {
      // biome-ignore lint/complexity/noStaticOnlyClass: the static method is the point of the test
      class S {
        @Schedule('s', { every: '1m' })
        static run() {}
      }
      return S;
    };
    expect(onStatic).toThrow(ProcessorDefinitionError);
    expect(onStatic).toThrow(/@Schedule\("s"\) on static S\.run/);
    const badName = () => {
      class N {
        @Schedule('', { every: '1m' })
        run() {}
      }
      return N;
    };
    expect(badName).toThrow(expect.objectContaining({ code: 'QUEUE_NEST_BAD_SCHEDULE' }));
    const withTask = () => {
      class T {
        @Schedule('t', { every: '1m', task: 'elsewhere' } as any)
        run() {}
      }
      return T;
    };
    expect(withTask).toThrow(/`task` is not an option here/);
  });
});
