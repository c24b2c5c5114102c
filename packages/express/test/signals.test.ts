import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expectNoAdvisoryLocks, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from './helpers.js';

const db = useTestDatabase();
const fixture = fileURLToPath(new URL('./fixtures/signal-app.ts', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

const children: ChildProcess[] = [];

beforeAll(() => db.query('CREATE TABLE events (value text NOT NULL, event text NOT NULL)'));
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the fixture app in its own process; resolves once it listens. */
async function startApp() {
  const child = fork(fixture, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: db.url },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  let stdout = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  const messages: any[] = [];
  child.on('message', (m) => messages.push(m));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  return { child, baseUrl: `http://127.0.0.1:${port}`, messages, exited, stdout: () => stdout };
}

async function holdJob(app: { baseUrl: string; messages: any[] }, value: string) {
  expect((await postJson(app.baseUrl, '/hold', { value })).status).toBe(201);
  await waitFor(`job ${value} to start`, () => app.messages.some((m) => m.started === value));
}

/** Resolves once the server refuses connections: the first signal was handled. */
const refused = (child: ChildProcess, baseUrl: string) =>
  waitFor('the server to stop accepting', () =>
    fetch(`${baseUrl}/ping`).then(
      () => false,
      () => child.exitCode === null,
    ),
  );

const events = async (value: string) =>
  (await db.query(`SELECT event FROM events WHERE value = $1 ORDER BY event`, [value])).map((r) => r.event);

describe('signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: stops taking requests, lets the running job finish, closes, then ends by the signal`, async () => {
      const app = await startApp();
      const value = `graceful-${signal}`;
      await holdJob(app, value);
      app.child.kill(signal);
      await refused(app.child, app.baseUrl);
      // Still waiting for the job: the process has not exited.
      expect(app.child.exitCode).toBeNull();
      app.child.send(`finish ${value}`);
      const [code, bySignal] = await app.exited;
      expect({ code, bySignal }).toEqual({ code: null, bySignal: signal });
      expect(await events(value)).toEqual(['finished', 'started']);
      expect(await db.query(`SELECT 1 FROM queue.jobs WHERE payload->>'value' = $1`, [value])).toEqual([]);
      expect(app.stdout()).toContain('onClose ran');
      await expectNoAdvisoryLocks(db);
    });
  }

  it('a second SIGTERM aborts the running job, which stays queued to run again', async () => {
    const app = await startApp();
    await holdJob(app, 'hurried');
    app.child.kill('SIGTERM');
    await refused(app.child, app.baseUrl);
    app.child.kill('SIGTERM');
    const [, bySignal] = await app.exited;
    expect(bySignal).toBe('SIGTERM');
    expect(await events('hurried')).toEqual(['aborted', 'started']);
    const [job] = await db.query(`SELECT attempts FROM queue.jobs WHERE payload->>'value' = 'hurried'`);
    expect(job).toEqual({ attempts: 1 });
    await expectNoAdvisoryLocks(db);
  });
});
