import type { Claimer } from './claimer.js';
import { LockLostError, WorkerStalledError } from './errors.js';
import type { Logger } from './logger.js';
import type { Running } from './worker-state.js';

/**
 * `ctx.assertOwnership()` for one running job: one statement on the claimer session (the one
 * holding the job's lock; the same check on any other connection would prove nothing) that
 * also finds the job's row still on this claim (`claims`, the fencing token's counter), in turn
 * with its other statements and bounded by `queryTimeout`. On failure the job's signal is
 * aborted with the LockLostError thrown, and the job is marked lost so that nothing is
 * recorded for it.
 *
 * Cost, measured (PostgreSQL 15 on the same host, 2 cores shared with other work, load ~20):
 * one check on an idle worker takes 0.12-0.23 ms (p50). In a drain of 5,000 no-op jobs at
 * concurrency 32 where every job checks, a check takes 0.9-2.5 ms (p50; p99 17-44 ms), as it
 * waits its turn behind claim and complete statements on the one session, and the drain runs
 * at 78-81% of its speed without checks (2,000-2,600 vs 2,500-3,300 jobs/s). Before checks made
 * together shared a statement, it was 33-40%. Worth it before a side effect; not as a habit.
 */
export async function assertOwnership(claimer: Claimer, r: Running, isRunning: () => boolean): Promise<void> {
  let why: unknown;
  if (!isRunning()) {
    why = new Error(`attempt ${r.job.attempts} of job ${r.job.id} has ended; its lock is released`);
  } else {
    try {
      const reason = await claimer.owns(r.job.id, r.claims, r.generation);
      if (reason === null) return;
      why = new Error(reason);
    } catch (error) {
      why = error;
    }
  }
  r.lost = true;
  const previous = r.controller.signal.reason;
  const error = previous instanceof LockLostError ? previous : new LockLostError(why);
  r.controller.abort(error);
  throw error;
}

/**
 * After an event-loop stall: the jobs claimed on the current session are re-verified by one
 * session check. If it succeeds, the session (and so every lock it took) outlived the stall
 * and nothing happens; if it fails or has no answer within `deadlineMs`, their signals are
 * aborted with a WorkerStalledError. A lost connection aborts them first, with LockLostError.
 */
export async function checkAfterStall(
  claimer: Claimer,
  running: Iterable<Running>,
  stalledMs: number,
  deadlineMs: number,
  logger: Logger,
): Promise<void> {
  const generation = claimer.generation;
  const jobs = [...running].filter((r) => r.generation === generation && !r.controller.signal.aborted);
  if (jobs.length === 0 || !claimer.connected) return;
  logger.warn({ stalledMs, jobs: jobs.length }, 'event loop stalled; re-verifying the worker session');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
    timer.unref();
  });
  let why: unknown;
  try {
    const verdict = await Promise.race([claimer.confirm(generation).then(() => 'ok' as const), late]);
    if (verdict === 'ok') {
      logger.info({ stalledMs, jobs: jobs.length }, 'worker session re-verified after the stall');
      return;
    }
    why = new Error(`no answer from Postgres within ${deadlineMs} ms`);
  } catch (error) {
    why = error;
  } finally {
    clearTimeout(timer);
  }
  logger.error(
    { stalledMs, jobs: jobs.length, err: (why as Error).message },
    'could not re-verify the worker session after the stall; aborting its running jobs',
  );
  for (const r of jobs) r.controller.abort(new WorkerStalledError(stalledMs, why));
}
