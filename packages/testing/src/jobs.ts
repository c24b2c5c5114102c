import { type Job, type Queryable, type Queue, queueTables } from '@queue/core';

/** States a job in the jobs table can be in; `available` includes a running one. */
export type LiveState = 'available' | 'scheduled' | 'failed';

export const LIVE_STATES: readonly LiveState[] = ['available', 'scheduled', 'failed'];

/** A job as it is in the jobs table now, with its state. */
export type EnqueuedJob<Payload = unknown, Task extends string = string> = Job<Payload, Task> & {
  state: LiveState;
};

/**
 * The jobs of `task` (every task when undefined) in the jobs table, oldest first, read with
 * `db` (the queue's pool, or a client inside a test transaction that sees its own uncommitted
 * jobs). Completed and cancelled jobs have left the table and are not here.
 */
export async function readJobs(
  queue: Queue<any>,
  task: string | undefined,
  db?: Queryable,
): Promise<EnqueuedJob[]> {
  const { jobs } = queueTables(queue);
  const { rows } = await (db ?? queue.pool).query(
    `SELECT id::text, task, queue, payload, priority, run_at, attempts, max_attempts, errors,
       failed_at, created_at, started_at, tags, meta,
       CASE WHEN failed_at IS NOT NULL THEN 'failed' WHEN run_at > now() THEN 'scheduled' ELSE 'available' END AS state
     FROM ${jobs} WHERE $1::text IS NULL OR task = $1::text ORDER BY id`,
    [task ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    task: r.task,
    queue: r.queue,
    payload: r.payload,
    priority: r.priority,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    errors: r.errors,
    failedAt: r.failed_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
    tags: r.tags,
    meta: r.meta,
    state: r.state,
  }));
}
