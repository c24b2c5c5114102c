import { apiRoutes } from './api.js';
import { Assets } from './assets.js';
import { DashboardError, NotFoundError, ReadOnlyError } from './errors.js';
import {
  asset,
  type DashboardRequest,
  type DashboardResponse,
  header,
  html,
  json,
  notModified,
  redirect,
} from './http.js';
import {
  type DashboardOptions,
  type MetricsSource,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { matchRoute, type Route } from './router.js';
import { authenticate, BASIC_REALM } from './security/auth.js';
import { Csrf } from './security/csrf.js';
import { shellHtml } from './shell.js';

/** HTTP statuses for the errors core throws on purpose, by code. */
const CORE_STATUS: Record<string, number> = {
  QUEUE_JOB_NOT_FOUND: 404,
  QUEUE_JOB_RUNNING: 409,
  QUEUE_JOB_STATE: 409,
  // cancelJob() on a job that already completed, was cancelled, or failed for good.
  QUEUE_JOB_FINISHED: 409,
  QUEUE_INVALID_OPTION: 400,
  QUEUE_CONFIG: 400,
  QUEUE_INVALID_SCHEDULE: 400,
  QUEUE_SCHEDULE_NOT_FOUND: 404,
  // A schedule that kept changing under resumeSchedule(); trying again works.
  QUEUE_SCHEDULE_CONTENDED: 409,
  // setLimits(): a bad limit, or a queue no task, job or worker names.
  QUEUE_INVALID_LIMIT: 400,
  QUEUE_UNKNOWN_QUEUE: 404,
};

/**
 * The framework-neutral dashboard: a table of routes and `handle()`, which every mount
 * (Express, Fastify, Nest, the standalone server) calls with a DashboardRequest.
 */
export class Dashboard {
  readonly options: ResolvedOptions;
  readonly routes: readonly Route[];
  private readonly csrf: Csrf;
  private readonly assets: Assets;

  constructor(options: DashboardOptions<any>) {
    this.options = resolveOptions(options);
    this.csrf = new Csrf(this.options.csrfSecret);
    this.assets = new Assets();
    this.routes = [...this.pageRoutes(), ...apiRoutes(this.options, this.csrf)];
  }

  async handle(req: DashboardRequest): Promise<DashboardResponse> {
    const method = req.method.toUpperCase() === 'HEAD' ? 'GET' : req.method.toUpperCase();
    try {
      // First, so that every URL under the mount, the bare one too, answers 401 to strangers.
      const access = await authenticate(req, this.options);
      // `/admin/queue` must become `/admin/queue/`, or the page's relative URLs would miss the mount.
      if (req.path === '/' && method === 'GET' && !req.originalPath.endsWith('/')) {
        const last = req.originalPath.split('/').filter(Boolean).at(-1) ?? '';
        const search = req.query.toString();
        return redirect(`${last ? encodeURIComponent(decodeSafe(last)) : '.'}/${search ? `?${search}` : ''}`);
      }
      const match = matchRoute(this.routes, method, req.path);
      if (!match) throw new NotFoundError(`no such page: ${req.path}`);
      if ('allowed' in match) {
        return json(405, error('DASHBOARD_METHOD', `use ${match.allowed.join(' or ')}`), {
          allow: match.allowed.join(', '),
        });
      }
      if (match.route.action) {
        this.csrf.verify(req);
        if (access === 'read-only') throw new ReadOnlyError();
      }
      return await match.route.handler({ req, params: match.params, access });
    } catch (e) {
      return this.failure(e);
    }
  }

  private failure(e: unknown): DashboardResponse {
    if (e instanceof DashboardError) {
      const extra: Record<string, string> =
        e.status === 401 && this.options.basicAuth ? { 'www-authenticate': BASIC_REALM } : {};
      return json(e.status, error(e.code, e.message), extra);
    }
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && CORE_STATUS[code]) {
      return json(CORE_STATUS[code], error(code, (e as Error).message));
    }
    // Anything else is a bug or an outage: log the details, show the browser only the gist.
    this.options.queue.logger.error(
      { err: e instanceof Error ? e.message : String(e) },
      'dashboard request failed',
    );
    const outage = isOutage(e);
    return json(
      outage ? 503 : 500,
      error(
        outage ? 'DASHBOARD_DATABASE' : 'DASHBOARD_INTERNAL',
        outage ? 'the database is unavailable' : 'internal error: see the server log',
      ),
    );
  }

  private pageRoutes(): Route[] {
    const metrics = this.options.metrics;
    return [
      // Behind the same authentication as every route (handle() checks it first).
      ...(metrics ? [metricsRoute(metrics)] : []),
      {
        method: 'GET',
        route: '/',
        handler: () => html(shellHtml(this.options.title, this.assets.version())),
      },
      {
        method: 'GET',
        route: '/assets/:file',
        handler: ({ req, params }) => {
          const file = this.assets.get(params.file!);
          if (!file) throw new NotFoundError('no such asset');
          if (header(req, 'if-none-match') === file.etag) return notModified(file.etag);
          return asset(file.type, file.body, file.etag);
        },
      },
    ];
  }
}

function metricsRoute(source: MetricsSource): Route {
  return {
    method: 'GET',
    route: '/metrics',
    handler: async () => {
      const { contentType, body } = await source.scrape();
      return {
        status: 200,
        headers: {
          'content-type': contentType,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
        body,
      };
    },
  };
}

/** Network errors that mean the database cannot be reached, or the connection to it broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The database is down or the session ended (a restart, a failover, pg_terminate_backend),
 * not a bug: SQLSTATE classes 08 (connection), 57P (operator intervention) and 53
 * (insufficient resources), network errors, and node-postgres' own errors, which have no code.
 */
function isOutage(e: unknown): boolean {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^(08|57P|53)/.test(code) || NETWORK_CODES.has(code))) return true;
  return (
    typeof message === 'string' &&
    /^Connection terminated|is not queryable|timeout exceeded when trying to connect/.test(message)
  );
}

function error(code: string, message: string) {
  return { error: { code, message } };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function createDashboard(options: DashboardOptions<any>): Dashboard {
  return new Dashboard(options);
}
