import type { MetricsHandler, MetricsMount, MetricsResponse, Queue, Worker } from '@queue/core';
import { accessCheck, BASIC_REALM, type MetricsAuthOptions } from './auth.js';
import { QueueMetrics, type QueueMetricsOptions } from './collector.js';
import { MetricsConfigError } from './errors.js';

export interface MetricsEndpointOptions<Req = unknown>
  extends Omit<QueueMetricsOptions, 'queue'>,
    MetricsAuthOptions<Req> {
  /** Where the adapter serves the scrape. Default '/metrics'. */
  path?: string;
}

/**
 * The `metrics` option of @queue/express, @queue/fastify and @queue/nest: the adapter serves
 * a Prometheus scrape at `path` (default /metrics) for its queue and worker, behind `auth`,
 * `basicAuth` or `unsafeNoAuth` (closed by default, as the dashboard is).
 * `createQueue(app, { connectionString, tasks, metrics: metricsEndpoint({ basicAuth }) })`.
 */
export function metricsEndpoint<Req = unknown>(options: MetricsEndpointOptions<Req> = {}): MetricsMount {
  if (options === null || typeof options !== 'object') {
    throw new MetricsConfigError('metricsEndpoint(options): options must be an object');
  }
  const { path = '/metrics', auth, basicAuth, unsafeNoAuth, ...collect } = options;
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.includes('//')) {
    throw new MetricsConfigError(
      `\`path\` must be a plain path starting with '/', e.g. '/metrics', got ${JSON.stringify(path)}`,
    );
  }
  const allowed = accessCheck({ auth, basicAuth, unsafeNoAuth } as MetricsAuthOptions<any>);
  let attached = false;
  return {
    path,
    attach(queue: Queue<any>, worker: Worker | null): MetricsHandler {
      if (attached) {
        throw new MetricsConfigError(
          'this metrics endpoint is in use by another app already: call metricsEndpoint() once per app',
        );
      }
      attached = true;
      const metrics = new QueueMetrics({ ...collect, queue });
      if (worker) metrics.observe(worker);
      return {
        async handle({ headers, raw }): Promise<MetricsResponse> {
          if (!(await allowed(headers, raw))) {
            return {
              status: 401,
              headers: {
                'content-type': 'text/plain; charset=utf-8',
                ...(basicAuth ? { 'www-authenticate': BASIC_REALM } : {}),
              },
              body: 'authentication required\n',
            };
          }
          try {
            const { contentType, body } = await metrics.scrape();
            return {
              status: 200,
              headers: { 'content-type': contentType, 'cache-control': 'no-store' },
              body,
            };
          } catch (error) {
            // A collector of the app's own registry that threw: the details go to the log only.
            queue.logger.error(
              { err: error instanceof Error ? error.message : String(error) },
              'metrics scrape failed',
            );
            return {
              status: 500,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
              body: 'scrape failed: see the server log\n',
            };
          }
        },
        close: () => metrics.close(),
      };
    },
  };
}
