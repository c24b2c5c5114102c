import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { expect, it } from 'vitest';

const db = useTestDatabase();
const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

/**
 * Runs `pnpm start` as it really runs: src/main.ts under tsx, whose esbuild emits no decorator
 * metadata, so this fails if any injection lacks its @Inject() token. `use` gets what it
 * printed and the server's URL; then SIGTERM, and main.ts must exit 0.
 */
async function withMain(
  env: Record<string, string>,
  use: (output: () => string, url: string) => Promise<void>,
): Promise<string> {
  const { QUEUE_DASHBOARD_USER: _u, QUEUE_DASHBOARD_PASSWORD: _p, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...inherited, DATABASE_URL: db.url, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await waitFor('the server to listen', () => /listening on (\S+)/.exec(output)?.[1]);
    await use(() => output, url);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, output).toBe(0);
  return output;
}

it('main.ts serves a signup under tsx and exits cleanly on SIGTERM', async () => {
  const output = await withMain({}, async (output, url) => {
    const res = await fetch(`${url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'main@example.com', name: 'Main' }),
    });
    expect(res.status, output()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      'the welcome email',
      async () => (await db.query('SELECT 1 FROM sent_emails WHERE user_id = $1', [id])).length,
    );
  });
  expect(output).toContain('SIGTERM: finishing running jobs, then exiting');
});

it('with no QUEUE_DASHBOARD_* set, main.ts prints a generated password that opens the dashboard', async () => {
  await withMain({}, async (output, url) => {
    const dashboard = await waitFor('the dashboard URL', () => /queue dashboard: (\S+)/.exec(output())?.[1]);
    expect(dashboard).toBe(`${url}/admin/queue/`);
    const [, username, password] = await waitFor('the credentials', () =>
      /user (\S+), password (\S+) \(made for this run/.exec(output()),
    );
    expect(password!.length).toBeGreaterThanOrEqual(16);
    expect((await fetch(dashboard)).status).toBe(401);
    const res = await fetch(`${dashboard}api/overview`, { headers: basic(username!, password!) });
    expect(res.status).toBe(200);
  });
});

it('takes the credentials from QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD, and never prints the password', async () => {
  const env = { QUEUE_DASHBOARD_USER: 'ops', QUEUE_DASHBOARD_PASSWORD: 'from-the-environment' };
  await withMain(env, async (output, url) => {
    await waitFor('the credentials line', () => output().includes('password from QUEUE_DASHBOARD_PASSWORD'));
    expect(output()).not.toContain(env.QUEUE_DASHBOARD_PASSWORD);
    const dashboard = `${url}/admin/queue/`;
    expect((await fetch(dashboard, { headers: basic('ops', 'wrong') })).status).toBe(401);
    expect((await fetch(dashboard, { headers: basic('ops', env.QUEUE_DASHBOARD_PASSWORD) })).status).toBe(
      200,
    );
  });
});
