import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Global,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  RequestMethod,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import {
  type AdapterWorkerOptions,
  ConfigError,
  checkMetricsMount,
  type MetricsHandler,
  Queue,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
  type Worker,
} from '@queue/core';
import { ProcessorDefinitionError } from './errors.js';
import { assertSingletons, exploreTasks, type TaskRegistry } from './explorer.js';
import { nestLogger } from './logger.js';
import { withNamedQueues } from './named-queue.js';
import {
  ConfigurableModuleClass,
  QUEUE_MODULE_OPTIONS,
  type QueueModuleAsyncOptions,
  type QueueModuleOptions,
} from './options.js';
import { joinShutdown } from './signals.js';
import { QUEUE, QUEUE_WORKER, REGISTRY } from './tokens.js';

const SETUP = '@queue/nest:Setup';
const METRICS = '@queue/nest:Metrics';
const WHERE = 'QueueModule';

function createQueue(setup: ResolvedAdapterOptions, registry: TaskRegistry): Queue {
  if (setup.queue) {
    if (registry.processors.length > 0) {
      throw new ConfigError(
        `${WHERE}: the tasks of @Processor() classes (${Object.keys(registry.tasks).join(', ')}) cannot ` +
          'run on a `queue` you pass, whose tasks are fixed when it is created: pass the options to ' +
          'create one instead of `queue`, or define those tasks in your Queue and drop the processors',
      );
    }
    return setup.queue;
  }
  const { tasks: _tasks, schedules: _schedules, ...queueOptions } = setup.queueOptions;
  // No tasks means a producer-only app: passing none (rather than {}) lets it enqueue task
  // names it does not define, for workers elsewhere to run.
  const tasks = Object.keys(registry.tasks).length > 0 ? registry.tasks : undefined;
  // The `schedules` option and the @Schedule() methods, merged (and checked for clashes) by the explorer.
  const schedules = Object.keys(registry.schedules).length > 0 ? registry.schedules : undefined;
  return new Queue({ logger: nestLogger(), ...queueOptions, tasks, schedules });
}

function createWorker(setup: ResolvedAdapterOptions, queue: Queue, registry: TaskRegistry): Worker | null {
  if (setup.worker === false) return null;
  if (!setup.queue && Object.keys(registry.tasks).length === 0) {
    throw new ProcessorDefinitionError(
      'QUEUE_NEST_NO_TASKS',
      'the queue worker has no tasks: no provider is a @Processor() with @Task() methods and `tasks` is empty. ' +
        "Add your processor classes to a module's providers, or pass `worker: false` for an app that only enqueues",
    );
  }
  // Created now (it connects only on start()) so it can be injected with @InjectWorker(). With
  // handleSignals it joins core's shutdown on start, where a second signal aborts its jobs.
  return queue.worker({ ...workerQueues(setup.worker, registry), handleSignals: setup.handleSignals });
}

/** The module's options without `metrics`, which is the module's own and not core's. */
function withoutMetrics(options: QueueModuleOptions): QueueModuleOptions {
  if (options === null || typeof options !== 'object' || !('metrics' in options)) return options;
  const { metrics: _metrics, ...rest } = options;
  return rest as QueueModuleOptions;
}

function attachMetrics(
  options: QueueModuleOptions,
  queue: Queue,
  worker: Worker | null,
): { path: string; handler: MetricsHandler } | null {
  const mount = checkMetricsMount((options as { metrics?: unknown } | null)?.metrics, WHERE);
  return mount ? { path: mount.path, handler: mount.attach(queue, worker) } : null;
}

/** Core's default of `concurrency`, for the queues a @Processor() gives none. */
const DEFAULT_CONCURRENCY = 8;

/**
 * The worker's `queues` with the concurrency @Processor() classes set. The module's options
 * win: `queues` as an object gives every queue's number itself, and `queues` as a list names
 * the only queues worked (a processor's concurrency applies to those it lists). Without
 * `queues`, the worker works the queues core would (default and every task's), plus the
 * processors', each at its processor's concurrency, else at `concurrency`.
 */
export function workerQueues(worker: AdapterWorkerOptions, registry: TaskRegistry): AdapterWorkerOptions {
  const given = worker.queues;
  if (registry.concurrency.size === 0 || (given !== undefined && !Array.isArray(given))) return worker;
  const names = Array.isArray(given)
    ? given
    : [
        'default',
        ...Object.values(registry.tasks).map((spec) => (typeof spec === 'object' ? spec.queue : undefined)),
        ...registry.concurrency.keys(),
      ].filter((name): name is string => typeof name === 'string');
  const base = worker.concurrency ?? DEFAULT_CONCURRENCY;
  const queues = Object.fromEntries(
    names.map((name) => [name, registry.concurrency.get(name)?.value ?? base]),
  );
  return { ...worker, queues };
}

