import { QueueError } from '@queue/core';

/** An option of createQueueMetrics() or metricsEndpoint() is invalid: nothing was registered. */
export class MetricsConfigError extends QueueError {
  constructor(message: string) {
    super('QUEUE_METRICS_CONFIG', message);
  }
}
