import type { FinishedJob, QueueAdmin } from '@queue/core';
import { clip } from './preview.js';
import { type ProgressView, progressView } from './progress.js';

/** Characters of a result a job's page shows: results may be up to 1 MiB, a page refreshes every few seconds. */
export const RESULT_PAGE = 64 * 1024;

/** What the job's page shows of a completed or cancelled job, besides the job itself. */
export interface FinishedView {
  outcome: 'completed' | 'cancelled';
  finishedAt: Date;
  /** Finished minus the start of the last attempt; null for a job cancelled before it ran. */
  durationMs: number | null;
  /** The handler's return value as pretty JSON, cut at RESULT_PAGE characters; null when it returned nothing. */
  result: { text: string; chars: number; truncated: boolean } | null;
  /** The last progress the handler reported. */
  progress: ProgressView | null;
  /**
   * The worker that ran the last attempt: its id, and its host and Node pid while it is still
   * live (its row in the workers table goes when it stops).
   */
  worker: { id: string; host: string | null; pid: number | null } | null;
}

export function isFinished(job: object): job is FinishedJob {
  return 'outcome' in job && 'finishedAt' in job;
}

/** How long a finished job's last attempt ran; null when it never started. */
export function durationOf(job: { startedAt: Date | null; finishedAt: Date }): number | null {
  return job.startedAt === null
    ? null
    : Math.max(0, new Date(job.finishedAt).getTime() - new Date(job.startedAt).getTime());
}

/** JSON of a value for a page: pretty, and cut (on a character boundary) when long. */
export function prettyClip(value: unknown, max: number): { text: string; chars: number; truncated: boolean } {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  const cut = clip(text, max);
  return { text: cut, chars: text.length, truncated: cut.length < text.length };
}

export async function finishedView(queue: QueueAdmin, job: FinishedJob): Promise<FinishedView> {
  let worker: FinishedView['worker'] = null;
  if (job.worker) {
    const live = (await queue.workers()).find((w) => w.id === job.worker);
    worker = { id: job.worker, host: live?.host ?? null, pid: live?.pid ?? null };
  }
  return {
    outcome: job.outcome,
    finishedAt: job.finishedAt,
    durationMs: durationOf(job),
    result: job.result === null || job.result === undefined ? null : prettyClip(job.result, RESULT_PAGE),
    progress: progressView(job.progress),
    worker,
  };
}
