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
  /** (Re)connected and listening: anything enqueued while we were away must be looked for. */
  onListening(): void;
}

/**
 * Holds one LISTEN connection. When it drops it reconnects with backoff and, once
 * listening again, reports it so the worker polls for what it missed.
 */
export class Listener {
  private session: SessionConnection | undefined;
  private stopping = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly names: Names,
    private readonly events: ListenerEvents,
    private readonly logger: Logger,
    private readonly timing: { heartbeatInterval: number; queryTimeout: number },
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

  private async connect(): Promise<void> {
    let session: SessionConnection | undefined;
    session = await SessionConnection.open(
      this.config,
      'queue-listener',
      async (client) => {
        client.on('notification', (msg) => {
          if (msg.channel !== this.names.channel || !msg.payload) return;
          const wake = parseWake(msg.payload);
          if (wake) this.events.onWake(wake);
        });
        await client.query(`LISTEN ${this.names.channelIdent}`);
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

function parseWake(payload: string): Wake | undefined {
  try {
    const v = JSON.parse(payload) as { q?: unknown; d?: unknown };
    if (typeof v.q !== 'string') return undefined;
    return { queue: v.q, delayMs: typeof v.d === 'number' && v.d > 0 ? v.d : 0 };
  } catch {
    return undefined;
  }
}
