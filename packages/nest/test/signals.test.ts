import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expectNoAdvisoryLocks, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * The quick start in a real process (fixtures/signal-app.ts): handleSignals, on by default,
 * keeps a running job safe on SIGTERM, whether or not the app also calls
 * app.enableShutdownHooks(). A module cannot close the Nest app itself; it stops the HTTP
 * server, then the worker (which finishes its job), then the queue, through core's shutdown.
 */
const db = useTestDatabase();
const fixture = fileURLToPath(new URL('./fixtures/signal-app.ts', import.meta.url));
// From packages/nest, whose tsconfig turns on the legacy decorators for tsx.
const cwd = fileURLToPath(new URL('..', import.meta.url));

const children: ChildProcess[] = [];

beforeAll(() => db.query('CREATE TABLE events (value text NOT NULL, event text NOT NULL)'));
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  // A job a test left queued (aborted by a second signal) must not run in the next test's app.
  await db.query('DELETE FROM queue.jobs');
});

/** Starts the fixture app in its own process; resolves once it listens. */
async function startApp(shutdownHooks: boolean) {
  const child = fork(fixture, [], {
    cwd,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: db.url, SHUTDOWN_HOOKS: shutdownHooks ? '1' : '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const messages: any[] = [];
  child.on('message', (m) => messages.push(m));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  return { child, baseUrl: `http://127.0.0.1:${port}`, messages, exited };
}

async function holdJob(app: { baseUrl: string; messages: any[] }, value: string) {
  const res = await fetch(`${app.baseUrl}/hold`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  expect(res.status).toBe(201);
  await waitFor(`job ${value} to start`, () => app.messages.some((m) => m.started === value));
}

/** Resolves once the server refuses connections: the first signal was handled. */
const refused = (child: ChildProcess, baseUrl: string) =>
  waitFor('the server to stop accepting', () =>
    fetch(`${baseUrl}/hold`).then(
      () => false,
      () => child.exitCode === null,
    ),
  );

const events = async (value: string) =>
  (await db.query(`SELECT event FROM events WHERE value = $1 ORDER BY event`, [value])).map((r) => r.event);

// Each test boots a Nest process through tsx, which takes a few seconds on a cold cache.
describe.each([
  ['with app.enableShutdownHooks()', true],
  ['without app.enableShutdownHooks()', false],
])('signals, %s', { timeout: 60_000 }, (_label, hooks) => {
  it('SIGTERM: stops taking requests, lets the running job finish, then ends by the signal', async () => {
    const app = await startApp(hooks);
    const value = `graceful-${hooks}`;
    await holdJob(app, value);
    app.child.kill('SIGTERM');
    await refused(app.child, app.baseUrl);
    // Still waiting for the job: the process has not exited.
    expect(app.child.exitCode).toBeNull();
    app.child.send(`finish ${value}`);
    const [code, bySignal] = await app.exited;
    expect({ code, bySignal }).toEqual({ code: null, bySignal: 'SIGTERM' });
    expect(await events(value)).toEqual(['finished', 'started']);
    // Completed: recorded as done (deleted), not left to run again.
    expect(await db.query(`SELECT 1 FROM queue.jobs WHERE payload->>'value' = $1`, [value])).toEqual([]);
    await expectNoAdvisoryLocks(db);
  });

  it('a second SIGTERM aborts the running job, which stays queued to run again', async () => {
    const app = await startApp(hooks);
    const value = `hurried-${hooks}`;
    await holdJob(app, value);
    app.child.kill('SIGTERM');
    await refused(app.child, app.baseUrl);
    app.child.kill('SIGTERM');
    const [, bySignal] = await app.exited;
    expect(bySignal).toBe('SIGTERM');
    expect(await events(value)).toEqual(['aborted', 'started']);
    const [job] = await db.query(`SELECT attempts FROM queue.jobs WHERE payload->>'value' = $1`, [value]);
    expect(job).toEqual({ attempts: 1 });
    await expectNoAdvisoryLocks(db);
  });
});
