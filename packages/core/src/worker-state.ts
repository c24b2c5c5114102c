import { retryDelay } from './backoff.js';
import type { Failure, FinishBatch } from './claimer.js';
import { durationBucket, emptyHistogram } from './durations.js';
import { JobCancelledError } from './errors.js';
import { describeError, type RunOutcome } from './run-job.js';
import type { Job, TaskDefinition } from './types.js';

export interface WorkerEvents {
  started: (event: { job: Job }) => void;
  /** `result` is what the handler returned (undefined when nothing). */
  completed: (event: { job: Job; durationMs: number; result: unknown }) => void;
  /** The job was cancelled (`cancelJob`) while it ran, or claimed after a cancel request; not retried. */
  cancelled: (event: { job: Job; error: unknown }) => void;
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
  /** Completed: the result as JSON text (null for none). */
  result?: string | null;
  /** The job was cancelled: it leaves the queue with outcome 'cancelled', not retried. */
  cancelled?: boolean;
  error?: unknown;
  failure?: Failure;
  /** How long the handler ran, in ms. */
  durationMs: number;
}

/**
 * What a finished job's handler left to record: success, or a failed attempt with its retry
 * delay (none when shutdown aborted it: it runs again as soon as a worker is free).
 */
export function toOutcome(r: Running, outcome: RunOutcome, def: TaskDefinition | undefined): Outcome {
  const durationMs = performance.now() - r.startedAt;
  if (outcome.ok) return { running: r, ok: true, result: outcome.result, durationMs };
  // Cancelled while it ran: whatever the handler threw once its signal was aborted for it.
  const reason: unknown = r.controller.signal.aborted ? r.controller.signal.reason : undefined;
  if (reason instanceof JobCancelledError || outcome.error instanceof JobCancelledError) {
    return { running: r, ok: false, cancelled: true, error: reason ?? outcome.error, durationMs };
  }
  const { message, stack } = describeError(outcome.error);
  const delayMs = r.stopping ? 0 : retryDelay(def?.backoff, r.job.attempts, outcome.error);
  return {
    running: r,
    ok: false,
    error: outcome.error,
    failure: { id: r.job.id, message, stack, delayMs, permanent: outcome.permanent },
    durationMs,
  };
}

/**
 * Groups finished jobs for one cycle statement: jobs leaving the queue (completed with their
 * results, or cancelled), failed attempts, and per-queue counts and run-duration histograms.
 */
export function finishBatch(batch: Outcome[]): FinishBatch {
  const perQueue: FinishBatch['perQueue'] = new Map();
  const leaving: FinishBatch['leaving'] = { ids: [], results: [], cancelled: [] };
  const failures: Failure[] = [];
  for (const o of batch) {
    let c = perQueue.get(o.running.job.queue);
    if (!c) {
      c = { completed: 0, failed: 0, durations: emptyHistogram() };
      perQueue.set(o.running.job.queue, c);
    }
    if (o.failure) {
      failures.push(o.failure);
      c.failed++;
    } else {
      leaving.ids.push(o.running.job.id);
      leaving.results.push(o.result ?? null);
      leaving.cancelled.push(o.cancelled === true);
      if (o.ok) {
        c.completed++;
        const b = durationBucket(o.durationMs);
        c.durations[b] = (c.durations[b] ?? 0) + 1;
      }
    }
  }
  return { leaving, failures, perQueue };
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

/** A job claimed with a cancel request pending (its earlier holder died before it heard). */
export async function cancelledBeforeStart(job: Job): Promise<RunOutcome> {
  return { ok: false, error: new JobCancelledError(job.id), timedOut: false, permanent: true };
}
