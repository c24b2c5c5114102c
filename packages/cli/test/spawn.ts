import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as a user would (`node dist/cli.js` is what the `queue` bin points at). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const baseEnv = () => {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.QUEUE_DASHBOARD_USER;
  delete env.QUEUE_DASHBOARD_PASSWORD;
  return env;
};

/** Runs `queue <args>` to completion, with `input` (or nothing) on its standard input. */
export function queueCli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  input = '',
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...baseEnv(), ...env },
      cwd,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.stdin.on('error', () => {}); // a command that never reads stdin may exit before we write
    child.stdin.end(input);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a long-running `queue <args>` (worker, dashboard); `line(re)` waits for matching output. */
export function startCli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env: { ...baseEnv(), ...env },
    cwd,
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  const poke = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', (d) => {
    stdout += d;
    poke();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    poke();
  });
  const exited = new Promise<Result>((resolve) => {
    child.on('close', (code, signal) => {
      poke();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first match of `re` in stdout+stderr; rejects if the process exits first. */
    async line(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = (stdout + stderr).match(re);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`process exited before printing ${re}: ${stdout}${stderr}`);
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${stdout}${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, deadline - Date.now()).unref();
        });
      }
    },
  };
}
