import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres that can go silent: `freeze()` stops forwarding on every
 * open connection without closing anything, which is what a half-open connection looks like
 * from both ends. New connections are forwarded normally (the network "came back").
 */
export class FreezingProxy {
  private server: Server | undefined;
  private pairs: { client: Socket; upstream: Socket; frozen: boolean }[] = [];
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      const pair = { client, upstream, frozen: false };
      this.pairs.push(pair);
      client.on('data', (d) => !pair.frozen && upstream.write(d));
      upstream.on('data', (d) => !pair.frozen && client.write(d));
      // A frozen link carries nothing, not even the close: the server must not learn that the
      // client went away (that is what makes the connection half-open).
      client.on('close', () => {
        if (!pair.frozen) upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.on('error', () => {});
      upstream.on('error', () => {});
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  /** Every connection open now stops forwarding in both directions; sockets stay open. */
  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  /** The server side of the frozen connections goes away (as Postgres' keepalive would end them). */
  dropFrozenUpstreams(): void {
    for (const p of this.pairs) if (p.frozen) p.upstream.destroy();
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The given connection string, pointed at this proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }
}
