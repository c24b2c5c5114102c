import type { QueueAdmin } from '@queue/core';
import { preview } from './preview.js';
import { type ProgressView, progressView } from './progress.js';

export interface RunningJob {
  id: string;
  queue: string;
  task: string;
  priority: number;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  payloadPreview: string;
  /** The Postgres backend pid of the worker session holding the job's lock. */
  backendPid: number;
  /**
   * The worker: its host name and Node pid (null when its session registered no row, e.g. a
   * worker of an older @queue/core), and its session's name, address and start.
   */
  worker: {
    id: string | null;
    host: string | null;
    pid: number | null;
    applicationName: string | null;
    clientAddr: string | null;
    connectedAt: Date | null;
  };
  /** When the current attempt started (database clock); null for a job claimed before core recorded it. */
  startedAt: Date | null;
  /** How long the current attempt has run, by the database clock; null when `startedAt` is. */
  runningMs: number | null;
  /** The handler's last `ctx.progress()` value as written by its worker; null when none. */
  progress: ProgressView | null;
  /**
   * When someone asked to cancel the job (its worker is aborting it), when core tells:
   * `cancelRequestedAt` on a running job; null otherwise.
   */
  cancelRequestedAt: Date | null;
}

/**
 * More than any cluster runs at once: every running job is listed, so the overview can count
 * them per queue. Core's cap; a running job is one a worker's concurrency slot holds.
 */
const LIMIT = 10_000;

/**
 * The running jobs, longest-running first, from core's `runningJobs()` (the lock table joined
 * by primary key, with each attempt's start time and the worker's session), with payloads
 * cut to a preview.
 */
export async function runningJobs(queue: QueueAdmin): Promise<RunningJob[]> {
  // A job failing for good holds its lock until the worker's next flush: it is failed, not running.
  const jobs = (await queue.runningJobs({ limit: LIMIT })).filter((j) => j.failedAt === null);
  return jobs.map(
    (j): RunningJob => ({
      id: j.id,
      queue: j.queue,
      task: j.task,
      priority: j.priority,
      attempts: j.attempts,
      maxAttempts: j.maxAttempts,
      runAt: j.runAt,
      createdAt: j.createdAt,
      payloadPreview: preview(j.payload),
      backendPid: j.backendPid,
      worker: j.worker,
      startedAt: j.startedAt,
      runningMs: j.runningMs === null ? null : Math.max(0, Math.round(j.runningMs)),
      progress: progressView(j.progress),
      cancelRequestedAt: (j as { cancelRequestedAt?: Date | null }).cancelRequestedAt ?? null,
    }),
  );
}
