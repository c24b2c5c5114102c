import { type INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { defineTask, type JobContext, type Queue, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getQueueToken,
  InjectQueue,
  NamedQueue,
  Processor,
  ProcessorDefinitionError,
  QUEUE,
  QUEUE_WORKER,
  QueueModule,
  Task,
} from '../src/index.js';

const db = useTestDatabase();
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
});

async function boot(root: new (...args: any[]) => unknown) {
  const app = await NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
  apps.push(app);
  return app;
}

// The contracts an app shares between its producers and its processors.
const transcode = defineTask<{ file: string }>({ queue: 'audio', maxAttempts: 5 });
const render = defineTask<{ frame: number }>({ queue: 'video' });
const anywhere = defineTask<{ n: number }>();

describe('@Task(contract)', () => {
  it("runs the method with the payload, with the contract's options, enqueued by a producer of the contract", async () => {
    const seen: { file: string; queue: string; maxAttempts: number }[] = [];
    @Processor('audio')
    class Audio {
      @Task(transcode)
      async transcode(payload: { file: string }, ctx: JobContext<{ file: string }>) {
        seen.push({ file: payload.file, queue: ctx.job.queue, maxAttempts: ctx.job.maxAttempts });
      }
    }
    @Module({
      imports: [QueueModule.forRoot({ connectionString: db.url, worker: { pollInterval: 100 } })],
      providers: [Audio],
    })
    class AppModule {}
    const app = await boot(AppModule);
    const done = nextEvent(app.get<Worker>(QUEUE_WORKER), 'completed');
    await app.get<Queue<{ transcode: typeof transcode }>>(QUEUE).enqueue('transcode', { file: 'a.wav' });
    await done;
    expect(seen).toEqual([{ file: 'a.wav', queue: 'audio', maxAttempts: 5 }]);
  });

  it("refuses at startup a processor whose queue is not its contract's", async () => {
    @Processor('mail')
    class Misplaced {
      @Task('transcode', transcode)
      async handle(_payload: { file: string }) {}
    }
    @Module({ imports: [QueueModule.forRoot({ connectionString: db.url })], providers: [Misplaced] })
    class AppModule {}
    const error = await boot(AppModule).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessorDefinitionError);
    expect(error).toMatchObject({ code: 'QUEUE_NEST_CONTRACT_QUEUE_MISMATCH' });
    expect((error as Error).message).toMatch(/Misplaced\.handle.*"audio".*"mail"/);
  });
});

describe('@InjectQueue(name)', () => {
  it("enqueues into its queue unless the enqueue options or the task's own definition name one", async () => {
    // The module is created before the class that injects 'uploads' is defined: the provider is added to it then.
    const queueModule = QueueModule.forRoot({
      connectionString: db.url,
      worker: false,
      tasks: { render, anywhere },
    });
    @Injectable()
    class Uploads {
      constructor(
        @InjectQueue('uploads')
        readonly uploads: NamedQueue<{ render: typeof render; anywhere: typeof anywhere }>,
      ) {}
    }
    @Module({ imports: [queueModule], providers: [Uploads] })
    class AppModule {}
    const app = await boot(AppModule);
    const uploads = app.get(Uploads).uploads;
    expect(uploads).toBeInstanceOf(NamedQueue);
    expect(app.get(getQueueToken('uploads'))).toBe(uploads);
    expect(uploads.queue).toBe(app.get(QUEUE));
    expect(app.get(getQueueToken())).toBe(app.get(QUEUE));

    const bound = await uploads.enqueue('anywhere', { n: 1 });
    const declared = await uploads.enqueue('render', { frame: 1 });
    const explicit = await uploads.enqueue('anywhere', { n: 2 }, { queue: 'elsewhere' });
    const many = await uploads.enqueueMany([
      { task: 'anywhere', payload: { n: 3 } },
      { task: 'render', payload: { frame: 2 } },
    ]);
    const rows = await db.query(
      'SELECT id::text, queue FROM queue.jobs WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[bound, declared, explicit, ...many].map((j) => j.id)],
    );
    expect(rows.map((r: { queue: string }) => r.queue)).toEqual([
      'uploads',
      'video',
      'elsewhere',
      'uploads',
      'video',
    ]);
  });

  it('refuses an empty queue name, naming the decorator', () => {
    expect(() => InjectQueue('')).toThrow(/@InjectQueue\(name\).*1 to 128 characters, got ""/);
  });
});

