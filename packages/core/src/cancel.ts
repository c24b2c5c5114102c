import { InvalidOptionError, JobFinishedError, JobNotFoundError, JobRunningError } from './errors.js';
import { parseJobId } from './job-id.js';
import type { Logger } from './logger.js';
import { checkQueueName, show } from './options.js';
import { cancelJobSql, cancelJobsSql, cancelledWhySql, cancelRequestedSql } from './sql/cancel.js';
import type { Names } from './sql/names.js';
import { toJob } from './sql/rows.js';
import type { Job, Queryable } from './types.js';

/**
 * What cancelJob() did. `cancelled`: the job was queued (available, scheduled or waiting for a
 * retry); it is gone from the queue and, if its queue keeps history, recorded with the outcome
 * 'cancelled'. `cancelling`: a worker runs it; that worker has been told to abort the handler's
 * signal with a JobCancelledError, and records the outcome when the handler returns.
 */
export type CancelResult = { state: 'cancelled'; job: Job } | { state: 'cancelling'; job: Job };

export interface CancelJobsFilter {
  queue?: string;
  task?: string;
}

/** Jobs per statement of a bulk cancel: each holds a transaction lock per job until it commits. */
const BATCH = 1_000;

/**
 * Cancels one job (see cancelJobSql). When nothing matched, a second look says why: failed
 * for good or finished (JobFinishedError), gone (JobNotFoundError), or back in the queue (a
 * concurrent retry of a failed job made it live again: try again).
 */
export async function cancelJob(db: Queryable, names: Names, id: string | bigint): Promise<CancelResult> {
  const key = parseJobId(id);
  for (let tries = 0; tries < 3; tries++) {
    const { rows } = await db.query(cancelJobSql(names), [key]);
    if (rows[0]) return { state: rows[0].state, job: toJob(rows[0]) };
    const why = (await db.query(cancelledWhySql(names), [key])).rows[0]?.outcome as string | undefined;
    if (why === undefined) throw new JobNotFoundError(key);
    if (why !== 'live') throw new JobFinishedError(key, why as 'failed' | 'completed' | 'cancelled');
  }
  // Retried and failed again three times while we looked: vanishingly rare, and a fresh call settles it.
  throw new JobRunningError(key);
}

/**
 * Cancels every queued job (available, scheduled or waiting for a retry) of a queue and/or
 * task, in batches of 1,000 (one statement and transaction each); returns how many. Jobs a
 * worker runs are left alone (cancel them with cancelJob()), failed-for-good ones too.
 */
export async function cancelJobs(db: Queryable, names: Names, filter: CancelJobsFilter): Promise<number> {
  if (filter === null || typeof filter !== 'object') {
    throw new InvalidOptionError('filter', `must be an object { queue?, task? }, got ${show(filter)}`);
  }
  const queue = filter.queue === undefined ? null : checkQueueName('queue', filter.queue);
  const task = filter.task === undefined ? null : checkTask(filter.task);
  let cancelled = 0;
  for (let after = '0'; ; ) {
    const { rows } = await db.query(cancelJobsSql(names), [queue, task, after, BATCH]);
    cancelled += rows[0].cancelled;
    if (rows[0].scanned < BATCH) return cancelled;
    after = rows[0].last;
  }
}

/**
 * After the worker's listener connects again, cancel requests sent while it was away were
 * missed: look up which of its running jobs have one, and hand them to `abort`. Best effort:
 * a failed look-up is logged, and the next reconnect looks again.
 */
export async function recheckCancels(
  listener: { query(text: string, values: unknown[]): Promise<{ rows: { id: string }[] }> },
  names: Names,
  running: Iterable<string>,
  abort: (id: string) => void,
  logger: Logger,
): Promise<void> {
  const ids = [...running];
  if (ids.length === 0) return;
  try {
    const { rows } = await listener.query(cancelRequestedSql(names), [ids]);
    for (const r of rows) abort(r.id);
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'could not look for cancel requests missed while away');
  }
}

function checkTask(task: unknown): string {
  if (typeof task !== 'string' || task.length === 0 || task.length > 128) {
    throw new InvalidOptionError('task', `must be a task name of 1 to 128 characters, got ${show(task)}`);
  }
  return task;
}
