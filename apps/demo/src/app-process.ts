import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from './app.js';
import { DemoFailedError } from './options.js';

const APP = fileURLToPath(new URL('./app.js', import.meta.url));

export interface AppProcess {
  readonly name: string;
  /** Its sessions' application_name in pg_stat_activity. */
  readonly applicationName: string;
  readonly pid: number;
  /** Set when the process ended without being told to (a crash of the app itself). */
  readonly failure: Error | undefined;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
  /** The deploy/crash: SIGKILL, no goodbye. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Asks for a graceful stop; SIGKILLs after `timeoutMs`. Rejects if it did not exit 0. */
  stop(timeoutMs: number): Promise<void>;
}

/** Starts `dist/app.js` as a child process of its own, with an IPC channel. */
export function startApp(config: AppConfig): AppProcess {
  const child: ChildProcess = fork(APP, [JSON.stringify(config)], {
    // Its errors show up in the demo's output; it prints nothing else.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let expected = false;
  let failure: Error | undefined;
  let code: number | null = null;
  let markExited: () => void = () => {};
  const exited = new Promise<void>((resolve) => {
    markExited = resolve;
  });
  child.once('exit', (c, signal) => {
    code = c;
    if (!expected)
      failure = new DemoFailedError(`app ${config.name} exited on its own (code ${c}, signal ${signal})`);
    markExited();
  });
  child.once('error', (error) => {
    failure ??= new DemoFailedError(`app ${config.name}: ${error.message}`);
    // A process that never started emits no 'exit'.
    if (child.pid === undefined) markExited();
  });
  return {
    name: config.name,
    applicationName: config.applicationName,
    pid: child.pid ?? -1,
    get failure() {
      return failure;
    },
    exited,
    async kill() {
      expected = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs) {
      expected = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.send({ type: 'stop' });
      } catch {
        child.kill('SIGKILL'); // its IPC channel is gone: it cannot be asked
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      if (code !== 0)
        throw new DemoFailedError(`app ${config.name} did not stop cleanly (exit code ${code})`);
    },
  };
}