describe('@Processor(queue, { concurrency })', () => {
  it('runs at most that many jobs of its queue at once, while other queues keep the worker default', async () => {
    const JOBS = 7;
    let running = 0;
    let most = 0;
    const waiting: (() => void)[] = [];
    const changed = new Set<() => void>();
    const when = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        const test = () => {
          if (!check()) return;
          changed.delete(test);
          resolve();
        };
        changed.add(test);
        test();
      });
    const notify = () => {
      for (const test of [...changed]) test();
    };

    @Processor('audio', { concurrency: 3 })
    class Audio {
      @Task(transcode)
      async transcode(_payload: { file: string }) {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((release) => {
          waiting.push(release);
          notify();
        });
        running -= 1;
      }
    }
    @Module({
      imports: [
        QueueModule.forRoot({ connectionString: db.url, worker: { concurrency: 5, pollInterval: 100 } }),
      ],
      providers: [Audio],
    })
    class AppModule {}
    const app = await boot(AppModule);
    const queue = app.get<Queue<{ transcode: typeof transcode }>>(QUEUE);
    const worker = app.get<Worker>(QUEUE_WORKER);

    // What the worker registered: 'audio' at the processor's 3, 'default' at the module's 5.
    const [live] = (await queue.workers()).filter((w) => w.tasks.includes('transcode'));
    expect(live?.queues).toEqual({ default: 5, audio: 3 });

    let completed = 0;
    worker.on('completed', () => {
      completed += 1;
      notify();
    });
    await queue.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ task: 'transcode', payload: { file: `${i}` } })),
    );
    // Release one job each time the worker has filled its 3 slots (or what is left): every
    // release frees one slot, and all 7 jobs run through 3 slots.
    for (let done = 0; done < JOBS; done += 1) {
      await when(() => waiting.length === Math.min(3, JOBS - done));
      waiting.shift()?.();
      await when(() => completed === done + 1);
    }
    expect(completed).toBe(JOBS);
    expect(most).toBe(3);
  });

  it('leaves numbers given in the module worker.queues as they are', async () => {
    @Processor('audio', { concurrency: 3 })
    class Audio {
      @Task(transcode)
      async transcode(_payload: { file: string }) {}
    }
    @Module({
      imports: [QueueModule.forRoot({ connectionString: db.url, worker: { queues: { audio: 2 } } })],
      providers: [Audio],
    })
    class AppModule {}
    const app = await boot(AppModule);
    const [live] = (await app.get<Queue>(QUEUE).workers()).filter((w) => w.tasks.includes('transcode'));
    expect(live?.queues).toEqual({ audio: 2 });
  });

  it('refuses a concurrency that is not a positive integer, and two processors disagreeing on one queue', async () => {
    expect(() => Processor('audio', { concurrency: 0 })(class Zero {})).toThrow(
      /@Processor\(\) on Zero: concurrency must be an integer from 1 to 10000, got 0/,
    );
    @Processor('audio', { concurrency: 3 })
    class A {
      @Task(transcode)
      async transcode(_payload: { file: string }) {}
    }
    @Processor('audio', { concurrency: 4 })
    class B {
      @Task()
      async other(_payload: unknown) {}
    }
    @Module({ imports: [QueueModule.forRoot({ connectionString: db.url })], providers: [A, B] })
    class AppModule {}
    const error = await boot(AppModule).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUEUE_NEST_CONFLICTING_CONCURRENCY' });
    expect((error as Error).message).toMatch(/queue "audio" gets concurrency 3 from A and 4 from B/);
  });
});
