import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { QueueOptions, WorkerOptions } from '@queue/core';

export interface QueueModuleOptions extends QueueOptions {
  /**
   * Worker options (concurrency, queues, pollInterval, shutdownTimeout…), or `false` for an
   * app that only enqueues (a web process, with workers elsewhere). Default `true`: a worker
   * with core's defaults. Leave `handleSignals` off: Nest's `enableShutdownHooks()` owns the signals.
   */
  worker?: WorkerOptions | boolean;
  /** Run the queue's migrations when the module initialises, before any worker starts. Default false. */
  migrate?: boolean;
}

/** What a `useClass`/`useExisting` options provider implements. */
export interface QueueOptionsFactory {
  createQueueOptions(): QueueModuleOptions | Promise<QueueModuleOptions>;
}

// Nest's own builder gives forRoot() and forRootAsync() with useFactory/useClass/useExisting,
// inject and imports, exactly as other Nest modules accept them.
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: QUEUE_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<QueueModuleOptions>({ moduleName: 'Queue' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createQueueOptions')
  .build();

export type QueueModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
