import type pg from 'pg';
import { type ConnectionConfig, reconnectDelay, sleep, timedQuery } from './connection.js';
import type { Logger } from './logger.js';
import { SessionConnection } from './session.js';
import type { Names } from './sql/names.js';

export interface Wake {
  queue: string;
  /** Milliseconds until the job is due, by the database clock at enqueue. */
  delayMs: number;
}

export interface ListenerEvents {
  onWake(wake: Wake): void;
  /** cancelJob() asked the worker that runs job `jobId` to abort it. */
  onCancel?(jobId: string): void;
  /** (Re)connected and listening: anything enqueued while we were away must be looked for. */
  onListening(): void;
}

/** One notification channel: its name as Postgres reports it, and as a quoted identifier. */
export interface Channel {
  name: string;
  ident: string;
}

export interface ChannelEvents {
  onPayload(payload: string): void;
  /** (Re)connected and listening: whatever was notified while we were away was missed. */
  onListening(): void;
}

export interface ListenTiming {
  heartbeatInterval: number;
  queryTimeout: number;
}

/**
 * Holds one LISTEN connection on one channel. When it drops it reconnects with backoff and,
 * once listening again, reports it so the owner looks for what it missed.
 */
export class ChannelListener {
  private session: SessionConnection | undefined;
  private stopping = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly channel: Channel,
    private readonly events: ChannelEvents,
    private readonly logger: Logger,
    private readonly timing: ListenTiming,
    private readonly applicationName = 'queue-listener',
  ) {}

  /** Resolves once the first LISTEN is in place (or rejects if the first connect fails). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.connect();
    this.running = Promise.resolve();
  }

  /** Ends the connection and any pending reconnect. Safe twice, and before start(). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.heartbeat);
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /** The LISTEN session's backend pid (for diagnostics and fault tests). */
  get backendPid(): number | undefined {
    return this.session?.backendPid;
  }

  /**
   * A statement on the listening session, bounded by `queryTimeout` like the heartbeat: for
   * the owner's look-up right after it listens again, when the session is known to be fresh.
   * Rejects when the session is gone (its reconnect will report onListening again).
   */
  query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const session = this.session;
    if (!session?.live) return Promise.reject(new Error('the listener connection is not open'));
    return timedQuery(session.client, { text, values }, this.timing.queryTimeout);
  }

  private async connect(): Promise<void> {
    let session: SessionConnection | undefined;
    session = await SessionConnection.open(
      this.config,
      this.applicationName,
      async (client) => {
        client.on('notification', (msg) => {
          if (msg.channel !== this.channel.name || !msg.payload) return;
          this.events.onPayload(msg.payload);
        });
        await client.query(`LISTEN ${this.channel.ident}`);
      },
      (error) => {
        if (this.session === session) this.session = undefined;
        if (this.stopping.signal.aborted) return;
        this.logger.warn({ err: error.message }, 'listener connection lost; reconnecting');
        void this.reconnect();
      },
    );
    if (this.stopping.signal.aborted) {
      await session.close();
      return;
    }
    this.session = session;
    this.failures = 0;
    // An idle LISTEN connection sends nothing, so a half-open one would wait forever: ask
    // something now and then, and drop the connection if no answer comes in time.
    clearInterval(this.heartbeat);
    let beating = false;
    const { client } = session;
    this.heartbeat = setInterval(() => {
      // One heartbeat at a time: while one waits for its answer, its own timeout decides.
      if (this.session !== session || beating) return;
      beating = true;
      timedQuery(client, { text: 'SELECT 1' }, this.timing.queryTimeout)
        .catch(() => {})
        .finally(() => {
          beating = false;
        });
    }, this.timing.heartbeatInterval);
    this.heartbeat.unref();
    this.events.onListening();
  }

  private async reconnect(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await sleep(reconnectDelay(this.failures++), this.stopping.signal);
      if (this.stopping.signal.aborted) return;
      try {
        await this.connect();
        this.logger.info({}, 'listener reconnected');
        return;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'listener reconnect failed');
      }
    }
  }
}

/**
 * The worker's listener on the jobs channel: wake-ups from enqueues and resumes, and cancel
 * requests for running jobs (cancelJob()), which share the channel because every worker
 * listens there already.
 */
export class Listener extends ChannelListener {
  constructor(
    config: ConnectionConfig,
    names: Names,
    events: ListenerEvents,
    logger: Logger,
    timing: ListenTiming,
  ) {
    super(
      config,
      { name: names.channel, ident: names.channelIdent },
      { onPayload: (payload) => dispatch(payload, events), onListening: () => events.onListening() },
      logger,
      timing,
    );
  }
}

/** `{"q":queue,"d":delayMs}` is a wake-up; `{"c":"<job id>"}` a cancel request. */
function dispatch(payload: string, events: ListenerEvents): void {
  let v: { q?: unknown; d?: unknown; c?: unknown };
  try {
    v = JSON.parse(payload);
  } catch {
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (typeof v.c === 'string') {
    events.onCancel?.(v.c);
    return;
  }
  if (typeof v.q !== 'string') return;
  events.onWake({ queue: v.q, delayMs: typeof v.d === 'number' && v.d > 0 ? v.d : 0 });
}
