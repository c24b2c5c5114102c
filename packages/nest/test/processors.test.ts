import { type DynamicModule, type INestApplicationContext, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type JobContext, Queue, type Worker } from '@queue/core';
import { expectNoAdvisoryLocks, nextEvent, useEmptyDatabase, useTestDatabase } from '@queue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InjectQueue,
  InjectWorker,
  Processor,
  QUEUE,
  QUEUE_WORKER,
  QueueModule,
  type QueueModuleOptions,
  type QueueOptionsFactory,
  Task,
} from '../src/index.js';

const db = useTestDatabase();
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await expectNoAdvisoryLocks(db);
});

async function boot(root: DynamicModule | (new (...args: any[]) => unknown)) {
  const app = await NestFactory.createApplicationContext(root, { logger: false, abortOnError: false });
  apps.push(app);
  return app;
}

@Injectable()
class Greeter {
  greet(name: string) {
    return `Hello, ${name}`;
  }
}

interface Seen {
  self: unknown;
  text: string;
  queue: string;
  maxAttempts: number;
  attempt: number;
}

/** A processor with an injected service and the queue itself, to enqueue follow-up jobs. */
@Processor('mail')
class MailProcessor {
  readonly seen: Seen[] = [];
  constructor(
    @Inject(Greeter) private readonly greeter: Greeter,
    @InjectQueue() private readonly queue: Queue,
  ) {}

  @Task('greet', { maxAttempts: 3 })
  async greet(payload: { name: string }, ctx: JobContext) {
    this.seen.push({
      self: this,
      text: this.greeter.greet(payload.name),
      queue: ctx.job.queue,
      maxAttempts: ctx.job.maxAttempts,
      attempt: ctx.attempt,
    });
    if (payload.name === 'chain') await this.queue.enqueue('farewell', { name: 'chained' });
  }

  @Task({ queue: 'slow-mail' })
  async farewell(payload: { name: string }, ctx: JobContext) {
    this.seen.push({
      self: this,
      text: `Bye, ${payload.name}`,
      queue: ctx.job.queue,
      maxAttempts: ctx.job.maxAttempts,
      attempt: ctx.attempt,
    });
  }
}

@Module({ providers: [Greeter, MailProcessor] })
class MailModule {}

describe('decorated processors', () => {
  it("run on the DI-managed instance, with its injected dependencies and the decorators' options", async () => {
    const app = await boot({
      module: class AppModule {},
      imports: [QueueModule.forRoot({ connectionString: db.url, worker: { pollInterval: 100 } }), MailModule],
    });
    const queue = app.get<Queue>(QUEUE);
    const worker = app.get<Worker>(QUEUE_WORKER);
    const done = nextEvent(worker, 'completed', (e: any) => e.job.task === 'farewell');
    await queue.enqueue('greet', { name: 'chain' });
    await done;

    const processor = app.get(MailProcessor);
    expect(processor.seen).toEqual([
      { self: processor, text: 'Hello, chain', queue: 'mail', maxAttempts: 3, attempt: 1 },
      // @Task({ queue }) overrides the @Processor's queue; the name defaults to the method's.
      { self: processor, text: 'Bye, chained', queue: 'slow-mail', maxAttempts: 25, attempt: 1 },
    ]);
  });

  it('plain `tasks` run next to decorated ones, and the Queue is injectable by token and by class', async () => {
    const ran: string[] = [];
    const app = await boot({
      module: class AppModule {},
      imports: [
        QueueModule.forRoot({
          connectionString: db.url,
          tasks: { ping: async (p: { n: number }) => ran.push(`ping ${p.n}`) },
        }),
        MailModule,
      ],
    });
    expect(app.get(Queue)).toBe(app.get(QUEUE));
    const worker = app.get<Worker>(QUEUE_WORKER);
    const completed = new Set<string>();
    const both = new Promise<void>((resolve) =>
      worker.on('completed', ({ job }) => {
        completed.add(job.task);
        if (completed.size === 2) resolve();
      }),
    );
    await app.get(Queue).enqueue('ping', { n: 1 });
    await app.get(Queue).enqueue('greet', { name: 'Ada' });
    await both;
    expect(ran).toEqual(['ping 1']);
    expect(app.get(MailProcessor).seen.map((s) => s.text)).toEqual(['Hello, Ada']);
  });

  it('@InjectWorker() gives the worker, for its events', async () => {
    @Injectable()
    class Watcher {
      constructor(@InjectWorker() readonly worker: Worker) {}
    }
    const app = await boot({
      module: class AppModule {},
      imports: [QueueModule.forRoot({ connectionString: db.url }), MailModule],
      providers: [Watcher],
    });
    expect(app.get(Watcher).worker).toBe(app.get(QUEUE_WORKER));
  });
});

