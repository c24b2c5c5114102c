import { retryDelay } from './backoff.js';
import type { Failure, FinishBatch } from './claimer.js';
import { describeError, type RunOutcome } from './run-job.js';
import type { Job, TaskDefinition } from './types.js';

export interface WorkerEvents {
  started: (event: { job: Job }) => void;
  completed: (event: { job: Job; durationMs: number }) => void;
  /** The job will run again after `delayMs`. */
  retried: (event: { job: Job; error: unknown; delayMs: number }) => void;
  /** The job is failed for good and kept for inspection or a manual retry. */
  failed: (event: { job: Job; error: unknown }) => void;
  /**
   * A running job's progress was written (`ctx.progress()`): once per write, not per call, so
   * at most once per `progressInterval` per job. `progress` is the value as stored (JSON).
   */
  progress: (event: { job: Job; progress: unknown }) => void;
  /** After each claim: how many jobs it got from which queue (0 when none was due or free). */
  claimed: (event: { queue: string; count: number }) => void;
  /** A non-fatal problem the worker recovers from (a lost connection, a failed write). */
  error: (error: Error) => void;
}

export interface QueueState {
  name: string;
  concurrency: number;
  running: number;
  /** Jobs may be due: set by wake-ups, polls and full claims; cleared by a claim that drained it. */
  dirty: boolean;
  /** Bumped on every wake-up, so a claim can tell whether one arrived while it ran. */
  wakes: number;
  tasks: string[];
}

export interface Running {
  job: Job;
  /** The job's claim count after this claim: the fencing token's counter. */
  claims: number;
  queue: QueueState;
  controller: AbortController;
  generation: number;
  startedAt: number;
  stopping: boolean;
  /** Set when `assertOwnership()` found the job no longer ours: nothing is recorded for it. */
  lost: boolean;
  done: Promise<void>;
}

export interface Outcome {
  running: Running;
  ok: boolean;
  error?: unknown;
  failure?: Failure;
}

/**
 * What a finished job's handler left to record: success, or a failed attempt with its retry
 * delay (none when shutdown aborted it: it runs again as soon as a worker is free).
 */
export function toOutcome(r: Running, outcome: RunOutcome, def: TaskDefinition | undefined): Outcome {
  if (outcome.ok) return { running: r, ok: true };
  const { message, stack } = describeError(outcome.error);
  const delayMs = r.stopping ? 0 : retryDelay(def?.backoff, r.job.attempts, outcome.error);
  return {
    running: r,
    ok: false,
    error: outcome.error,
    failure: { id: r.job.id, message, stack, delayMs, permanent: outcome.permanent },
  };
}

/** Groups finished jobs for one cycle statement: ids to delete, failures, per-queue counts. */
export function finishBatch(batch: Outcome[]): FinishBatch {
  const perQueue = new Map<string, { completed: number; failed: number }>();
  const succeeded: string[] = [];
  const failures: Failure[] = [];
  for (const o of batch) {
    const c = perQueue.get(o.running.job.queue) ?? { completed: 0, failed: 0 };
    if (o.failure) {
      failures.push(o.failure);
      c.failed++;
    } else {
      succeeded.push(o.running.job.id);
      c.completed++;
    }
    perQueue.set(o.running.job.queue, c);
  }
  return { succeeded, failures, perQueue };
}

export async function missingTask(
  job: Job,
): Promise<{ ok: false; error: Error; timedOut: false; permanent: false }> {
  // Claims only ask for known tasks, so this needs a task map changed under a running worker.
  return {
    ok: false,
    error: new Error(`no handler for task ${job.task}`),
    timedOut: false,
    permanent: false,
  };
}
