import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue, silentLogger } from '@queue/core';
import { expectNoAdvisoryLocks, useTestDatabase, waitFor } from '@queue/test-utils';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const db = useTestDatabase();
const fixture = fileURLToPath(new URL('./fixtures/signal-app.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await db.query(`DELETE FROM queue.jobs`);
});

/** Starts the fixture app in its own process; resolves once it listens. */
async function startApp() {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, DATABASE_URL: db.url },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const logs: { msg?: string }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const part of parts) logs.push(JSON.parse(part));
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const logged = (msg: string) =>
    waitFor(`the app to log "${msg}"`, () => logs.find((l) => l.msg?.startsWith(msg)));
  const { msg } = await logged('Server listening at ');
  return { child, logged, exited, baseUrl: msg!.slice('Server listening at '.length) };
}

// Each test boots a process through tsx, which takes a few seconds on a cold cache.
describe('handleSignals (on by default, as in the quick start)', { timeout: 30_000 }, () => {
  const queue = new Queue({ connectionString: db.url, logger: silentLogger });
  afterAll(() => queue.close());

  it('SIGTERM closes the app, which waits for the running job, then the process ends by the signal', async () => {
    const app = await startApp();
    const job = await queue.enqueue('hold', null);
    await app.logged('job started');
    app.child.kill('SIGTERM');
    await app.logged('closing the server on signal');
    // It stops taking requests at once, and waits for the job: the process has not exited.
    await waitFor('the server to refuse connections', () =>
      fetch(app.baseUrl).then(
        () => false,
        () => true,
      ),
    );
    expect(app.child.exitCode).toBeNull();
    // Let the job finish: only then may the process end.
    app.child.stdin!.write('go\n');
    const [code, signal] = await app.exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    await app.logged('job finished');
    // Completed: recorded as done (deleted), not left to run again.
    expect((await queue.getJob(job.id))?.state).toBe('completed');
    await expectNoAdvisoryLocks(db);
  });

  it('a second SIGTERM aborts the running job, which is kept to run again', async () => {
    const app = await startApp();
    const job = await queue.enqueue('hold', null);
    await app.logged('job started');
    app.child.kill('SIGTERM');
    await app.logged('closing the server on signal');
    app.child.kill('SIGTERM');
    const [, signal] = await app.exited;
    expect(signal).toBe('SIGTERM');
    const kept = await queue.getJob(job.id);
    expect(kept).toMatchObject({ state: 'available', attempts: 1 });
    expect(kept!.errors[0]!.message).toMatch(/shutting down/);
    await expectNoAdvisoryLocks(db);
  });
});