/**
 * The app's queue: `QueueModule.forRoot({...})` or `QueueModule.forRootAsync({...})` once, in
 * the root module. Global, so `@InjectQueue()` works anywhere. Every injection here names its
 * token, so the built package needs no emitted decorator metadata.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: SETUP,
      useFactory: (options: QueueModuleOptions) =>
        resolveAdapterOptions(withoutMetrics(options), WHERE, '@Processor() classes'),
      inject: [QUEUE_MODULE_OPTIONS],
    },
    {
      provide: REGISTRY,
      useFactory: (setup: ResolvedAdapterOptions, d: DiscoveryService, s: MetadataScanner, r: Reflector) =>
        exploreTasks(d, s, r, setup.queueOptions.tasks, setup.queueOptions.schedules),
      inject: [SETUP, DiscoveryService, MetadataScanner, Reflector],
    },
    { provide: QUEUE, useFactory: createQueue, inject: [SETUP, REGISTRY] },
    { provide: QUEUE_WORKER, useFactory: createWorker, inject: [SETUP, QUEUE, REGISTRY] },
    { provide: METRICS, useFactory: attachMetrics, inject: [QUEUE_MODULE_OPTIONS, QUEUE, QUEUE_WORKER] },
    // Lets apps compiled with emitDecoratorMetadata inject by type: `constructor(queue: Queue)`.
    { provide: Queue, useExisting: QUEUE },
  ],
  exports: [QUEUE, QUEUE_WORKER, Queue],
})
export class QueueModule
  extends ConfigurableModuleClass
  implements
    NestModule,
    OnModuleInit,
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private leaveShutdown: (() => void) | undefined;

  /** The module for the app's root module; the same as ConfigurableModuleBuilder's, plus @InjectQueue(name) providers. */
  static forRoot(options: QueueModuleOptions): DynamicModule {
    // biome-ignore lint/complexity/noThisInStatic: super keeps `this`, so the module stays QueueModule, not the builder's class.
    return withNamedQueues(super.forRoot(options));
  }

  static forRootAsync(options: QueueModuleAsyncOptions): DynamicModule {
    // biome-ignore lint/complexity/noThisInStatic: as in forRoot().
    return withNamedQueues(super.forRootAsync(options));
  }

  constructor(
    @Inject(QUEUE) private readonly queue: Queue,
    @Inject(QUEUE_WORKER) private readonly worker: Worker | null,
    @Inject(SETUP) private readonly setup: ResolvedAdapterOptions,
    @Inject(REGISTRY) private readonly registry: TaskRegistry,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(METRICS) private readonly metrics: { path: string; handler: MetricsHandler } | null,
  ) {
    super();
  }

  /**
   * Serves the `metrics` option's scrape as middleware on the raw request (at its path, below
   * the app's global prefix, if any), so it works on platform-express and platform-fastify alike.
   */
  configure(consumer: MiddlewareConsumer): void {
    if (!this.metrics) return;
    const { path, handler } = this.metrics;
    const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
      handler.handle({ headers: req.headers, raw: req }).then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(req.method === 'HEAD' ? undefined : r.body);
      }, next);
    };
    consumer.apply(middleware).forRoutes({ path: path.slice(1), method: RequestMethod.GET });
  }

  async onModuleInit(): Promise<void> {
    if (this.setup.migrate) await this.queue.migrate();
  }

  /** After every onModuleInit (the app's own setup, e.g. its migrations) and before the server listens. */
  async onApplicationBootstrap(): Promise<void> {
    assertSingletons(this.registry.processors);
    // Refuses a schema nobody migrated (SchemaNotMigratedError), naming what to run.
    await this.worker?.start();
    // Once booted: a signal before then ends the process as it would have (no job runs yet).
    if (this.setup.handleSignals) {
      this.leaveShutdown = joinShutdown({
        adapterHost: this.adapterHost,
        queue: this.setup.queue ? undefined : this.queue,
        logger: this.queue.logger,
      });
    }
  }

  /**
   * Stops claiming and waits for running jobs (up to `shutdownTimeout`). Nest calls this after
   * every onModuleDestroy hook, so resources handlers use must be closed later, in
   * onApplicationShutdown. The queue stays open meanwhile, so requests still in flight can enqueue.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
  }

  /**
   * After the HTTP server has closed: sends pending wake-ups and closes the pool the queue
   * made. A `queue` you passed stays yours to close.
   */
  async onApplicationShutdown(): Promise<void> {
    if (!this.setup.queue) await this.queue.close();
    this.metrics?.handler.close();
    this.leaveShutdown?.();
  }
}
