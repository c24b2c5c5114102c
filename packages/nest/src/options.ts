import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AdapterOptions, MetricsMount, TaskMap } from '@queue/core';

/**
 * The options every adapter takes: `worker`, `migrate`, `handleSignals`, and either your own
 * `queue` (you close it) or core's `QueueOptions` to create one (the module closes it). The
 * worker's tasks are the @Processor() classes' @Task() methods, plus the `tasks` option.
 */
export type QueueModuleOptions = AdapterOptions<TaskMap> & {
  /**
   * A Prometheus scrape of this queue and worker, served at its path (GET /metrics, below the
   * app's global prefix) behind its own `auth`/`basicAuth`/`unsafeNoAuth`:
   * `metrics: metricsEndpoint({ basicAuth })` from @queue/metrics.
   */
  metrics?: MetricsMount;
};

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
