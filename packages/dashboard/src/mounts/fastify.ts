import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Dashboard } from '../dashboard.js';
import { DashboardError } from '../errors.js';
import { type DashboardResponse, json } from '../http.js';
import { pathBelow, pathnameOf } from '../node.js';
import type { DashboardOptions } from '../options.js';

export type FastifyDashboardOptions = DashboardOptions<FastifyRequest>;

const plugin: FastifyPluginAsync<FastifyDashboardOptions> = async (instance, options) => {
  // Fastify hands plugins their options merged with `prefix` and friends; keep ours only.
  const {
    prefix: _prefix,
    logLevel: _logLevel,
    ...rest
  } = options as FastifyDashboardOptions & Record<string, unknown>;
  const dashboard = new Dashboard(rest as FastifyDashboardOptions);
  const mount = instance.prefix;

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = pathnameOf(request.url);
    const relative = pathBelow(pathname, mount) ?? '/';
    let response: DashboardResponse;
    try {
      response = await dashboard.handle({
        method: request.method,
        path: relative,
        originalPath: pathname,
        query: new URL(request.url, 'http://dashboard.invalid').searchParams,
        headers: request.headers,
        body: request.body ?? undefined,
        raw: request,
      });
    } catch (e) {
      if (!(e instanceof DashboardError)) throw e;
      response = json(e.status, { error: { code: e.code, message: e.message } });
    }
    reply.code(response.status).headers(response.headers);
    return reply.send(typeof response.body === 'string' ? response.body : Buffer.from(response.body));
  };

  // `/` and `/*` under the prefix cover the dashboard's page, assets and API.
  const methods = ['GET', 'HEAD', 'POST', 'DELETE'] as const;
  instance.route({ method: [...methods], url: '/', handler, exposeHeadRoute: false });
  instance.route({ method: [...methods], url: '/*', handler, exposeHeadRoute: false });
};

/**
 * A Fastify plugin serving the dashboard under the prefix you register it with:
 * `await app.register(queueDashboard, { prefix: '/admin/queue', queue, auth: (request) => … })`.
 * It stays encapsulated (its routes live under the prefix only).
 */
export const queueDashboard = fp(plugin, { name: '@queue/dashboard', fastify: '5.x', encapsulate: true });

export default queueDashboard;
export type { DashboardOptions };
export { Dashboard };
