import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { useTestDatabase, waitFor } from '@queue/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobContext } from '../../src/index.js';
import { queueFactory, startWorker } from '../helpers.js';
import { recordFigure } from './figures.js';
import { jobLocks, ms, type Spawned, spawnFixture, useProcessCleanup } from './process-kit.js';
import { FreezingProxy } from './tcp-proxy.js';

const db = useTestDatabase();
const makeQueue = queueFactory(db);
useProcessCleanup();
let proxy: FreezingProxy | undefined;

beforeEach(async () => {
  // No key: a second effect of the same job is a row, to be counted.
  await db.query(`DROP TABLE IF EXISTS fenced_effects;
    CREATE UNLOGGED TABLE fenced_effects (job_id bigint NOT NULL, attempt int NOT NULL, token text NOT NULL,
      pid int NOT NULL)`);
});
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

/** The handler's own timer in process A: it expires while A is stopped. */
const HANDLER_DELAY_MS = 1_500;
/** A's stallThreshold in the variant; the stall injected there is three times as long. */
const STALL_MS = 300;

/** A line `kind {json}` that a fixture printed (already, or to come). */
async function printed<T>(p: Spawned, kind: string, timeoutMs?: number): Promise<T> {
  const line = await p.line((l) => l.startsWith(`${kind} `), `A to print "${kind}"`, timeoutMs);
  return JSON.parse(line.slice(kind.length + 1)) as T;
}

/** SIGSTOPs the process and resolves once the kernel shows it stopped (state T). */
async function freeze(p: Spawned): Promise<void> {
  process.kill(p.pid, 'SIGSTOP');
  await waitFor(
    'A to be stopped',
    () => readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'T',
  );
}

/** epoll_wait and epoll_pwait (arm64 has only the latter): where an idle Node process sleeps. */
const EPOLL_WAITS: Record<string, number[]> = { x64: [232, 281], arm64: [22] };

/** When the backend last changed state, if it is idle now. */
async function idleSince(backend: number): Promise<string | undefined> {
  const [row] = await db.query(
    `SELECT state_change::text AS at FROM pg_stat_activity WHERE pid = $1 AND state = 'idle'`,
    [backend],
  );
  return row?.at as string | undefined;
}

/**
 * Freezes the process while it sleeps in epoll (idle, a worker's usual state) with nothing
 * unread from its claimer session, as a worker waiting on its handlers is. Checked, once it is
 * stopped, by /proc/<pid>/syscall (the syscall, and a timeout argument other than 0: libuv
 * first polls with none, to measure idle time, and a stop there lets the next poll read
 * sockets before timers) and by the claimer backend having been idle since before the stop (a
 * reply still unread would be read together with whatever comes after it). Stopped at another
 * moment, it is let go and tried again.
 */
async function freezeWhileWaiting(p: Spawned, claimer: number): Promise<number> {
  const waits = EPOLL_WAITS[process.arch];
  if (!waits) {
    throw new Error(`fault 19 knows the epoll syscall numbers of x64 and arm64 only, not of ${process.arch}`);
  }
  for (let tries = 1; tries <= 100; tries++) {
    const before = await idleSince(claimer);
    await delay(20);
    await freeze(p);
    const [nr, , , , timeout] = readFileSync(`/proc/${p.pid}/syscall`, 'utf8').split(' ');
    const quiet = before !== undefined && (await idleSince(claimer)) === before;
    if (quiet && waits.includes(Number(nr)) && Number(timeout) !== 0) return tries;
    process.kill(p.pid, 'SIGCONT');
  }
  throw new Error('A was busy every time it was stopped (100 tries): it never waited in epoll');
}

