import type { Application } from 'express';
import { NoTransactionError, QueueAfterRoutesError } from './errors.js';

/**
 * Sets `req.queue` or `req.tx` on one request, as its own property: it shadows the guard on
 * the prototype, and survives Express swapping the request's prototype when the request enters
 * a mounted sub-app. Defining it costs what assigning it does (about 1.5 µs either way on an
 * IncomingMessage here, within the noise of 8 runs of 20,000).
 */
export function setOnRequest(req: object, name: 'queue' | 'tx', value: unknown): void {
  Object.defineProperty(req, name, { value, writable: true, configurable: true, enumerable: true });
}

function guard(name: 'queue' | 'tx', error: () => Error): PropertyDescriptor {
  return {
    configurable: true,
    // Not enumerable: serializers and loggers that walk a request never call it.
    enumerable: false,
    get() {
      throw error();
    },
    // Assigning still works (another library's own req.tx, a stub): the value shadows the guard.
    set(this: object, value: unknown) {
      setOnRequest(this, name, value);
    },
  };
}

/**
 * Makes reading `req.queue` or `req.tx` throw a named error, instead of giving `undefined`,
 * on a request of this app that createQueue's middleware or `transaction()` has not set it on.
 * On the app's request prototype, so it costs nothing per request; a sub-app mounted in this
 * app gets it too, since Express chains the sub-app's request prototype to this one on mount.
 */
export function guardRequests(app: Application): void {
  // Every app has it (typed on `Express`, not on the `Application` createQueue accepts).
  Object.defineProperties((app as Application & { request: object }).request, {
    queue: guard(
      'queue',
      () =>
        new QueueAfterRoutesError(
          "this request reached a handler that reads req.queue before createQueue's middleware",
        ),
    ),
    tx: guard('tx', () => new NoTransactionError()),
  });
}

interface Layer {
  name?: string;
  route?: { path?: unknown; methods?: Record<string, boolean> };
  handle?: { stack?: unknown };
}

/**
 * Throws `QueueAfterRoutesError` if the app already has routes, directly or in a router mounted
 * on it: Express runs them before the middleware createQueue adds, so they would see no
 * `req.queue`. Middleware without routes (`express.json()`, `cors()`, static files) may come
 * first. Routes in a mounted sub-app cannot be seen from here; the `req.queue` guard names
 * them at their first request instead.
 */
export function assertNoRoutesYet(app: Application): void {
  const found: string[] = [];
  collectRoutes(routerOf(app)?.stack, found, new Set());
  if (found.length === 0) return;
  const shown = found.slice(0, 3).join(', ') + (found.length > 3 ? `, and ${found.length - 3} more` : '');
  throw new QueueAfterRoutesError(`routes registered before it: ${shown}`);
}

/** Express 5's `app.router`, or Express 4's `app._router` (undefined until the first `app.use`). */
function routerOf(app: Application): { stack?: unknown } | undefined {
  const legacy = (app as { _router?: { stack?: unknown } })._router;
  if (legacy) return legacy;
  try {
    return (app as { router?: { stack?: unknown } }).router;
  } catch {
    return undefined; // Express 4's app.router is a getter that throws ("deprecated")
  }
}

function collectRoutes(stack: unknown, found: string[], seen: Set<unknown>): void {
  if (!Array.isArray(stack) || seen.has(stack)) return;
  seen.add(stack);
  for (const layer of stack as Layer[]) {
    if (layer?.route) found.push(describe(layer.route));
    else collectRoutes(layer?.handle?.stack, found, seen);
  }
}

function describe(route: NonNullable<Layer['route']>): string {
  const methods = Object.keys(route.methods ?? {})
    .filter((m) => route.methods?.[m])
    .map((m) => (m === '_all' ? 'ALL' : m.toUpperCase()));
  return `${methods.join('/') || 'ALL'} ${String(route.path)}`;
}
