import type { QueueAdmin } from '@queue/core';
import { DashboardConfigError } from './errors.js';

/** What serves the dashboard's /metrics: a QueueMetrics from @queue/metrics, or anything with `scrape()`. */
export interface MetricsSource {
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** What the `auth` hook answers: allow (true), allow looking but not acting ('read-only'), or deny (false → 401). */
export type AuthResult = boolean | 'read-only';

export interface DashboardOptions<Req = unknown> {
  /** The queue to show and manage (a Queue, or a QueueAdmin). The dashboard never closes it. */
  queue: QueueAdmin;
  /**
   * Your app's own authentication: called with the framework's request (Express `req`,
   * Fastify `request`, Node `IncomingMessage`) before every request the dashboard answers.
   */
  auth?: (request: Req) => AuthResult | Promise<AuthResult>;
  /** HTTP Basic authentication with one user, for when the app has nothing of its own. */
  basicAuth?: { username: string; password: string };
  /**
   * Serve everyone without authentication. For a dashboard bound to localhost on a
   * developer's machine only. Without this, `auth` or `basicAuth`, every request gets 401.
   */
  unsafeNoAuth?: boolean;
  /** Show everything, change nothing: every action answers 403. */
  readOnly?: boolean;
  /**
   * Key for the CSRF tokens. Default: random per process, which is fine for one instance;
   * give the same secret to every instance behind a load balancer.
   */
  csrfSecret?: string;
  /** Shown in the page title and header. Default 'Queue'. */
  title?: string;
  /** How often open pages refresh, in milliseconds. Default 2,000; slow queries stretch it. */
  refreshInterval?: number;
  /**
   * Serve a Prometheus scrape at `metrics` below the mount, behind the same authentication:
   * `metrics: (queue) => createQueueMetrics({ queue })` with @queue/metrics (the function
   * form suits the standalone server, which may create the queue itself), or a QueueMetrics.
   */
  metrics?: MetricsSource | ((queue: QueueAdmin) => MetricsSource);
}

export interface ResolvedOptions {
  queue: QueueAdmin;
  auth: ((request: unknown) => AuthResult | Promise<AuthResult>) | undefined;
  basicAuth: { username: string; password: string } | undefined;
  unsafeNoAuth: boolean;
  readOnly: boolean;
  csrfSecret: string | undefined;
  title: string;
  refreshInterval: number;
  metrics: MetricsSource | undefined;
}

export function resolveOptions(options: DashboardOptions<any>): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new DashboardConfigError('dashboard options must be an object with at least `queue`');
  }
  const { queue } = options;
  // Duck-typed, not instanceof: an app may load a second copy of @queue/core.
  if (!queue || typeof queue.jobCounts !== 'function' || typeof queue.listJobs !== 'function') {
    throw new DashboardConfigError('`queue` must be a Queue or QueueAdmin from @queue/core');
  }
  if (options.auth !== undefined && typeof options.auth !== 'function') {
    throw new DashboardConfigError(
      '`auth` must be a function of the request returning true, false or "read-only"',
    );
  }
  const basic = options.basicAuth;
  if (basic !== undefined) {
    if (!basic || typeof basic.username !== 'string' || typeof basic.password !== 'string') {
      throw new DashboardConfigError('`basicAuth` must be { username: string, password: string }');
    }
    if (basic.username.includes(':') || basic.username === '' || basic.password === '') {
      throw new DashboardConfigError(
        '`basicAuth` needs a non-empty username without ":" and a non-empty password',
      );
    }
  }
  const ways = [options.auth !== undefined, basic !== undefined, options.unsafeNoAuth === true].filter(
    Boolean,
  );
  if (ways.length > 1) {
    throw new DashboardConfigError('give only one of `auth`, `basicAuth` and `unsafeNoAuth`');
  }
  if (
    options.csrfSecret !== undefined &&
    (typeof options.csrfSecret !== 'string' || options.csrfSecret.length < 16)
  ) {
    throw new DashboardConfigError('`csrfSecret` must be a string of at least 16 characters');
  }
  const refresh = options.refreshInterval ?? 2000;
  if (!Number.isInteger(refresh) || refresh < 250 || refresh > 600_000) {
    throw new DashboardConfigError(
      `\`refreshInterval\` must be an integer from 250 to 600000 ms, got ${String(refresh)}`,
    );
  }
  const title = options.title ?? 'Queue';
  if (typeof title !== 'string' || title.length === 0 || title.length > 100) {
    throw new DashboardConfigError('`title` must be a string of 1 to 100 characters');
  }
  let metrics = options.metrics;
  if (typeof metrics === 'function') metrics = metrics(queue);
  if (metrics !== undefined && (metrics === null || typeof metrics.scrape !== 'function')) {
    throw new DashboardConfigError(
      '`metrics` must be a QueueMetrics from @queue/metrics (or a function of the queue returning one), e.g. `metrics: (queue) => createQueueMetrics({ queue })`',
    );
  }
  return {
    metrics,
    queue,
    auth: options.auth,
    basicAuth: basic,
    unsafeNoAuth: options.unsafeNoAuth === true,
    readOnly: options.readOnly === true,
    csrfSecret: options.csrfSecret,
    title,
    refreshInterval: refresh,
  };
}