/** Worker B: checks ownership right before its side effect, like A's handler. */
function rescuer() {
  return makeQueue({
    tasks: {
      fenced: async (_: null, ctx: JobContext) => {
        await ctx.assertOwnership();
        await db.query('INSERT INTO fenced_effects (job_id, attempt, token, pid) VALUES ($1, $2, $3, $4)', [
          ctx.job.id,
          ctx.attempt,
          ctx.fencingToken,
          process.pid,
        ]);
      },
    },
  });
}

async function effectRows(): Promise<{ job_id: string; attempt: number; token: string; pid: number }[]> {
  return db.query('SELECT job_id::text, attempt, token, pid FROM fenced_effects ORDER BY attempt');
}

/** A is still alive, then stops gracefully on SIGTERM (the fixture re-raises it) without a crash. */
async function stopsCleanly(a: Spawned): Promise<boolean> {
  const alive = a.child.exitCode === null && a.child.signalCode === null;
  a.child.kill('SIGTERM');
  const exit = await a.exited;
  return alive && exit.signal === 'SIGTERM' && !/Uncaught|unhandled/i.test(a.stderr());
}

describe('fault 19: a frozen worker (SIGSTOP) whose session is terminated while another worker runs its job', () => {
  it('the frozen attempt’s ownership check fails after SIGCONT, so only the new attempt’s effect happens', async () => {
    const producer = rescuer();
    const a = await spawnFixture('frozen-worker.ts', {
      // Woken by notifications, not polls: its claimer session stays quiet while the handler waits.
      env: {
        DATABASE_URL: db.url,
        MODE: 'check',
        HANDLER_DELAY_MS: String(HANDLER_DELAY_MS),
        POLL_INTERVAL: '60000',
      },
    });
    const { claimer } = await printed<{ claimer: number }>(a, 'ready');
    const job = await producer.enqueue('fenced', null);
    const started = await printed<{ token: string; dueAt: number }>(a, 'started');
    await freezeWhileWaiting(a, claimer);
    // The handler's timer must expire while A is stopped, as in a real freeze.
    expect(Date.now()).toBeLessThan(started.dueAt);
    const [holder] = await producer.runningJobs();
    expect(holder?.id).toBe(job.id);
    await db.query('SELECT pg_terminate_backend($1)', [holder!.pid]);

    const completions: Job[] = [];
    const b = await startWorker(producer, { pollInterval: 100 });
    const done = new Promise<void>((resolve) =>
      b.on('completed', (e) => {
        completions.push(e.job);
        resolve();
      }),
    );
    await done;
    // The freeze itself: A stays stopped past its handler's timer (the fault, not a wait for an event).
    await delay(Math.max(0, started.dueAt - Date.now() + 50));
    const contAt = Date.now();
    process.kill(a.pid, 'SIGCONT');

    const timer = await printed<{ at: number; aborted: boolean }>(a, 'timer');
    // A's handler either writes its effect or finds it no longer owns the job.
    const outcome = await a.line((l) => /^(effect|ownership-lost) /.test(l), 'A to write or give up');
    expect(outcome).toMatch(/^ownership-lost /);
    const lost = await printed<{ code: string; cause: string }>(a, 'ownership-lost');
    const aborted = await printed<{ at: number; code: string }>(a, 'aborted');
    const abortMs = aborted.at - contAt;
    const rows = await effectRows();
    const aCompleted = a.events().filter((e) => e.event === 'completed').length;
    await b.stop();
    const clean = await stopsCleanly(a);
    const locks = await jobLocks(db);
    const pass =
      !timer.aborted &&
      lost.code === 'QUEUE_LOCK_LOST' &&
      rows.length === 1 &&
      rows[0]!.pid === process.pid &&
      completions.length + aCompleted === 1 &&
      clean &&
      locks === 0;
    recordFigure({
      scenario: 19,
      name: 'frozen worker (SIGSTOP, session terminated)',
      figure: `A's handler resumed on its timer with signal.aborted ${timer.aborted}; A aborted ${ms(abortMs)} after SIGCONT (${aborted.code}); its ownership check threw ${lost.code} (${lost.cause}); effects recorded ${rows.length}/1 (attempt ${rows[0]?.attempt}); double completions ${completions.length + aCompleted - 1}`,
      pass,
    });
    // Frozen in epoll_wait, A resumes with EINTR (signal(7)) and libuv runs the expired timers
    // before it polls sockets again: the handler carried on before the worker could know that
    // its session was gone. Only the ownership check stopped it.
    expect(timer.aborted).toBe(false);
    expect(lost.code).toBe('QUEUE_LOCK_LOST');
    expect(aborted.code).toBe('QUEUE_LOCK_LOST');
    expect(rows).toEqual([{ job_id: job.id, attempt: 2, token: `${job.id}:0000000002`, pid: process.pid }]);
    expect(started.token).toBe(`${job.id}:0000000001`);
    expect(completions.map((j) => j.attempts)).toEqual([2]);
    expect(aCompleted).toBe(0);
    expect((await producer.getJob(job.id))?.state).toBe('completed');
    expect(clean).toBe(true);
    expect(locks).toBe(0);
  });

  it('without an ownership check: after a freeze with the network gone, the stall detector aborts the signal', async () => {
    const target = new URL(db.url);
    proxy = new FreezingProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const producer = rescuer();
    // A reaches Postgres through the proxy; its effects go direct.
    const a = await spawnFixture('frozen-worker.ts', {
      env: {
        DATABASE_URL: proxy.url(db.url),
        EFFECTS_URL: db.url,
        MODE: 'signal',
        STALL_THRESHOLD: String(STALL_MS),
      },
    });
    const job = await producer.enqueue('fenced', null);
    await printed(a, 'started');
    await freeze(a);
    proxy.freeze();
    // The injected stall: A stays stopped for three times its stallThreshold.
    await delay(STALL_MS * 3);
    const contAt = Date.now();
    process.kill(a.pid, 'SIGCONT');
    const aborted = await printed<{ at: number; code: string; stalledMs: number }>(a, 'aborted');
    const abortMs = aborted.at - contAt;

    // The silent session still holds the lock at the server; once it is gone the job runs again.
    proxy.dropFrozenUpstreams();
    const completions: Job[] = [];
    const b = await startWorker(producer, { pollInterval: 100 });
    b.on('completed', (e) => completions.push(e.job));
    await waitFor(
      'the job to be completed by A or B',
      async () => (await producer.getJob(job.id))?.state === 'completed',
    );
    const rows = await effectRows();
    const aCompleted = a.events().filter((e) => e.event === 'completed').length;
    await b.stop();
    const clean = await stopsCleanly(a);
    const locks = await jobLocks(db);
    const pass =
      aborted.code === 'QUEUE_WORKER_STALLED' &&
      rows.length === 1 &&
      rows[0]!.attempt === 2 &&
      completions.length + aCompleted === 1 &&
      clean &&
      locks === 0;
    recordFigure({
      scenario: 19,
      name: 'frozen worker, network gone, no ownership check (stall detector)',
      figure: `A aborted ${ms(abortMs)} after SIGCONT (${aborted.code}, stall ${aborted.stalledMs} ms, stallThreshold ${STALL_MS} ms); effects by the frozen attempt 0; effects recorded ${rows.length}/1; double completions ${completions.length + aCompleted - 1}`,
      pass,
    });
    expect(aborted.code).toBe('QUEUE_WORKER_STALLED');
    expect(aborted.stalledMs).toBeGreaterThanOrEqual(STALL_MS * 2);
    // The re-check had stallThreshold to answer: the abort came soon after, not at queryTimeout (30 s).
    expect(abortMs).toBeLessThan(STALL_MS + 2_000);
    expect(rows.map((r) => r.attempt)).toEqual([2]);
    expect(completions.length + aCompleted).toBe(1);
    expect(clean).toBe(true);
    expect(locks).toBe(0);
  });
});
