import type { JobState, ListedSchedule, QueueAdmin } from '@queue/core';
import { BadRequestError } from '../errors.js';

/** A schedule as the Schedules page shows it. */
export interface ScheduleSummary {
  /** The schedule's name, as `id` so the page can key its rows by it. */
  id: string;
  name: string;
  task: string;
  /** The queue its next job goes to (its override, else its task's, else 'default'). */
  queue: string;
  /** True when `queue` is the schedule's own override rather than the task's. */
  queueOverride: boolean;
  cron: string | null;
  /** Interval in milliseconds, for an interval schedule. */
  every: number | null;
  timeZone: string;
  pausedAt: Date | null;
  nextRunAt: Date;
  lastRunAt: Date | null;
  /**
   * The job its last tick (or run now) inserted: its live state, or its outcome from the
   * history; state 'gone' when neither holds it any more (deleted, or past retention).
   */
  lastJob: { id: string; state: JobState | 'gone' } | null;
  /** Why no live worker would run its jobs; null when one would. */
  unrouted: string | null;
}

/**
 * Every schedule, with the state of its last job. Each last job is one primary-key lookup in
 * the live table, and one in the history when it has finished: a page of schedules costs a
 * query or two per schedule, looked up a few at a time.
 */
export async function listSchedules(queue: QueueAdmin): Promise<ScheduleSummary[]> {
  const schedules = await queue.listSchedules();
  const out: ScheduleSummary[] = [];
  for (let i = 0; i < schedules.length; i += LOOKUPS) {
    const batch = schedules.slice(i, i + LOOKUPS);
    out.push(...(await Promise.all(batch.map((s) => summarize(queue, s)))));
  }
  return out;
}

/** Last-job lookups in flight at once: keeps one page load from taking the whole pool. */
const LOOKUPS = 4;

async function summarize(queue: QueueAdmin, s: ListedSchedule): Promise<ScheduleSummary> {
  let lastJob: ScheduleSummary['lastJob'] = null;
  if (s.lastJobId !== null) {
    const job = await queue.getJob(s.lastJobId);
    lastJob = { id: s.lastJobId, state: job ? job.state : 'gone' };
  }
  return {
    id: s.name,
    name: s.name,
    task: s.task,
    queue: s.jobQueue,
    queueOverride: s.queue !== null,
    cron: s.cron,
    every: s.every,
    timeZone: s.timeZone,
    pausedAt: s.pausedAt,
    nextRunAt: s.nextRunAt,
    lastRunAt: s.lastRunAt,
    lastJob,
    unrouted: s.unrouted?.message ?? null,
  };
}

/** A schedule name from the URL: 1 to 128 characters, as core allows. */
export function parseScheduleName(raw: string | undefined): string {
  if (!raw || raw.length > 128) {
    throw new BadRequestError('schedule name must be 1 to 128 characters (URL-encoded in the path)');
  }
  return raw;
}
