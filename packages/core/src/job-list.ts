import { InvalidOptionError } from './errors.js';
import { parseJobId } from './job-id.js';
import { checkInt, show } from './options.js';
import { getJobSql } from './sql/admin.js';
import { getFinishedJobSql, type ListQuery, listJobsSql } from './sql/list.js';
import type { Names } from './sql/names.js';
import { type JobRecord, toJob } from './sql/rows.js';
import { checkTagFilter, encodeSearch } from './tags-meta.js';
import type { FinishedJob, Job, JobOutcome, JobState, Queryable } from './types.js';

export interface ListJobsOptions {
  /**
   * A live state ('available', 'scheduled', 'running', 'failed'), or 'completed' or
   * 'cancelled' to list the history (kept per the queue's retention). Default: every live job.
   */
  state?: JobState;
  queue?: string;
  task?: string;
  /** Jobs having this tag; given several, jobs having all of them. */
  tag?: string | string[];
  /** A JSON object: jobs whose payload or meta contains it (jsonb `@>`), e.g. `{ userId: 42 }`. */
  search?: Record<string, unknown>;
  /** A JSON object: jobs whose meta contains it. Unlike `search`, served by an index. */
  meta?: Record<string, unknown>;
  /**
   * 'asc' (the default) or 'desc'. Live jobs are ordered by id (enqueue order), the history by
   * when each job finished, then id.
   */
  order?: 'asc' | 'desc';
  /**
   * The `cursor` of the previous page, with the same filters: the next page, in the same order.
   * Opaque; it holds the last row's sort key, so rows written meanwhile never shift a page.
   */
  cursor?: string;
  /** Live jobs, order 'asc': only jobs with a larger id (paging by id, before `cursor` existed). */
  after?: string;
  /** Live jobs, order 'desc': only jobs with a smaller id. */
  before?: string;
  /** Default 50, at most 1,000. */
  limit?: number;
}

/** A job as getJob() and listJobs() return it: live, or finished (from the history). */
export type ListedJob = (Job & { state: JobState }) | (FinishedJob & { state: JobOutcome });

/**
 * One page of listJobs(): an array of jobs that also carries `cursor` (a non-enumerable
 * property), to pass as the option of the same name for the next page; null when this page is
 * the last.
 */
export type JobList = ListedJob[] & { cursor: string | null };

const LIVE: readonly JobState[] = ['available', 'scheduled', 'running', 'failed'];
const FINISHED: readonly JobState[] = ['completed', 'cancelled'];

/** What a cursor holds: the table, the order, and the last row's sort key. */
interface Cursor {
  history: boolean;
  desc: boolean;
  id: string;
  finishedAt?: string;
}

/** One page; the statement fetches one row more than the page, to know whether another follows. */
export async function listJobs(db: Queryable, names: Names, options: ListJobsOptions): Promise<JobList> {
  const query = checkListOptions(options);
  const { text, values } = listJobsSql(names, query);
  const { rows } = await db.query(text, values);
  const size = query.limit - 1;
  const page = rows.slice(0, size).map(toListed);
  const last = rows.length > size ? rows[size - 1] : undefined;
  const cursor = last
    ? encodeCursor({ history: query.history, desc: query.desc, id: last.id, finishedAt: last.finished_key })
    : null;
  // Not enumerable: the page still compares, prints and serialises as the plain array
  // listJobs() returned before it had a cursor.
  return Object.defineProperty(page, 'cursor', { value: cursor, enumerable: false }) as JobList;
}

/**
 * A live job, else the latest history row with that id, else null. Two statements, the second
 * only for a job not in the live table: a job leaves it only for the history, in one
 * transaction, so one that the first misses because it has just finished is in the second.
 */
export async function getJob(db: Queryable, names: Names, id: unknown): Promise<ListedJob | null> {
  const key = parseJobId(id);
  const live = (await db.query(getJobSql(names), [key])).rows[0];
  if (live) return { ...toJob(live), state: live.state };
  const finished = (await db.query(getFinishedJobSql(names), [key])).rows[0];
  return finished ? toListed(finished) : null;
}

interface ListedRecord extends JobRecord {
  state: JobState;
  outcome?: JobOutcome;
  result?: unknown;
  progress?: unknown;
  finished_at?: number;
  worker?: string | null;
  finished_key?: string;
}

