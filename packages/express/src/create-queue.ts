import type { Server, ServerResponse } from 'node:http';
import {
  ConfigError,
  Queue,
  type QueueOptions,
  type TaskMap,
  type Worker,
  type WorkerOptions,
} from '@queue/core';
import type { Application } from 'express';
import { AlreadyAttachedError, QueueClosedError } from './errors.js';

export interface ExpressQueueOptions<M extends TaskMap = TaskMap> extends QueueOptions<M> {
  /**
   * The worker this process runs while its server listens. `false` for a web process that
   * only enqueues, when separate worker processes run the jobs. Default: core's defaults.
   */
  worker?: Omit<WorkerOptions, 'handleSignals'> | false;
  /**
   * On SIGTERM/SIGINT, close the server and the queue gracefully, then re-send the signal
   * so the process ends as it would have (unless the app listens for it too). A second
   * signal aborts running jobs and drops open connections. Default true.
   */
  handleSignals?: boolean;
  /** Runs once, after the server has closed and the queue has stopped: end your own pool here. */
  onClose?: () => unknown;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const claimedApps = new WeakSet<object>();

/**
 * Creates the app's queue: sets `req.queue` on every request that passes the middleware it
 * adds, starts the worker when the app's server is listening, and stops both when it closes.
 * Call it right after `express()`, before registering routes.
 */
export function createQueue<M extends TaskMap>(
  app: Application,
  options: ExpressQueueOptions<M>,
): ExpressQueue<M> {
  return new ExpressQueue(app, options);
}

export class ExpressQueue<M extends TaskMap = TaskMap> {
  readonly queue: Queue<M>;
  /** Undefined with `worker: false`. */
  readonly worker: Worker | undefined;
  private attachedTo: Server | undefined;
  /** Resolves on the attached server's 'close', once it has listened. */
  private serverClosed: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<ServerResponse>();
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private signalled = false;
  private readonly started: Promise<void>;
  private markStarted!: (error?: unknown) => void;
  private readonly handleSignals: boolean;
  private readonly onClose: (() => unknown) | undefined;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  constructor(app: Application, options: ExpressQueueOptions<M>) {
    if (typeof app !== 'function' || typeof app.use !== 'function' || typeof app.listen !== 'function') {
      throw new ConfigError('createQueue(app, options): the first argument must be an Express app');
    }
    if (options === null || typeof options !== 'object') {
      throw new ConfigError('createQueue(app, options): options must be an object');
    }
    if (claimedApps.has(app)) {
      throw new AlreadyAttachedError('this Express app already has a queue: call createQueue once per app');
    }
    const { worker, handleSignals = true, onClose, ...queueOptions } = options;
    if (onClose !== undefined && typeof onClose !== 'function') {
      throw new ConfigError('createQueue(app, options): onClose must be a function');
    }
    this.queue = new Queue(queueOptions);
    // Core's own signal handling stops the worker and lets a second signal abort its jobs;
    // ours (below) closes the server around it, and they agree on re-sending the signal.
    this.worker = worker === false ? undefined : this.queue.worker({ ...worker, handleSignals });
    this.handleSignals = handleSignals;
    this.onClose = onClose;
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.started.catch(() => {}); // reported by the log and by ready(); never unhandled
    claimedApps.add(app);

    // An own property on the request, so it survives Express swapping the request's
    // prototype when the request enters a mounted sub-app.
    app.use((req, _res, next) => {
      req.queue = this.queue as unknown as Express.Request['queue'];
      next();
    });
    // app.listen creates its server internally; wrapping it on this app only is what lets
    // the worker follow that server without the app passing it back to us.
    const listen = app.listen;
    const self = this;
    app.listen = function (this: Application, ...args: unknown[]) {
      if (self.closing) throw new QueueClosedError();
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
    if (this.closing) throw new QueueClosedError();
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
      if (this.closing) res.setHeader('Connection', 'close');
      this.inflight.add(res);
      res.once('close', () => this.inflight.delete(res));
    });
    if (this.handleSignals) this.installSignalHandlers();
    return this;
  }

  /** Resolves once the server listens and the worker runs; rejects if the worker could not start. */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Closes the server (open requests finish first), stops the worker (running jobs finish
   * first, up to its shutdownTimeout), closes the queue, then runs `onClose`. Closing the
   * server yourself does the same; both wait on one shutdown, so call either, or both.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private start(): void {
    if (this.closing || this.starting) return;
    this.starting = Promise.resolve(this.worker?.start());
    this.starting.then(
      () => this.markStarted(),
      (error: Error) => {
        // Serving requests whose jobs never run would fail silently: shut down instead.
        this.queue.logger.error(
          { err: error?.message },
          'the queue worker could not start; closing the server',
        );
        this.markStarted(error);
        void this.close().catch(() => {});
      },
    );
  }

  private async shutdown(): Promise<void> {
    const server = this.attachedTo;
    if (server?.listening) server.close();
    server?.closeIdleConnections?.();
    for (const res of this.inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.markStarted(new QueueClosedError()); // a no-op once it has started
    try {
      // stop() also ends a start() still waiting for Postgres; HTTP drains meanwhile.
      await Promise.all([this.serverClosed, this.worker?.stop()]);
      // Only now: requests still open above may have been enqueueing through the pool.
      await this.queue.close();
      await this.onClose?.();
    } catch (error) {
      this.queue.logger.error({ err: (error as Error)?.message }, 'closing the queue failed');
      throw error;
    } finally {
      for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
      this.signalHandlers.clear();
    }
  }

  private installSignalHandlers(): void {
    for (const signal of SIGNALS) {
      const handler = () => {
        if (this.signalled) {
          // A second signal: stop waiting for slow clients (core aborts the running jobs).
          this.attachedTo?.closeAllConnections?.();
          return;
        }
        this.signalled = true;
        this.queue.logger.info({ signal }, 'closing the server and the queue');
        void this.close()
          .catch(() => {})
          .then(() => {
            // Let the signal do what it would have done had nobody listened, unless the app listens too.
            if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
          });
      };
      this.signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
  }
}
