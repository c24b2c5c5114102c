import type { Job, JobState, Queue } from '@queue/core';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { listSql, runNowSql, STATE_FILTERS, type StateFilter, wakeSql } from './sql.js';

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
  payloadPreview: string;
  lastError: string | null;
  errorCount: number;
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

const ID = /^[1-9][0-9]{0,18}$/;

/** A job id from a URL: a positive bigint as decimal digits, or a 400 naming what was sent. */
export function parseId(value: string | null | undefined, what = 'job id'): string {
  if (value == null || !ID.test(value) || BigInt(value) > 9223372036854775807n) {
    throw new BadRequestError(`${what} must be a positive integer, got ${JSON.stringify(value ?? '')}`);
  }
  return value;
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const state = (q.get('state') || 'all') as StateFilter;
  if (!Object.hasOwn(STATE_FILTERS, state)) {
    throw new BadRequestError(
      `state must be one of ${Object.keys(STATE_FILTERS).join(', ')}, got ${JSON.stringify(state)}`,
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

/** One page of jobs, newest first, by keyset on the id: bounded work at any table size. */
export async function listJobs(queue: Queue<any>, query: ListQuery): Promise<JobPage> {
  const direction = query.after ? 'newer' : 'older';
  const cursor = query.after ?? query.before;
  const { rows } = await queue.pool.query(listSql(queue.names, query.state, direction), [
    query.queue,
    query.task,
    cursor,
    query.limit + 1,
  ]);
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit).map(toSummary);
  if (direction === 'newer') page.reverse();
  const first = page[0]?.id ?? null;
  const last = page.at(-1)?.id ?? null;
  if (direction === 'older') {
    return { jobs: page, older: more ? last : null, newer: query.before ? first : null };
  }
  // Paging back towards newer jobs: the page we came from is older than this one.
  return { jobs: page, older: last, newer: more ? first : null };
}

function toSummary(r: any): JobSummary {
  return {
    id: r.id,
    queue: r.queue,
    task: r.task,
    state: r.state,
    priority: r.priority,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    failedAt: r.failed_at,
    createdAt: r.created_at,
    payloadPreview: r.payload_preview,
    lastError: r.last_error,
    errorCount: r.error_count,
  };
}

export async function getJob(queue: Queue<any>, id: string): Promise<Job & { state: JobState }> {
  const job = await queue.getJob(id);
  if (!job)
    throw new NotFoundError(
      `no job with id ${id}: it may have completed or been deleted`,
      'QUEUE_JOB_NOT_FOUND',
    );
  return job;
}

/** Makes a scheduled job due now and wakes the workers of its queue; its attempts are kept. */
export async function runNow(queue: Queue<any>, id: string): Promise<{ queue: string }> {
  const { rows } = await queue.pool.query(runNowSql(queue.names), [id]);
  if (!rows[0]) {
    const job = await getJob(queue, id);
    if (job.state === 'running') {
      throw new ConflictError(
        'QUEUE_JOB_RUNNING',
        `job ${id} is running on a worker; try again when it has finished`,
      );
    }
    throw new ConflictError(
      'DASHBOARD_NOT_SCHEDULED',
      `job ${id} is ${job.state}, not scheduled: only a scheduled job can be run now`,
    );
  }
  await queue.pool.query(wakeSql(queue.names), [rows[0].queue]);
  return { queue: rows[0].queue };
}
