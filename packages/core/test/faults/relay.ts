import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * One direction of a relayed connection: every chunk (and the end of the stream) leaves
 * `delayMs` after it arrived, in the order it arrived, as on a long link. Bandwidth is not
 * limited: only the delay is modelled.
 */
class DelayLine {
  private readonly queue: { due: number; chunk: Buffer | null }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Socket,
    private readonly delayMs: number,
  ) {}

  /** A chunk to pass on, or null for the end of the stream. */
  push(chunk: Buffer | null): void {
    if (this.delayMs === 0) {
      this.send(chunk);
      return;
    }
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    if (!this.timer) this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private arm(): void {
    const head = this.queue[0];
    if (!head) return;
    // Rounded up, and re-armed below if it fires early: a chunk never leaves before it is due.
    this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(head.due - performance.now())));
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.due <= now) this.send(this.queue.shift()!.chunk);
    this.arm();
  }

  private send(chunk: Buffer | null): void {
    if (this.out.destroyed) return;
    if (chunk === null) this.out.end();
    else this.out.write(chunk);
  }
}

/**
 * A TCP relay that adds latency: it listens on `listenHost` (this machine's end of a test
 * link) and forwards each connection to the target, delaying each direction by `oneWayMs`.
 * The round trip through it is therefore 2 x oneWayMs longer. With 0 it forwards at once:
 * a way onto the link for a Postgres that listens on 127.0.0.1 only.
 */
export class LatencyRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly lines = new Set<DelayLine>();
  port = 0;
  /** Connections relayed so far. */
  connections = 0;

  constructor(
    private readonly listenHost: string,
    private readonly target: { host: string; port: number },
    private readonly oneWayMs: number,
  ) {}

  async start(): Promise<void> {
    // Half-open allowed: each end of the stream travels down its delay line like the data.
    this.server = createServer({ allowHalfOpen: true }, (client) => {
      this.connections++;
      const upstream = connect({ port: this.target.port, host: this.target.host, allowHalfOpen: true });
      const toUpstream = new DelayLine(upstream, this.oneWayMs);
      const toClient = new DelayLine(client, this.oneWayMs);
      const pair: [Socket, Socket][] = [
        [client, upstream],
        [upstream, client],
      ];
      for (const [s, other] of pair) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', (hadError) => {
          this.sockets.delete(s);
          // A reset is passed on at once: nothing more will get through either way.
          if (hadError) other.destroy();
        });
      }
      for (const l of [toUpstream, toClient]) this.lines.add(l);
      client.on('data', (d: Buffer) => toUpstream.push(d));
      client.on('end', () => toUpstream.push(null));
      upstream.on('data', (d: Buffer) => toClient.push(d));
      upstream.on('end', () => toClient.push(null));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, this.listenHost, () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const l of this.lines) l.stop();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The given connection string, pointed at this relay. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = this.listenHost;
    u.port = String(this.port);
    return u.toString();
  }
}
