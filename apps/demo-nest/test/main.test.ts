import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { expect, it } from 'vitest';

const db = useTestDatabase();

/**
 * `pnpm start` as it really runs: src/main.ts under tsx, whose esbuild emits no decorator
 * metadata, so this fails if any injection lacks its @Inject() token. Then SIGTERM: exit 0.
 */
it('main.ts serves a signup under tsx and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, DATABASE_URL: db.url, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await waitFor('the server to listen', () => /listening on (\S+)/.exec(output)?.[1]);
    const res = await fetch(`${url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'main@example.com', name: 'Main' }),
    });
    expect(res.status, output).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      'the welcome email',
      async () => (await db.query('SELECT 1 FROM sent_emails WHERE user_id = $1', [id])).length,
    );
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, output).toBe(0);
  expect(output).toContain('SIGTERM: finishing running jobs, then exiting');
});
