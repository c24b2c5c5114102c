import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from './clock.js';
import { workerEntry } from './compile.js';
import type { TracingMode } from './peers/queue-tracing.js';
import type { Target } from './peers/types.js';
import type { ChildResult, ToChild, ToParent } from './protocol.js';

const SRC = dirname(fileURLToPath(import.meta.url));
const BENCH_ROOT = join(SRC, '..');

/**
 * The bench side of one worker process (child.ts). The process is started, the peer's
 * worker built and connected, and the two clocks compared before the measured part
 * begins, so none of that is charged to the peer.
 */
export class WorkerProcess {
  private waiters = new Map<string, (m: ToParent) => void>();
  private stderr = '';
  private failure: Error | undefined;
  private onFailure: ((e: Error) => void)[] = [];
  private nextId = 0;
  /** Kept when 'reached' arrives before anyone waits for it (a fast drain, or during a load window). */
  private reachedAt: number | undefined;
  /** The child's clock minus ours. */
  offset = 0;
  readyRssKb = 0;
  private stopped = false;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.resume();
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: ToParent) => this.dispatch(m));
    child.on('exit', (code, signal) => this.fail(new Error(`worker process exited (${code ?? signal})`)));
  }

  static async spawn(peer: string, target: Target, tracing?: TracingMode): Promise<WorkerProcess> {
    const entry = await workerEntry(SRC, join(BENCH_ROOT, '.cache', 'worker'));
    const execArgv: string[] = [];
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each worker process, for profiling a peer.
    if (process.env.BENCH_CPU_PROF)
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
    // Plain node on transpiled JavaScript (see compile.ts), whatever runs the bench itself.
    const child = fork(entry, [], { cwd: BENCH_ROOT, execArgv, execPath: process.execPath, silent: true });
    const host = new WorkerProcess(child);
    try {
      const ready = await host.request({ type: 'init', peer, target, tracing }, 'ready', 60_000);
      host.readyRssKb = ready.type === 'ready' ? ready.rssKb : 0;
      await host.calibrate();
    } catch (error) {
      host.kill();
      throw error;
    }
    return host;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** NTP-style: the ping with the shortest round trip gives the tightest offset estimate. */
  private async calibrate(): Promise<void> {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 20; i++) {
      const t0 = now();
      const pong = await this.request({ type: 'ping', id: i }, 'pong');
      const t1 = now();
      if (pong.type === 'pong' && t1 - t0 < best) {
        best = t1 - t0;
        this.offset = pong.at - (t0 + t1) / 2;
      }
    }
  }

  /** Starts consuming; returns the bench-clock time just before the start message went out. */
  async start(expect: number, recordStarts: boolean): Promise<number> {
    const t0 = now();
    await this.request({ type: 'start', expect, offset: this.offset, recordStarts }, 'started');
    return t0;
  }

  /** Resolves with the bench-clock time at which the handler count reached `expect`. */
  reached(timeoutMs: number): Promise<number | undefined> {
    if (this.reachedAt !== undefined) return Promise.resolve(this.reachedAt);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete('reached');
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set('reached', (m) => {
        clearTimeout(timer);
        resolve(m.type === 'reached' ? m.at : undefined);
      });
      this.onFailure.push(reject);
    });
  }

  async count(): Promise<number> {
    const m = await this.request({ type: 'count', id: ++this.nextId }, 'count');
    return m.type === 'count' ? m.count : 0;
  }

  async stop(): Promise<ChildResult> {
    const m = await this.request({ type: 'stop' }, 'result', 60_000);
    if (m.type !== 'result') throw new Error('no result from worker process');
    this.stopped = true;
    return m.result;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /**
   * After stop(), lets the process exit on its own (a CPU profile is written then); kills it
   * at once if it was never stopped, or if it lingers.
   */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const graceMs = this.stopped ? 5_000 : 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.kill();
  }

  private request(message: ToChild, reply: ToParent['type'], timeoutMs = 30_000): Promise<ToParent> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.withStderr(`no ${reply} from worker process`)), timeoutMs);
      this.waiters.set(reply, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.onFailure.push((e) => {
        clearTimeout(timer);
        reject(e);
      });
      this.child.send(message);
    });
  }

  private dispatch(m: ToParent): void {
    if (m.type === 'error') {
      this.fail(this.withStderr(`worker process: ${m.message}`));
      return;
    }
    if (m.type === 'reached') this.reachedAt = m.at;
    const waiter = this.waiters.get(m.type);
    if (!waiter) return;
    this.waiters.delete(m.type);
    waiter(m);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    // A clean exit after the result was delivered is no failure for anyone still waiting.
    this.failure =
      this.stderr && !error.message.includes('worker process:') ? this.withStderr(error.message) : error;
    for (const f of this.onFailure.splice(0)) f(this.failure);
  }

  private withStderr(message: string): Error {
    return new Error(this.stderr ? `${message}\n--- worker stderr ---\n${this.stderr}` : message);
  }
}
