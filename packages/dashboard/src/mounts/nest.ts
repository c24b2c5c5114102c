import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type ModuleMetadata,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { Dashboard } from '../dashboard.js';
import { DashboardConfigError } from '../errors.js';
import { handleNode, normalizeMount, pathBelow, pathnameOf } from '../node.js';
import type { DashboardOptions } from '../options.js';

/** The request the `auth` hook gets: Express's request on platform-express, Node's on platform-fastify. */
export type NestDashboardOptions = DashboardOptions<IncomingMessage & Record<string, any>>;

export interface NestDashboardAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Where to serve the dashboard, e.g. 'admin/queue' (below the app's global prefix, if any). */
  path: string;
  inject?: any[];
  useFactory: (...args: any[]) => NestDashboardOptions | Promise<NestDashboardOptions>;
}

const DASHBOARD = Symbol('QUEUE_DASHBOARD');

interface Mounted {
  path: string;
  dashboard: Dashboard;
}

/**
 * A Nest module serving the dashboard at `path`, as middleware on the raw request, so it
 * works on platform-express and platform-fastify alike:
 * `QueueDashboardModule.forRoot({ path: 'admin/queue', queue, auth: (req) => … })`, or
 * `forRootAsync({ path, imports, inject: [Queue], useFactory: (queue) => ({ queue, auth }) })`.
 */
export class QueueDashboardModule implements NestModule {
  constructor(private readonly mounted: Mounted) {}

  static forRoot(options: NestDashboardOptions & { path: string }): DynamicModule {
    const { path, ...rest } = options;
    const mount = checkPath(path);
    return {
      module: QueueDashboardModule,
      providers: [
        { provide: DASHBOARD, useFactory: (): Mounted => ({ path: mount, dashboard: new Dashboard(rest) }) },
      ],
    };
  }

  static forRootAsync(options: NestDashboardAsyncOptions): DynamicModule {
    const mount = checkPath(options.path);
    return {
      module: QueueDashboardModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DASHBOARD,
          inject: options.inject ?? [],
          useFactory: async (...args: any[]): Promise<Mounted> => ({
            path: mount,
            dashboard: new Dashboard(await options.useFactory(...args)),
          }),
        },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    const { path, dashboard } = this.mounted;
    const middleware = (
      req: IncomingMessage & { originalUrl?: string },
      res: ServerResponse,
      next: () => void,
    ) => {
      // Express rewrites req.url inside a mounted middleware; originalUrl keeps what the client sent.
      const pathname = pathnameOf(req.originalUrl ?? req.url);
      const relative = pathBelow(pathname, path, true);
      if (relative === undefined) return next();
      void handleNode(dashboard, req, res, relative, pathname, req);
    };
    const route = path.slice(1);
    consumer
      .apply(middleware)
      .forRoutes(
        { path: route, method: RequestMethod.ALL },
        { path: `${route}/{*rest}`, method: RequestMethod.ALL },
      );
  }
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '' || /[*{}():?]/.test(path)) {
    throw new DashboardConfigError(
      `path must be a plain path such as 'admin/queue', got ${JSON.stringify(path)}`,
    );
  }
  const mount = normalizeMount(path);
  if (mount === '')
    throw new DashboardConfigError("path must not be the root: give a path such as 'admin/queue'");
  return mount;
}

// Applied as functions rather than decorator syntax, so the build needs no decorator support.
Inject(DASHBOARD)(QueueDashboardModule, undefined as unknown as string, 0);
Module({})(QueueDashboardModule);

export type { DashboardOptions };
export { Dashboard };
