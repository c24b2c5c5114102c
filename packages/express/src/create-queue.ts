import type { Server, ServerResponse } from 'node:http';
import {
  type AdapterOptions,
  ConfigError,
  checkMetricsMount,
  type MetricsHandler,
  type MetricsMount,
  onShutdownSignal,
  Queue,
  QueueClosedError,
  resolveAdapterOptions,
  type TaskMap,
  type Worker,
} from '@queue/core';
import type { Application } from 'express';
import { AlreadyAttachedError } from './errors.js';
import { assertNoRoutesYet, guardRequests, setOnRequest } from './request-guards.js';

/**
 * The options every adapter takes (`worker`, `migrate`, `handleSignals`, and `queue` or
 * core's `QueueOptions`), plus `onClose`.
 */
export type ExpressQueueOptions<M extends TaskMap = TaskMap> = AdapterOptions<M> & {
  /** Runs once, after the server has closed and the queue has stopped: end your own pool here. */
  onClose?: () => unknown;
  /**
   * A Prometheus scrape of this queue and worker, served at its path (GET /metrics) behind its
   * own `auth`/`basicAuth`/`unsafeNoAuth`: `metrics: metricsEndpoint({ basicAuth })` from
   * @queue/metrics.
   */
  metrics?: MetricsMount;
};

const WHERE = 'createQueue(app, options)';
const claimedApps = new WeakSet<object>();

/**
 * Creates the app's queue: sets `req.queue` on every request that passes the middleware it
 * adds, migrates and starts the worker when the app's server is listening, and stops both
 * when it closes. Call it right after `express()`, before registering routes: with routes
 * already on the app it throws `QueueAfterRoutesError`. On the app's requests, reading
 * `req.tx` where no `transaction()` set it throws `NoTransactionError`.
 */
export function createQueue<M extends TaskMap>(
  app: Application,
  options: ExpressQueueOptions<M>,
): ExpressQueue<M> {
  return new ExpressQueue(app, options);
}

export class ExpressQueue<M extends TaskMap = TaskMap> {
  readonly queue: Queue<M>;
  /** The worker this process runs; null with `worker: false`. */
  readonly worker: Worker | null;
  private attachedTo: Server | undefined;
  /** Resolves on the attached server's 'close', once it has listened. */
  private serverClosed: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<ServerResponse>();
  private starting: Promise<void> | undefined;
  private stoppingServer: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly started: Promise<void>;
  private markStarted!: (error?: unknown) => void;
  /** False for a Queue the app passed in: it stays the app's to close. */
  private readonly ownsQueue: boolean;
  private readonly migrate: boolean;
  private readonly handleSignals: boolean;
  private readonly onClose: (() => unknown) | undefined;
  private readonly leaveShutdown: (() => void)[] = [];
  private readonly metrics: MetricsHandler | undefined;

  constructor(app: Application, options: ExpressQueueOptions<M>) {
    if (typeof app !== 'function' || typeof app.use !== 'function' || typeof app.listen !== 'function') {
      throw new ConfigError(`${WHERE}: the first argument must be an Express app`);
    }
    if (options === null || typeof options !== 'object') {
      throw new ConfigError(`${WHERE}: options must be an object`);
    }
    if (claimedApps.has(app)) {
      throw new AlreadyAttachedError('this Express app already has a queue: call createQueue once per app');
    }
    // At startup rather than as a TypeError on the first request that reads req.queue.
    assertNoRoutesYet(app);
    const { onClose, metrics, ...rest } = options;
    if (onClose !== undefined && typeof onClose !== 'function') {
      throw new ConfigError(`${WHERE}: onClose must be a function`);
    }
    const metricsMount = checkMetricsMount(metrics, WHERE);
    const setup = resolveAdapterOptions(rest, WHERE);
    this.ownsQueue = setup.queue === undefined;
    this.queue = (setup.queue ?? new Queue(setup.queueOptions)) as Queue<M>;
    try {
      // With handleSignals, core's worker joins the process's shutdown in the worker phase,
      // where a second signal aborts its running jobs; the server and the queue join below.
      this.worker =
        setup.worker === false
          ? null
          : this.queue.worker({ ...setup.worker, handleSignals: setup.handleSignals });
      this.metrics = metricsMount?.attach(this.queue, this.worker);
    } catch (error) {
      if (this.ownsQueue) void this.queue.close();
      throw error;
    }
    this.migrate = setup.migrate;
    this.handleSignals = setup.handleSignals;
    this.onClose = onClose;
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.started.catch(() => {}); // reported by the log and by ready(); never unhandled
    claimedApps.add(app);

    // Reading req.queue before this middleware, or req.tx off a transaction() route, throws.
    guardRequests(app);
    app.use((req, _res, next) => {
      setOnRequest(req, 'queue', this.queue);
      next();
    });
    const scrape = this.metrics;
    if (scrape && metricsMount) {
      app.get(metricsMount.path, (req, res, next) => {
        scrape.handle({ headers: req.headers, raw: req }).then((r) => {
          // end(), not send(): Express 4's send() rewrites the content type Prometheus reads.
          res
            .status(r.status)
            .set(r.headers)
            .end(req.method === 'HEAD' ? undefined : r.body);
        }, next);
      });
    }
    // app.listen creates its server internally; wrapping it on this app only is what lets
    // the worker follow that server without the app passing it back to us.
    const listen = app.listen;
    const self = this;
    app.listen = function (this: Application, ...args: unknown[]) {
      if (self.closing) throw new QueueClosedError('app.listen()');
      const server = (listen as (...a: unknown[]) => Server).apply(this, args);
      self.attach(server);
      return server;
    } as Application['listen'];
  }

