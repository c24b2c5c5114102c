import {
  type BeforeApplicationShutdown,
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Queue, type Worker } from '@queue/core';
import { QUEUE, QUEUE_WORKER } from './decorators.js';
import { ProcessorDefinitionError } from './errors.js';
import { assertSingletons, exploreTasks, type TaskRegistry } from './explorer.js';
import { nestLogger } from './logger.js';
import { ConfigurableModuleClass, QUEUE_MODULE_OPTIONS, type QueueModuleOptions } from './options.js';

const REGISTRY = '@queue/nest:TaskRegistry';

function createQueue(options: QueueModuleOptions, registry: TaskRegistry): Queue {
  const { worker: _worker, migrate: _migrate, tasks: _tasks, ...queueOptions } = options;
  // No tasks means a producer-only app: passing none (rather than {}) lets it enqueue task
  // names it does not define, for workers elsewhere to run.
  const tasks = Object.keys(registry.tasks).length > 0 ? registry.tasks : undefined;
  return new Queue({ logger: nestLogger(), ...queueOptions, tasks });
}

function createWorker(options: QueueModuleOptions, queue: Queue, registry: TaskRegistry): Worker | null {
  if (options.worker === false) return null;
  if (Object.keys(registry.tasks).length === 0) {
    throw new ProcessorDefinitionError(
      'QUEUE_NEST_NO_TASKS',
      'the queue worker has no tasks: no provider is a @Processor() with @Task() methods and `tasks` is empty. ' +
        "Add your processor classes to a module's providers, or pass `worker: false` for an app that only enqueues",
    );
  }
  // Created now (it connects only on start()) so it can be injected with @InjectWorker().
  return queue.worker(typeof options.worker === 'object' ? options.worker : {});
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
      provide: REGISTRY,
      useFactory: (options: QueueModuleOptions, d: DiscoveryService, s: MetadataScanner, r: Reflector) =>
        exploreTasks(d, s, r, options.tasks),
      inject: [QUEUE_MODULE_OPTIONS, DiscoveryService, MetadataScanner, Reflector],
    },
    { provide: QUEUE, useFactory: createQueue, inject: [QUEUE_MODULE_OPTIONS, REGISTRY] },
    { provide: QUEUE_WORKER, useFactory: createWorker, inject: [QUEUE_MODULE_OPTIONS, QUEUE, REGISTRY] },
    // Lets apps compiled with emitDecoratorMetadata inject by type: `constructor(queue: Queue)`.
    { provide: Queue, useExisting: QUEUE },
  ],
  exports: [QUEUE, QUEUE_WORKER, Queue],
})
export class QueueModule
  extends ConfigurableModuleClass
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(QUEUE) private readonly queue: Queue,
    @Inject(QUEUE_WORKER) private readonly worker: Worker | null,
    @Inject(QUEUE_MODULE_OPTIONS) private readonly options: QueueModuleOptions,
    @Inject(REGISTRY) private readonly registry: TaskRegistry,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    if (this.options.migrate) await this.queue.migrate();
  }

  /** After every onModuleInit (the app's own setup, e.g. its migrations) and before the server listens. */
  async onApplicationBootstrap(): Promise<void> {
    assertSingletons(this.registry.processors);
    await this.worker?.start();
  }

  /**
   * Stops claiming and waits for running jobs (up to `shutdownTimeout`). Nest calls this after
   * every onModuleDestroy hook, so resources handlers use must be closed later, in
   * onApplicationShutdown. The queue stays open meanwhile, so requests still in flight can enqueue.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
  }

  /** After the HTTP server has closed: sends pending wake-ups and closes the pool the queue made. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
