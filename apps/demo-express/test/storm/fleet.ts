/**
 * The storm's app instances: real `node --import tsx src/main.ts` processes (what `pnpm start`
 * runs), each on a free port, each its own process group so that cleanup reaches everything.
 * The fleet remembers which signal the test sent to which instance, so an exit the test did
 * not cause is told apart from one it did.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const appDir = fileURLToPath(new URL('../../', import.meta.url));

/** One run of a job that its worker reported as completed (`job 12 syncCrm done in 5 ms`). */
export interface CompletedRun {
  jobId: string;
  task: string;
  instance: string;
  /** Wall clock (ms since the epoch), the same clock as the database's clock_timestamp(). */
  start: number;
  end: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Instance {
  name: string;
  pid: number;
  /** http://127.0.0.1:port */
  origin: string;
  child: ChildProcess;
  exited: Promise<Exit>;
  exit: Exit | undefined;
  /** The signal the test sent, if it sent one. */
  sent: NodeJS.Signals | undefined;
  /** The test gave up waiting after SIGTERM and sent SIGKILL. */
  escalated: boolean;
  /** From spawn to listening. */
  readyMs: number;
  stderr(): string;
}

const LISTENING = /listening on http:\/\/localhost:(\d+)/;
const DONE = /^job (\d+) (\w+) done in (\d+) ms$/;

export class Fleet {
  readonly instances: Instance[] = [];
  readonly runs: CompletedRun[] = [];
  private count = 0;

  constructor(private readonly env: Record<string, string>) {}

  /** Starts one instance; resolves once it listens (its worker starts with the server). */
  async start(readyTimeoutMs = 45_000): Promise<Instance> {
    const name = `i${++this.count}`;
    const spawned = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: appDir,
      env: { ...process.env, ...this.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    const instance: Instance = {
      name,
      pid: child.pid!,
      origin: '',
      child,
      exit: undefined,
      exited: new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          instance.exit = { code, signal };
          resolve(instance.exit);
        }),
      ),
      sent: undefined,
      escalated: false,
      readyMs: 0,
      // The head keeps the first error (a crash's cause); the tail keeps the last words.
      stderr: () => (stderr.length > 8000 ? `${stderr.slice(0, 4000)}\n…\n${stderr.slice(-4000)}` : stderr),
    };
    this.instances.push(instance);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr += d;
    });
    let partial = '';
    let onPort: (port: string) => void = () => {};
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const at = Date.now();
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const done = DONE.exec(line);
        if (done) {
          // durationMs runs from the handler's start to after the completion was committed.
          const [, jobId, task, ms] = done;
          this.runs.push({ jobId: jobId!, task: task!, instance: name, start: at - Number(ms), end: at });
          continue;
        }
        const listening = LISTENING.exec(line);
        if (listening) onPort(listening[1]!);
      }
    });
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not listen within ${readyTimeoutMs} ms; stderr: ${instance.stderr()}`));
      }, readyTimeoutMs);
      onPort = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
      void instance.exited.then((e) => {
        clearTimeout(timer);
        reject(
          new Error(`${name} exited (${describeExit(e)}) before listening; stderr: ${instance.stderr()}`),
        );
      });
    });
    instance.origin = `http://127.0.0.1:${port}`;
    instance.readyMs = performance.now() - spawned;
    return instance;
  }

  /** Sends `signal` once: an instance already told to stop is not told twice (a second SIGTERM aborts its jobs). */
  signal(instance: Instance, signal: 'SIGKILL' | 'SIGTERM'): void {
    if (instance.sent || instance.exit) return;
    instance.sent = signal;
    instance.child.kill(signal);
  }

  /** Instances that have not exited. */
  live(): Instance[] {
    return this.instances.filter((i) => i.exit === undefined);
  }

  /** SIGTERMs every live instance and waits for each to exit; SIGKILL after `timeoutMs`. */
  async stopAll(timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      this.live().map(async (instance) => {
        this.signal(instance, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), timeoutMs);
        });
        if ((await Promise.race([instance.exited, late])) === 'late') {
          instance.escalated = true;
          killGroup(instance);
          await instance.exited;
        }
        clearTimeout(timer);
      }),
    );
  }

  /** Exits the test did not cause: no signal sent, or an exit other than the one sent. */
  crashed(): Instance[] {
    return this.instances.filter((i) => i.exit !== undefined && !i.escalated && !exitedAsTold(i));
  }

  /** Instances that did not exit within the bound after SIGTERM (the test SIGKILLed them). */
  hung(): Instance[] {
    return this.instances.filter((i) => i.escalated);
  }

  /** For afterAll: SIGKILL every process group still alive, and wait (bounded) for the exits. */
  async killAll(): Promise<void> {
    const left = this.live();
    for (const instance of left) killGroup(instance);
    await Promise.race([
      Promise.all(left.map((i) => i.exited)),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
  }
}

/** SIGKILL ends the process; SIGTERM ends it by the re-raised signal (the adapter's) or with code 0. */
function exitedAsTold(i: Instance): boolean {
  if (!i.exit || !i.sent) return false;
  if (i.sent === 'SIGKILL') return i.exit.signal === 'SIGKILL';
  return i.exit.signal === 'SIGTERM' || i.exit.code === 0;
}

function killGroup(instance: Instance): void {
  try {
    process.kill(-instance.pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

export function describeExit(e: Exit | undefined): string {
  if (!e) return 'running';
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}