  /** The server the worker follows, once `app.listen` or `attach` gave one. */
  get server(): Server | undefined {
    return this.attachedTo;
  }

  /**
   * Ties the worker to a server you created yourself (`http.createServer(app)`, https):
   * it starts once the server listens and stops when it closes. `app.listen` does this for you.
   */
  attach(server: Server): this {
    if (this.attachedTo === server) return this;
    if (this.attachedTo) {
      throw new AlreadyAttachedError('this queue already follows a server; it can follow only one');
    }
    if (this.closing) throw new QueueClosedError('attach()');
    if (!server || typeof server.once !== 'function' || typeof server.close !== 'function') {
      throw new ConfigError('attach(server): expected a node:http (or https) Server');
    }
    this.attachedTo = server;
    const listening = () => {
      this.serverClosed = new Promise((resolve) => server.once('close', () => resolve()));
      this.start();
    };
    if (server.listening) listening();
    else server.once('listening', listening);
    server.once('close', () => void this.close().catch(() => {}));
    // Keep-alive clients hold server.close() open until they time out; responses sent during
    // shutdown say Connection: close so that each connection ends with its last answer.
    server.prependListener('request', (_req, res: ServerResponse) => {
      if (this.stoppingServer) res.setHeader('Connection', 'close');
      this.inflight.add(res);
      res.once('close', () => this.inflight.delete(res));
    });
    if (this.handleSignals) this.joinShutdown(server);
    return this;
  }

  /**
   * Resolves once the server listens, the tables are migrated (with `migrate: true`) and the
   * worker runs; rejects if they could not be.
   */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Closes the server (open requests finish first), stops the worker (running jobs finish
   * first, up to its shutdownTimeout), closes the queue (unless you passed it in), then runs
   * `onClose`. Closing the server yourself does the same; both wait on one shutdown, so call
   * either, or both.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private start(): void {
    if (this.closing || this.starting) return;
    this.starting = this.boot();
    this.starting.then(
      () => this.markStarted(),
      (error: Error) => {
        this.markStarted(error);
        if (this.closing) return; // close() ended the boot: nothing failed
        // Serving requests whose jobs never run would fail silently: shut down instead.
        this.queue.logger.error({ err: error?.message }, 'the queue could not start; closing the server');
        void this.close().catch(() => {});
      },
    );
  }

  private async boot(): Promise<void> {
    if (this.migrate) await this.queue.migrate();
    if (this.closing) return;
    // Refuses a schema nobody migrated (SchemaNotMigratedError), naming what to run.
    await this.worker?.start();
  }

  /** Stops taking connections and resolves once open requests have finished. */
  private stopServer(): Promise<void> {
    this.stoppingServer ??= (async () => {
      const server = this.attachedTo;
      if (server?.listening) server.close();
      server?.closeIdleConnections?.();
      for (const res of this.inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
      await this.serverClosed;
    })();
    return this.stoppingServer;
  }

  private async shutdown(): Promise<void> {
    const serverStopped = this.stopServer();
    this.markStarted(new QueueClosedError('ready()')); // a no-op once it has started
    try {
      // stop() also ends a start() still waiting for Postgres; HTTP drains meanwhile.
      await Promise.all([serverStopped, this.worker?.stop()]);
      // Only now: requests still open above may have been enqueueing through the pool.
      if (this.ownsQueue) await this.queue.close();
      await this.onClose?.();
    } catch (error) {
      this.queue.logger.error({ err: (error as Error)?.message }, 'closing the queue failed');
      throw error;
    } finally {
      this.metrics?.close();
      for (const leave of this.leaveShutdown.splice(0)) leave();
    }
  }

  /**
   * The server's and the queue's parts in core's shutdown on SIGTERM/SIGINT: the server stops
   * taking requests first (then, once closed, starts close()), the worker finishes its running
   * jobs in the worker phase, and the queue closes and `onClose` runs in the queue phase. A
   * second signal drops the connections still open, and core's worker aborts its jobs.
   */
  private joinShutdown(server: Server): void {
    this.leaveShutdown.push(
      onShutdownSignal({
        name: '@queue/express server',
        phase: 'server',
        stop: async (signal) => {
          this.queue.logger.info({ signal }, 'closing the server on signal');
          await this.stopServer();
        },
        hurry: () => server.closeAllConnections?.(),
      }),
      onShutdownSignal({ name: '@queue/express queue', phase: 'queue', stop: () => this.close() }),
    );
  }
}
