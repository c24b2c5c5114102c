import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';

/**
 * The fault table's pass/FAIL is the outcome of the test that recorded the figure, not a
 * flag passed beside it. Runs `vitest run`, with the run's real global setup (which prints
 * the table), on fixtures whose tests record a figure and then pass or fail, and whose
 * afterAll hooks record one too; each passes a `pass` flag contradicting the outcome.
 */
const config = fileURLToPath(new URL('./fixtures/figure-table/vitest.config.ts', import.meta.url));
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

function runFixtures() {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', DATABASE_URL: inject('databaseUrl') };
  for (const name of ['VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID', 'NODE_OPTIONS']) delete env[name];
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', config], { env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

it('a figure row shows the outcome of the test that recorded it, whatever `pass` it was given', async () => {
  const { code, output } = await runFixtures();
  expect(output).toMatch(/fails on purpose/);
  expect(code, output).toBe(1);
  const row = (scenario: number) => output.split('\n').find((l) => l.startsWith(`${scenario}  fixture:`));
  expect(row(91), output).toMatch(/^91 {2}fixture: passing test +pass {2}measured 91$/);
  expect(row(92), output).toMatch(/^92 {2}fixture: failing test +FAIL {2}measured 92$/);
  expect(row(93), output).toMatch(/^93 {2}fixture: afterAll, a test failed +FAIL {2}measured 93$/);
  expect(row(94), output).toMatch(/^94 {2}fixture: afterAll, all passed +pass {2}measured 94$/);
});
