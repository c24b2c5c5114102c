/**
 * Live workers and the jobs none of them will run ("unrouted" jobs): the shapes the admin API
 * returns and the one rule that decides, shared by `unroutedJobs()`, `jobCounts()`,
 * `unroutedReason()` and the workers' periodic warning.
 */

/** A running worker, as its claimer session registered it. Live while that session lives. */
export interface LiveWorker {
  /** Random per Worker object; also names its rows in the per-minute statistics. */
  id: string;
  /** `os.hostname()` of the worker's process. */
  host: string;
  /** The Node process id (`process.pid`). */
  pid: number;
  /** The Postgres backend pid of its claimer session, the one holding its job locks. */
  backendPid: number;
  /** The queues it claims from, with their concurrency: `{ default: 8, crm: 2 }`. */
  queues: Record<string, number>;
  /** The tasks it has handlers for (it claims only these). */
  tasks: string[];
  /** When it first registered (database clock). */
  startedAt: Date;
}

/**
 * Why due jobs will not run: no live worker claims from their queue, or the workers that do
 * have no handler for their task.
 */
export type UnroutedReason = 'queue-not-served' | 'task-unknown';

export interface Unrouted {
  reason: UnroutedReason;
  /** In words: `no live worker serves queue "crm"` or `no live worker knows task "syncCrm" on queue "crm"`. */
  message: string;
}

/** Due jobs of one task on one queue that no live worker will run. */
export interface UnroutedJobs extends Unrouted {
  queue: string;
  task: string;
  /** Due jobs (run_at passed, not failed) of this task on this queue. */
  count: number;
  /** When the oldest of them became due. */
  oldestDueAt: Date;
  /** How long ago that was, by the database clock, when they were counted. */
  waitedMs: number;
}

/** Due jobs of one queue and task, as counted. */
export interface DueGroup {
  queue: string;
  task: string;
  count: number;
  oldestDueAt: Date;
  waitedMs: number;
}

const quote = (name: string) => JSON.stringify(name);

/** Whether some live worker will run jobs of `task` on `queue`: null if so, else why not. */
export function whyUnrouted(workers: readonly LiveWorker[], queue: string, task: string): Unrouted | null {
  const serving = workers.filter((w) => Object.hasOwn(w.queues, queue));
  if (serving.length === 0) {
    return { reason: 'queue-not-served', message: `no live worker serves queue ${quote(queue)}` };
  }
  if (!serving.some((w) => w.tasks.includes(task))) {
    return {
      reason: 'task-unknown',
      message: `no live worker knows task ${quote(task)} on queue ${quote(queue)}`,
    };
  }
  return null;
}

/**
 * The groups of due jobs no live worker will run, whose oldest job has been due for at least
 * `graceMs`, by queue then task.
 */
export function unrouted(
  groups: readonly DueGroup[],
  workers: readonly LiveWorker[],
  graceMs = 0,
): UnroutedJobs[] {
  const out: UnroutedJobs[] = [];
  for (const g of groups) {
    if (g.count === 0 || g.waitedMs < graceMs) continue;
    const why = whyUnrouted(workers, g.queue, g.task);
    if (why) out.push({ ...g, ...why });
  }
  return out.sort((a, b) => compare(a.queue, b.queue) || compare(a.task, b.task));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The warning a worker logs: `jobs nobody will run: 12 due jobs of task "syncCrm" on queue "default" (…); oldest due 3 min ago`. */
export function unroutedWarning(u: UnroutedJobs): string {
  const jobs = `${u.count} due job${u.count === 1 ? '' : 's'}`;
  return `jobs nobody will run: ${jobs} of task ${quote(u.task)} on queue ${quote(u.queue)} (${u.message}); oldest due ${ago(u.waitedMs)}`;
}

/** "45 s ago", "3 min ago", "5 h ago", "2 days ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/** A live worker from a row of liveWorkersSql, read as columns or from json_agg. */
export function toLiveWorker(r: {
  id: string;
  host: string;
  pid: number;
  backend_pid: number;
  queues: Record<string, number>;
  tasks: string[];
  started_at: Date | string;
}): LiveWorker {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    backendPid: r.backend_pid,
    queues: r.queues,
    tasks: r.tasks,
    startedAt: new Date(r.started_at),
  };
}

/** A group of due jobs from routingSql's json. */
export function toDueGroup(r: {
  queue: string;
  task: string;
  count: number;
  oldest_due: Date | string;
  waited_ms: number;
}): DueGroup {
  return {
    queue: r.queue,
    task: r.task,
    count: r.count,
    oldestDueAt: new Date(r.oldest_due),
    waitedMs: Math.max(0, r.waited_ms),
  };
}
