import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  optedOut,
  PGBOUNCER,
  requirePrerequisite,
  titleWithOptOut,
  useTestDatabase,
  waitFor,
} from '@queue/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, SessionNotPinnedError, silentLogger } from '../../src/index.js';
import { recordFigure } from './figures.js';

const db = useTestDatabase();

/**
 * A real PgBouncer in transaction mode with one server connection, so that every client
 * shares one Postgres session: the setup under which session advisory locks stop meaning
 * "this worker owns this job". The test command installs Debian's pgbouncer when it can;
 * without it this scenario fails with the fix, unless QUEUE_TEST_SKIP_PGBOUNCER=1.
 */
const title = titleWithOptOut('fault 18: a worker behind a transaction-mode pooler', PGBOUNCER);
describe.skipIf(optedOut(PGBOUNCER))(title, () => {
  let dir: string;
  let bouncer: ChildProcess;
  let port: number;

  beforeAll(async () => {
    const pgbouncer = requirePrerequisite(PGBOUNCER);
    dir = mkdtempSync(join(tmpdir(), 'queue-pgbouncer-'));
    chmodSync(dir, 0o777);
    // A CI run once saw PgBouncer never listen (20 s) with no word why: its output went
    // nowhere and the port was a random guess. Now the OS picks a free port, PgBouncer's own
    // log is part of the error, an early exit is noticed at once, and a lost port race is
    // retried on a new port.
    const failures: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      port = await freePort();
      const started = await startBouncer(pgbouncer, dir, port);
      if (started.ok) {
        bouncer = started.child;
        return;
      }
      failures.push(`attempt ${attempt} (port ${port}): ${started.why}`);
    }
    throw new Error(`PgBouncer did not start:\n${failures.join('\n')}`);
  }, 90_000);

  afterAll(async () => {
    if (bouncer && bouncer.exitCode === null && bouncer.signalCode === null) {
      const exited = new Promise((r) => bouncer.once('exit', r));
      bouncer.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to claim with a clear error instead of sharing locks', async () => {
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const tasks = { t: async () => {} };
    const a = new Queue({ connectionString: url.toString(), logger: silentLogger, tasks });
    const b = new Queue({ connectionString: url.toString(), logger: silentLogger, tasks });
    const workerA = a.worker({ pollInterval: 100 });
    const workerB = b.worker({ pollInterval: 100 });
    // Enqueueing through a transaction pooler is fine.
    await a.enqueue('t', null);
    const results = await Promise.allSettled([workerA.start(), workerB.start()]);
    const refused = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    // Whoever came second found the session shared; the first one finds out at its next check.
    const errors: unknown[] = [...refused];
    if (refused.length < 2) {
      const started = results[0]!.status === 'fulfilled' ? workerA : workerB;
      errors.push(await new Promise((resolve) => started.on('error', resolve)));
    }
    recordFigure({
      scenario: 18,
      name: 'transaction-mode pooler',
      figure: `refused at start: ${refused.length}/2; every worker refused: ${errors.every((e) => e instanceof SessionNotPinnedError)}`,
      pass: errors.length === 2 && errors.every((e) => e instanceof SessionNotPinnedError),
    });
    expect(errors.every((e) => e instanceof SessionNotPinnedError)).toBe(true);
    expect(String((errors[0] as Error).message)).toMatch(/transaction mode/);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);
});

type Started = { ok: true; child: ChildProcess } | { ok: false; why: string };

/** Starts PgBouncer in front of the test database on `port`; says why when it does not listen. */
async function startBouncer(pgbouncer: string, dir: string, port: number): Promise<Started> {
  const target = new URL(db.url);
  const password = decodeURIComponent(target.password || 'unused');
  const user = decodeURIComponent(target.username);
  const logfile = join(dir, 'pgbouncer.log');
  rmSync(logfile, { force: true });
  writeFileSync(join(dir, 'users.txt'), `"${user}" "${password}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432} user=${user} password=${password}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 1',
      'unix_socket_dir =',
      `logfile = ${logfile}`,
      'ignore_startup_parameters = extra_float_digits',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; -u drops to the postgres user.
  const asRoot = userInfo().uid === 0 ? ['-u', 'postgres'] : [];
  const child = spawn(pgbouncer, [...asRoot, join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited: string | undefined;
  child.once('error', (e) => (exited = `could not run ${pgbouncer}: ${e.message}`));
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`));
  try {
    await waitFor('PgBouncer to listen', async () => exited !== undefined || canConnect(port), {
      timeoutMs: 20_000,
    });
  } catch {
    // Fall through: reported below with PgBouncer's own words.
  }
  if (exited === undefined && (await canConnect(port))) return { ok: true, child };
  if (exited === undefined) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  const log = existsSync(logfile) ? readFileSync(logfile, 'utf8') : '(no log file)';
  return {
    ok: false,
    why: `${exited ?? 'not listening after 20 s'}; output: ${output.trim() || '(none)'}; log: ${log.trim().split('\n').slice(-8).join(' | ')}`,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
