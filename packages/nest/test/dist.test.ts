import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The published builds, run as real Node processes: ESM and CJS, with no decorator metadata
 * anywhere (the fixtures are plain JavaScript), and SIGTERM through app.enableShutdownHooks().
 */
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const db = useTestDatabase();

function run(file: string, mode: 'run' | 'sigterm') {
  const child = spawn(process.execPath, [file], {
    cwd: fixtures,
    env: { ...process.env, DATABASE_URL: db.url, MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}

beforeAll(async () => {
  if (!existsSync(fileURLToPath(new URL('../dist/index.cjs', import.meta.url)))) {
    throw new Error('packages/nest/dist is missing: build first (npx turbo run build --filter=@queue/nest)');
  }
  await db.query('CREATE TABLE dist_runs (value text NOT NULL, note text NOT NULL)');
});

describe.each([
  ['cjs', 'app.cjs', /dist\/index\.cjs$/],
  ['esm', 'app.mjs', /dist\/index\.js$/],
])('the %s build', (format, file, resolved) => {
  it('runs a decorated processor with injected dependencies, with no emitted metadata', async () => {
    const { exited, output } = run(file, 'run');
    expect(await exited, output().stderr).toEqual({ code: 0, signal: null });
    const report = JSON.parse(output().stdout);
    expect(report.resolved).toMatch(resolved);
    expect(report).toMatchObject({ format, queue: 'dist', note: `${format} attempt 1 di true` });
  });

  it('on SIGTERM with enableShutdownHooks(), lets the running job finish, then exits', async () => {
    const { child, exited, output } = run(file, 'sigterm');
    await waitFor('the slow job to start', () => output().stdout.includes('started') || exitedEarly(child));
    expect(child.exitCode, output().stderr).toBeNull();
    child.kill('SIGTERM');
    // Nest re-raises the signal once the app has closed.
    expect(await exited, output().stderr).toEqual({ code: null, signal: 'SIGTERM' });
    const notes = await db.query(`SELECT note FROM dist_runs WHERE value = $1 ORDER BY note DESC`, [
      `${format}-slow`,
    ]);
    expect(notes.map((r) => r.note)).toEqual(['started', 'finished']);
    // Completed and recorded before the process exited: no job left behind.
    expect(await db.query(`SELECT id FROM queue.jobs WHERE task = 'slow'`)).toEqual([]);
  });
});

function exitedEarly(child: ChildProcess) {
  return child.exitCode !== null;
}