describe('forRootAsync', () => {
  const CONFIG = 'CONFIG';
  @Module({ providers: [{ provide: CONFIG, useValue: { url: db.url } }], exports: [CONFIG] })
  class ConfigModule {}

  it('useFactory with inject and imports', async () => {
    const app = await boot({
      module: class AppModule {},
      imports: [
        QueueModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: async (config: { url: string }) => ({ connectionString: config.url, worker: true }),
        }),
        MailModule,
      ],
    });
    const done = nextEvent(app.get<Worker>(QUEUE_WORKER), 'completed');
    await app.get<Queue>(QUEUE).enqueue('greet', { name: 'async' });
    await done;
    expect(app.get(MailProcessor).seen.map((s) => s.text)).toEqual(['Hello, async']);
  });

  it('useClass and useExisting', async () => {
    @Injectable()
    class QueueConfig implements QueueOptionsFactory {
      constructor(@Inject(CONFIG) private readonly config: { url: string }) {}
      createQueueOptions(): QueueModuleOptions {
        return { connectionString: this.config.url, worker: false };
      }
    }
    const viaClass = await boot({
      module: class AppModule {},
      imports: [QueueModule.forRootAsync({ imports: [ConfigModule], useClass: QueueConfig })],
    });
    expect(viaClass.get(QUEUE_WORKER)).toBeNull();
    expect((await viaClass.get<Queue>(QUEUE).countJobs()).length).toBeGreaterThanOrEqual(0);

    @Module({ imports: [ConfigModule], providers: [QueueConfig], exports: [QueueConfig] })
    class QueueConfigModule {}
    const viaExisting = await boot({
      module: class AppModule {},
      imports: [QueueModule.forRootAsync({ imports: [QueueConfigModule], useExisting: QueueConfig })],
    });
    expect(viaExisting.get(QUEUE_WORKER)).toBeNull();
  });
});

describe('module options', () => {
  it('worker: false makes a producer: no worker, and any task name can be enqueued for workers elsewhere', async () => {
    const app = await boot({
      module: class AppModule {},
      imports: [QueueModule.forRoot({ connectionString: db.url, worker: false })],
    });
    expect(app.get(QUEUE_WORKER)).toBeNull();
    const job = await app.get<Queue>(QUEUE).enqueue('runsElsewhere', { x: 1 });
    expect(await db.query('SELECT task FROM queue.jobs WHERE id = $1', [job.id])).toEqual([
      { task: 'runsElsewhere' },
    ]);
  });

  describe('migrate (true by default)', () => {
    const empty = useEmptyDatabase();
    it('creates the queue schema before the worker starts', async () => {
      const app = await boot({
        module: class AppModule {},
        imports: [QueueModule.forRoot({ connectionString: empty.url }), MailModule],
      });
      const done = nextEvent(app.get<Worker>(QUEUE_WORKER), 'completed');
      await app.get<Queue>(QUEUE).enqueue('greet', { name: 'fresh' });
      await done;
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      const left = await empty.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [empty.name],
      );
      expect(left[0].n).toBe(0);
    });
  });
});
