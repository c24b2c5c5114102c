import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { expect, it } from 'vitest';

const db = useTestDatabase();
const basic = (username: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
});

/** Runs `pnpm start` (src/main.ts under tsx) with `env`, until `use` is done with what it printed. */
async function withMain(
  env: Record<string, string>,
  use: (output: () => string, url: string) => Promise<void>,
): Promise<void> {
  const { QUEUE_DASHBOARD_USER: _u, QUEUE_DASHBOARD_PASSWORD: _p, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...inherited, DATABASE_URL: db.url, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  try {
    const url = await waitFor('the dashboard URL', () => /queue dashboard: (\S+)/.exec(output)?.[1]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/admin\/queue\/$/);
    await use(() => output, url);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, output).toBe('code 0');
}

it('with no QUEUE_DASHBOARD_* set, main.ts prints a generated password that opens the dashboard', async () => {
  await withMain({}, async (output, url) => {
    const [, username, password] = await waitFor('the credentials', () =>
      /user (\S+), password (\S+) \(made for this run/.exec(output()),
    );
    expect(password!.length).toBeGreaterThanOrEqual(16);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}api/overview`, { headers: basic(username!, password!) })).status).toBe(200);
  });
});

it('takes the credentials from QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD, and never prints the password', async () => {
  const env = { QUEUE_DASHBOARD_USER: 'ops', QUEUE_DASHBOARD_PASSWORD: 'from-the-environment' };
  await withMain(env, async (output, url) => {
    await waitFor('the credentials line', () => output().includes('password from QUEUE_DASHBOARD_PASSWORD'));
    expect(output()).not.toContain(env.QUEUE_DASHBOARD_PASSWORD);
    expect((await fetch(url, { headers: basic('ops', 'wrong') })).status).toBe(401);
    expect((await fetch(url, { headers: basic('ops', env.QUEUE_DASHBOARD_PASSWORD) })).status).toBe(200);
  });
});
