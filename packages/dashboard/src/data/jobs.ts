import type { Job, JobState, QueueAdmin } from '@queue/core';
import { NotFoundError } from '../errors.js';
import { durationOf, isFinished } from './finished.js';
import { isHistoryState, type ListQuery } from './list-query.js';
import { clip, ERROR_PREVIEW, preview } from './preview.js';

export interface JobSummary {
  id: string;
  queue: string;
  task: string;
  state: JobState;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  failedAt: Date | null;
  createdAt: Date;
  /** When the current or last attempt started; null before the first. */
  startedAt: Date | null;
  payloadPreview: string;
  lastError: string | null;
  errorCount: number;
  tags: string[];
  /** Completed and cancelled jobs (from the history): when, how long the last attempt ran, and who ran it. */
  finishedAt?: Date;
  durationMs?: number | null;
  worker?: string | null;
  /** "worker web-1 pid 4242" while that worker is live; null once it has stopped. */
  workerLabel?: string | null;
  /** The start of the result's JSON (completed jobs); null when the handler returned nothing. */
  resultPreview?: string | null;
}

export interface JobPage {
  jobs: JobSummary[];
  /**
   * The next page of older jobs, or null at the end: an id (`before`) for live jobs, core's
   * cursor (`cursor`) for the history.
   */
  older: string | null;
  /** Live jobs: the previous page of newer jobs (`after`), or null at the start; the history pages forward only. */
  newer: string | null;
}

/**
 * One page of jobs, newest first, from core's listJobs. Live jobs are keyset-paged by id both
 * ways (`before` older, `after` newer): a page is an index range scan at any table size. The
 * history (completed, cancelled) is ordered by finish time and paged forward with core's
 * cursor, an index walk of the newest hourly partitions. Payloads, results and errors are
 * cut to a preview before they go out.
 */
export async function listJobs(queue: QueueAdmin, query: ListQuery): Promise<JobPage> {
  const filter = {
    ...(query.state === 'all' ? {} : { state: query.state }),
    ...(query.queue === null ? {} : { queue: query.queue }),
    ...(query.task === null ? {} : { task: query.task }),
    ...(query.tags.length === 0 ? {} : { tag: query.tags }),
    ...(query.search === null ? {} : { search: query.search }),
    limit: query.limit,
  };
  if (isHistoryState(query.state) || query.cursor !== null) {
    const rows = await queue.listJobs({
      ...filter,
      ...(query.cursor ? { cursor: query.cursor } : { order: 'desc' }),
    });
    return { jobs: await summaries(queue, rows), older: rows.cursor, newer: null };
  }
  const direction = query.after ? 'newer' : 'older';
  const rows =
    direction === 'older'
      ? await queue.listJobs({ ...filter, order: 'desc', ...(query.before ? { before: query.before } : {}) })
      : await queue.listJobs({ ...filter, order: 'asc', after: query.after! });
  const more = rows.cursor !== null;
  const page = await summaries(queue, rows);
  if (direction === 'newer') page.reverse();
  const first = page[0]?.id ?? null;
  const last = page.at(-1)?.id ?? null;
  if (direction === 'older') {
    return { jobs: page, older: more ? last : null, newer: query.before ? first : null };
  }
  // Paging back towards newer jobs: the page we came from is older than this one.
  return { jobs: page, older: last, newer: more ? first : null };
}

async function summaries(queue: QueueAdmin, jobs: (Job & { state: JobState })[]): Promise<JobSummary[]> {
  const workers = await workerLabels(queue, jobs);
  return jobs.map((j) => toSummary(j, workers));
}

/** "worker <host> pid <pid>" by worker id, for the live workers that ran some of these finished jobs. */
async function workerLabels(queue: QueueAdmin, jobs: object[]): Promise<Map<string, string>> {
  if (!jobs.some((j) => isFinished(j) && j.worker)) return new Map();
  return new Map((await queue.workers()).map((w) => [w.id, `worker ${w.host} pid ${w.pid}`]));
}

function toSummary(job: Job & { state: JobState }, workers: Map<string, string>): JobSummary {
  const lastError = job.errors.at(-1)?.message;
  const finished = isFinished(job)
    ? {
        finishedAt: job.finishedAt,
        durationMs: durationOf(job),
        worker: job.worker,
        workerLabel: job.worker ? (workers.get(job.worker) ?? null) : null,
        resultPreview: job.result === null || job.result === undefined ? null : preview(job.result),
      }
    : {};
  return {
    id: job.id,
    queue: job.queue,
    task: job.task,
    state: job.state,
    priority: job.priority,
    runAt: job.runAt,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    failedAt: job.failedAt,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    payloadPreview: preview(job.payload),
    lastError: lastError === undefined ? null : clip(String(lastError), ERROR_PREVIEW),
    errorCount: job.errors.length,
    tags: job.tags ?? [],
    ...finished,
  };
}

export async function getJob(queue: QueueAdmin, id: string): Promise<Job & { state: JobState }> {
  const job = await queue.getJob(id);
  if (!job)
    throw new NotFoundError(
      `no job with id ${id}: it was deleted, or it completed or was cancelled and its queue keeps no history of it`,
      'QUEUE_JOB_NOT_FOUND',
    );
  return job;
}
