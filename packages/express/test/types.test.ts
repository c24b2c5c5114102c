import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));

it('Register types req.queue with the app tasks, and req.tx is a pg client', async () => {
  // test/types/usage.ts holds the checks: right calls compile, wrong ones carry @ts-expect-error,
  // which fails the compile if the call is accepted after all.
  const result = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project]).then(
    () => ({ ok: true, output: '' }),
    (error: { stdout: string }) => ({ ok: false, output: error.stdout }),
  );
  expect(result).toEqual({ ok: true, output: '' });
});
