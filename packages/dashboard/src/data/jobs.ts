import { type Job, type JobState, parseJobId, type QueueAdmin } from '@queue/core';
import { BadRequestError, NotFoundError } from '../errors.js';
import { durationOf, isFinished } from './finished.js';
import { clip, ERROR_PREVIEW, preview } from './preview.js';

/** The list's state filter: one of core's job states, or every job. */
export type StateFilter = JobState | 'all';

export const STATE_FILTERS: readonly StateFilter[] = ['all', 'available', 'scheduled', 'running', 'failed'];

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
  /** Cursor for the next page of older jobs (`before`), or null at the end. */
  older: string | null;
  /** Cursor for the previous page of newer jobs (`after`), or null at the start. */
  newer: string | null;
}

export interface ListQuery {
  state: StateFilter;
  queue: string | null;
  task: string | null;
  before: string | null;
  after: string | null;
  limit: number;
}

/** A job id from a URL, by core's parser: a positive bigint as decimal digits, or a 400 naming what was sent. */
export function parseId(value: string | null | undefined, what = 'job id'): string {
  try {
    return parseJobId(value ?? '', what);
  } catch {
    throw new BadRequestError(`${what} must be a positive integer, got ${JSON.stringify(value ?? '')}`);
  }
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const state = (q.get('state') || 'all') as StateFilter;
  if (!STATE_FILTERS.includes(state)) {
    throw new BadRequestError(
      `state must be one of ${STATE_FILTERS.join(', ')}, got ${JSON.stringify(state)}`,
    );
  }
  const before = q.get('before') ? parseId(q.get('before'), 'before') : null;
  const after = q.get('after') ? parseId(q.get('after'), 'after') : null;
  if (before && after) throw new BadRequestError('give `before` or `after`, not both');
  const limit = q.get('limit') ? Number(q.get('limit')) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new BadRequestError(
      `limit must be an integer from 1 to 200, got ${JSON.stringify(q.get('limit'))}`,
    );
  }
  return {
    state,
    queue: name(q.get('queue'), 'queue'),
    task: name(q.get('task'), 'task'),
    before,
    after,
    limit,
  };
}

function name(value: string | null, what: string): string | null {
  if (!value) return null;
  if (value.length > 128) throw new BadRequestError(`${what} must be at most 128 characters`);
  return value;
}

/**
 * One page of jobs, newest first, from core's listJobs: keyset on the primary key, so a page
 * is an index range scan at any table size. One more row than the page is asked for, to know
 * whether there is a next page. Payloads and errors are cut to a preview before they go out.
 */
export async function listJobs(queue: QueueAdmin, query: ListQuery): Promise<JobPage> {
  const direction = query.after ? 'newer' : 'older';
  const filter = {
    ...(query.state === 'all' ? {} : { state: query.state }),
    ...(query.queue === null ? {} : { queue: query.queue }),
    ...(query.task === null ? {} : { task: query.task }),
    limit: query.limit + 1,
  };
  const rows =
    direction === 'older'
      ? await queue.listJobs({ ...filter, order: 'desc', ...(query.before ? { before: query.before } : {}) })
      : await queue.listJobs({ ...filter, order: 'asc', after: query.after! });
  const more = rows.length > query.limit;
  const kept = rows.slice(0, query.limit);
  const workers = await workerLabels(queue, kept);
  const page = kept.map((j) => toSummary(j, workers));
  if (direction === 'newer') page.reverse();
  const first = page[0]?.id ?? null;
  const last = page.at(-1)?.id ?? null;
  if (direction === 'older') {
    return { jobs: page, older: more ? last : null, newer: query.before ? first : null };
  }
  // Paging back towards newer jobs: the page we came from is older than this one.
  return { jobs: page, older: last, newer: more ? first : null };
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
