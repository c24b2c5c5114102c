import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConfigurableModuleBuilder,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { Dashboard } from '../dashboard.js';
import { DashboardConfigError } from '../errors.js';
import { handleNode, normalizeMount, pathBelow, pathnameOf } from '../node.js';
import type { DashboardOptions } from '../options.js';

/** The request the `auth` hook gets: Express's request on platform-express, Node's on platform-fastify. */
export type NestDashboardOptions = DashboardOptions<IncomingMessage & Record<string, any>>;

export interface QueueDashboardModuleOptions extends NestDashboardOptions {
  /** Where to serve the dashboard, e.g. 'admin/queue' (below the app's global prefix, if any). */
  path: string;
}

/** What a `useClass`/`useExisting` options provider implements. */
export interface QueueDashboardOptionsFactory {
  createDashboardOptions(): QueueDashboardModuleOptions | Promise<QueueDashboardModuleOptions>;
}

// Nest's own builder, as @queue/nest's QueueModule uses: forRoot() and forRootAsync() with
// useFactory/useClass/useExisting, inject and imports, as other Nest modules accept them.
const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: DASHBOARD_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<QueueDashboardModuleOptions>({ moduleName: 'QueueDashboard' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDashboardOptions')
  .build();

export type QueueDashboardModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;

const DASHBOARD = Symbol('QUEUE_DASHBOARD');

interface Mounted {
  path: string;
  dashboard: Dashboard;
}

function mount(options: QueueDashboardModuleOptions): Mounted {
  if (options === null || typeof options !== 'object') {
    throw new DashboardConfigError('QueueDashboardModule options must be an object');
  }
  const { path, ...rest } = options;
  return { path: checkPath(path), dashboard: new Dashboard(rest) };
}

/**
 * A Nest module serving the dashboard at `path`, as middleware on the raw request, so it
 * works on platform-express and platform-fastify alike:
 * `QueueDashboardModule.forRoot({ path: 'admin/queue', queue, auth: (req) => … })`, or
 * `forRootAsync({ imports, inject: [Queue], useFactory: (queue) => ({ path, queue, auth }) })`
 * (or `useClass`/`useExisting` with a QueueDashboardOptionsFactory). Bad options fail the
 * app's start with DashboardConfigError.
 */
export class QueueDashboardModule extends ConfigurableModuleClass implements NestModule {
  constructor(private readonly mounted: Mounted) {
    super();
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
Module({
  providers: [{ provide: DASHBOARD, useFactory: mount, inject: [DASHBOARD_MODULE_OPTIONS] }],
})(QueueDashboardModule);

export type { DashboardOptions };
export { Dashboard };