function toListed(r: ListedRecord): ListedJob {
  if (r.outcome === undefined) return { ...toJob(r), state: r.state };
  return {
    ...toJob(r),
    state: r.outcome,
    outcome: r.outcome,
    result: r.result ?? null,
    progress: r.progress ?? null,
    finishedAt: new Date(r.finished_at as number),
    worker: r.worker ?? null,
  };
}

function checkListOptions(options: ListJobsOptions): ListQuery {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `must be an object, got ${show(options)}`);
  }
  const limit = checkInt('limit', options.limit ?? 50, 1, 1000);
  const { state, order } = options;
  if (state !== undefined && !LIVE.includes(state) && !FINISHED.includes(state)) {
    throw new InvalidOptionError(
      'state',
      `must be one of ${[...LIVE, ...FINISHED].join(', ')}, got ${show(state)}`,
    );
  }
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new InvalidOptionError('order', `must be 'asc' or 'desc', got ${show(order)}`);
  }
  const history = state !== undefined && FINISHED.includes(state);
  const cursor = options.cursor === undefined ? null : decodeCursor(options.cursor);
  let desc = order === 'desc';
  let after: ListQuery['after'] = null;
  if (cursor) {
    if (options.after !== undefined || options.before !== undefined) {
      throw new InvalidOptionError('cursor', 'give cursor, or after/before, not both');
    }
    if (cursor.history !== history) {
      throw new InvalidOptionError(
        'cursor',
        `it pages ${cursor.history ? 'the history' : 'live jobs'}; pass the same filters (state) as for the first page`,
      );
    }
    if (order !== undefined && desc !== cursor.desc) {
      throw new InvalidOptionError(
        'order',
        `does not match the cursor's order ('${cursor.desc ? 'desc' : 'asc'}')`,
      );
    }
    desc = cursor.desc;
    after = { id: cursor.id, ...(cursor.finishedAt === undefined ? {} : { finishedAt: cursor.finishedAt }) };
  } else {
    const [given, other] = desc ? (['before', 'after'] as const) : (['after', 'before'] as const);
    if (options[other] !== undefined) {
      throw new InvalidOptionError(other, `does not go with order '${desc ? 'desc' : 'asc'}'`);
    }
    if (options[given] !== undefined) {
      if (history) {
        throw new InvalidOptionError(given, 'pages live jobs by id; page the history with cursor');
      }
      after = { id: parseJobId(options[given], given) };
    }
  }
  return {
    state: state ?? null,
    history,
    queue: options.queue === undefined ? null : checkName('queue', options.queue),
    task: options.task === undefined ? null : checkName('task', options.task),
    tags: checkTagFilter(options.tag),
    search: encodeSearch('search', options.search),
    meta: encodeSearch('meta', options.meta),
    desc,
    after,
    limit: limit + 1,
  };
}

function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new InvalidOptionError(option, `must be a name of 1 to 128 characters, got ${show(value)}`);
  }
  return value;
}

/** base64url of a small JSON array: [version, history, desc, id, finishedAt?]. */
function encodeCursor(c: Cursor): string {
  const parts: unknown[] = [1, c.history ? 1 : 0, c.desc ? 1 : 0, c.id];
  if (c.history) parts.push(c.finishedAt);
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(value: unknown): Cursor {
  const bad = () =>
    new InvalidOptionError('cursor', `must be the cursor of a previous listJobs() page, got ${show(value)}`);
  if (typeof value !== 'string' || value.length > 200) throw bad();
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(value, 'base64url').toString());
  } catch {
    throw bad();
  }
  if (!Array.isArray(parts) || parts[0] !== 1) throw bad();
  const [, history, desc, id, finishedAt] = parts;
  if ((history !== 0 && history !== 1) || (desc !== 0 && desc !== 1) || typeof id !== 'string') throw bad();
  if (history === 1 && (typeof finishedAt !== 'string' || !ISO_MICROS.test(finishedAt))) throw bad();
  return {
    history: history === 1,
    desc: desc === 1,
    id: parseJobId(id, 'cursor'),
    ...(history === 1 ? { finishedAt: finishedAt as string } : {}),
  };
}
