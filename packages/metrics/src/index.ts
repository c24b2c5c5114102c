export type { MetricsAuthOptions } from './auth.js';
export type { QueueMetricsOptions } from './collector.js';
export {
  createQueueMetrics,
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_WAIT_BUCKETS,
  QueueMetrics,
} from './collector.js';
export type { MetricsEndpointOptions } from './endpoint.js';
export { metricsEndpoint } from './endpoint.js';
export { MetricsConfigError } from './errors.js';
