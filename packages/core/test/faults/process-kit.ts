/**
 * Shared parts of the fault scenarios that run real Node processes: spawning a fixture and
 * reading its stdout line by line, a logger that lets a test await a log message, and the
 * bookkeeping tables the fixtures write to.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from '@queue/test-utils';
import { afterEach } from 'vitest';
import type { Logger } from '../../src/index.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One line a fixture printed as `event {json}`: a worker event seen inside the process. */
export interface FixtureEvent {
  event: 'started' | 'completed' | 'retried' | 'failed' | 'error';
  id?: string;
  attempts?: number;
  delayMs?: number;
  error?: string;
  /** When the test process read it (performance.now()); set by `events()`. */
  at?: number;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  /** Every stdout line so far, and when it arrived (performance.now()). */
  lines: string[];
  times: number[];
  /** The first line, printed already or to come, that passes `match`. */
  line(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Worker events the fixture printed so far. */
  events(): FixtureEvent[];
  /** The first worker event, printed already or to come, that passes `match`. */
  event(match: (e: FixtureEvent) => boolean, what: string, timeoutMs?: number): Promise<FixtureEvent>;
  /** Writes one line to the process' stdin (when spawned with `stdin: true`). */
  send(line: string): void;
  /** Everything it printed on stderr. */
  stderr(): string;
}

const live = new Set<ChildProcess>();

/** After each test, SIGKILLs the processes it spawned that are still running (by their own pid). */
export function useProcessCleanup(): void {
  afterEach(async () => {
    const left = [...live];
    live.clear();
    await Promise.all(
      left.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  });
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Extra `node` flags, after `--import tsx`. */
  nodeArgs?: string[];
  /** Runs node under this command, e.g. `['ip', 'netns', 'exec', ns]` (which execs it: same pid). */
  prefix?: string[];
  /** Resolve once a line starting with this is printed; null to resolve at once. Default 'ready'. */
  ready?: string | null;
  stdin?: boolean;
  readyTimeoutMs?: number;
}

/** Starts `node --import tsx fixtures/<name>` with cwd at the repo root (so tsx resolves). */
export async function spawnFixture(name: string, options: SpawnOptions = {}): Promise<Spawned> {
  const argv = [
    ...(options.prefix ?? []),
    process.execPath,
    ...['--import', 'tsx', ...(options.nodeArgs ?? []), fixturePath(name)],
  ];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const lines: string[] = [];
  const times: number[] = [];
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const l = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(l);
      times.push(performance.now());
      bus.emit('line', l);
      nl = partial.indexOf('\n');
    }
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  const line = (match: (l: string) => boolean, what: string, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${err.slice(-2000)}`));
      }, timeoutMs);
      const onLine = (l: string) => {
        if (!match(l)) return;
        cleanup();
        resolve(l);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`process exited while waiting for ${what}; stderr: ${err.slice(-2000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        bus.off('line', onLine);
        child.off('exit', onExit);
      };
      bus.on('line', onLine);
      child.once('exit', onExit);
    });
  const parse = (l: string): FixtureEvent | undefined =>
    l.startsWith('event ') ? (JSON.parse(l.slice(6)) as FixtureEvent) : undefined;
  const spawned: Spawned = {
    child,
    pid: child.pid!,
    exited,
    lines,
    times,
    line,
    events: () =>
      lines.flatMap((l, i) => {
        const e = parse(l);
        return e ? [{ ...e, at: times[i]! }] : [];
      }),
    event: async (match, what, timeoutMs) => {
      const l = await line(
        (x) => {
          const e = parse(x);
          return e !== undefined && match(e);
        },
        what,
        timeoutMs,
      );
      return parse(l)!;
    },
    send: (l) => {
      child.stdin!.write(`${l}\n`);
    },
    stderr: () => err,
  };
  const ready = options.ready === undefined ? 'ready' : options.ready;
  if (ready !== null) {
    await line((l) => l.startsWith(ready), `${name} to print "${ready}"`, options.readyTimeoutMs ?? 30_000);
  }
  return spawned;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: object;
  at: number;
}

/** A Logger that keeps every line and lets a test wait for one, instead of sleeping. */
export function captureLogger(): Logger & {
  lines: LogLine[];
  next(match: RegExp, after?: number, timeoutMs?: number): Promise<LogLine>;
} {
  const lines: LogLine[] = [];
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const make =
    (level: LogLine['level']) =>
    (fields: object, msg?: string): void => {
      const entry = { level, msg: msg ?? '', fields, at: performance.now() };
      lines.push(entry);
      bus.emit('line', entry);
    };
  const logger = {
    lines,
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    /** The first line matching `match` logged at or after `after` (performance.now()). */
    next(match: RegExp, after = 0, timeoutMs = 20_000): Promise<LogLine> {
      return new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.at >= after && match.test(l.msg));
        if (seen) return resolve(seen);
        const timer = setTimeout(() => {
          bus.off('line', onLine);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line ${match}`));
        }, timeoutMs);
        const onLine = (l: LogLine) => {
          if (l.at < after || !match.test(l.msg)) return;
          clearTimeout(timer);
          bus.off('line', onLine);
          resolve(l);
        };
        bus.on('line', onLine);
      });
    },
  };
  return logger;
}

/**
 * The tables the fixtures write to. UNLOGGED: they are bookkeeping for the test, and
 * sparing the WAL keeps a 10,000-job run from being bound by fsync on a shared machine.
 *   started     a `hold` job began (it never ends)
 *   effects     one row per job whose effect happened; a second run goes to duplicates
 *   active      jobs running right now; a second concurrent run goes to double_runs
 *   stamps      when each attempt began, by the database clock and the process' own
 */
export async function createFaultTables(db: TestDatabase): Promise<void> {
  await db.query(`
    DROP TABLE IF EXISTS started, effects, duplicates, active, double_runs, stamps;
    CREATE UNLOGGED TABLE started (job_id bigint NOT NULL, pid int NOT NULL);
    CREATE UNLOGGED TABLE effects (job_id bigint PRIMARY KEY, pid int NOT NULL, attempt int NOT NULL);
    CREATE UNLOGGED TABLE duplicates (job_id bigint NOT NULL, pid int NOT NULL);
    CREATE UNLOGGED TABLE active (job_id bigint PRIMARY KEY, pid int NOT NULL);
    CREATE UNLOGGED TABLE double_runs (job_id bigint NOT NULL, pid int NOT NULL);
    CREATE UNLOGGED TABLE stamps (job_id bigint NOT NULL, attempt int NOT NULL, pid int NOT NULL,
      db_at timestamptz NOT NULL, node_ms float8 NOT NULL);`);
}

export async function countRows(db: TestDatabase, table: string): Promise<number> {
  return (await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
}

/** Advisory locks on jobs (the one-bigint form) held in this database right now. */
export async function jobLocks(db: TestDatabase): Promise<number> {
  const [row] = await db.query(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND d.datname = $1`,
    [db.name],
  );
  return row.n as number;
}

export const ms = (x: number) => `${Math.round(x)} ms`;
