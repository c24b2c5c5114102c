import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueAdmin } from '@queue/core';
import { Dashboard } from './dashboard.js';
import { DashboardConfigError } from './errors.js';
import { handleNode, normalizeMount, pathBelow, pathnameOf } from './node.js';
import type { DashboardOptions } from './options.js';

export type NodeDashboardOptions = DashboardOptions<IncomingMessage>;

/**
 * A plain `(req, res)` listener for `node:http` (or anything that speaks it), serving the
 * dashboard below `basePath` and answering 404 elsewhere.
 */
export function dashboardListener(
  options: NodeDashboardOptions & { basePath?: string },
): (req: IncomingMessage, res: import('node:http').ServerResponse) => void {
  const { basePath, ...rest } = options;
  const dashboard = new Dashboard(rest);
  const mount = normalizeMount(basePath);
  return (req, res) => {
    const pathname = pathnameOf(req.url);
    const relative = pathBelow(pathname, mount);
    if (relative === undefined) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('not found');
      return;
    }
    void handleNode(dashboard, req, res, relative, pathname);
  };
}

export interface StandaloneOptions extends Omit<NodeDashboardOptions, 'queue'> {
  /** A queue to show; or give `connectionString` and the server makes (and closes) its own. */
  queue?: QueueAdmin;
  connectionString?: string;
  /** Schema of the queue's tables when the server makes its own queue. Default 'queue'. */
  schema?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default '127.0.0.1': reachable from this machine only unless you say otherwise. */
  host?: string;
  /** Path the dashboard is served under. Default '/'. */
  basePath?: string;
}

export interface StandaloneServer {
  server: Server;
  /** e.g. http://127.0.0.1:3000/ */
  url: string;
  /** Stops accepting requests, ends idle connections, and closes the queue if the server made it. */
  close(): Promise<void>;
}

/** Runs the dashboard on its own HTTP server. */
export async function startDashboardServer(options: StandaloneOptions): Promise<StandaloneServer> {
  const { connectionString, schema, port = 3000, host = '127.0.0.1', basePath, ...rest } = options;
  if (!options.queue && !connectionString)
    throw new DashboardConfigError('give `queue` or `connectionString`');
  if (options.queue && connectionString)
    throw new DashboardConfigError('give `queue` or `connectionString`, not both');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DashboardConfigError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const queue =
    options.queue ?? new QueueAdmin({ connectionString: connectionString!, ...(schema ? { schema } : {}) });
  const owned = !options.queue;
  let listener: ReturnType<typeof dashboardListener>;
  try {
    listener = dashboardListener({ ...rest, queue, basePath });
  } catch (e) {
    if (owned) await queue.close();
    throw e;
  }
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}${normalizeMount(basePath)}/`;
  return {
    server,
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      if (owned) await queue.close();
    },
  };
}
