import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
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
    const target = new URL(db.url);
    dir = mkdtempSync(join(tmpdir(), 'queue-pgbouncer-'));
    chmodSync(dir, 0o777);
    port = 20_000 + Math.floor(Math.random() * 20_000);
    const password = decodeURIComponent(target.password || 'unused');
    writeFileSync(join(dir, 'users.txt'), `"${decodeURIComponent(target.username)}" "${password}"\n`);
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${target.hostname} port=${target.port || 5432} user=${decodeURIComponent(target.username)} password=${password}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'auth_type = trust',
        `auth_file = ${join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        'default_pool_size = 1',
        'unix_socket_dir =',
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        'ignore_startup_parameters = extra_float_digits',
      ].join('\n'),
    );
    // PgBouncer refuses to run as root; -u drops to the postgres user.
    const asRoot = userInfo().uid === 0 ? ['-u', 'postgres'] : [];
    bouncer = spawn(pgbouncer, [...asRoot, join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
    await waitFor('pgbouncer to listen', () => canConnect(port));
  });

  afterAll(async () => {
    bouncer?.kill('SIGTERM');
    await new Promise((r) => bouncer?.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
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
