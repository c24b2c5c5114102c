import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** tsc's complaints about one program ('' when it compiles). */
async function compile(tsconfig: string): Promise<string> {
  const project = fileURLToPath(new URL(`./types/${tsconfig}`, import.meta.url));
  return promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project]).then(
    () => '',
    (error: { stdout: string; message: string }) => error.stdout || error.message,
  );
}

// The typings are part of the API. Each file holds @ts-expect-error lines for what must be
// refused: tsc fails on any of those that compiles.
describe('types', { timeout: 60_000 }, () => {
  it('fastify.queue and the options follow the task map an app declares', async () => {
    expect(await compile('tsconfig.typed.json')).toBe('');
  });

  it('without a declared map, the queue takes any task and the plugin any Queue', async () => {
    expect(await compile('tsconfig.untyped.json')).toBe('');
  });
});
