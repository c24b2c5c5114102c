/**
 * What the framework adapters take as their `metrics` option: an endpoint made by
 * @queue/metrics (`metricsEndpoint()`), which they serve at its `path` once they have their
 * queue and worker. Only types and one check live here, so that an adapter serves /metrics
 * without depending on @queue/metrics or prom-client: an app that wants metrics installs them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from './errors.js';
import type { Queue } from './queue.js';
import type { Worker } from './worker.js';

export interface MetricsRequest {
  headers: IncomingHttpHeaders;
  /** The framework's request (Express `req`, Fastify `request`, Node `IncomingMessage`), for `auth`. */
  raw: unknown;
}

export interface MetricsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A mounted endpoint: answers scrapes; `close()` stops observing the queue and worker. */
export interface MetricsHandler {
  handle(request: MetricsRequest): Promise<MetricsResponse>;
  close(): void;
}

export interface MetricsMount {
  /** Where the adapter serves the scrape, e.g. '/metrics'. */
  readonly path: string;
  /** Called once by the adapter with its queue and its worker (null with `worker: false`). */
  attach(queue: Queue<any>, worker: Worker | null): MetricsHandler;
}

/** An adapter's `metrics` option, checked: undefined when not given. */
export function checkMetricsMount(value: unknown, where: string): MetricsMount | undefined {
  if (value === undefined) return undefined;
  const mount = value as Partial<MetricsMount> | null;
  if (
    mount === null ||
    typeof mount !== 'object' ||
    typeof mount.attach !== 'function' ||
    typeof mount.path !== 'string' ||
    !mount.path.startsWith('/')
  ) {
    throw new ConfigError(
      `${where}: \`metrics\` must be an endpoint from @queue/metrics, e.g. \`metrics: metricsEndpoint({ basicAuth })\`, got ${
        mount === null ? 'null' : typeof mount
      }`,
    );
  }
  return mount as MetricsMount;
}
