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
 * Every schedule, with the state of its last job. A last job is one primary-key lookup in the
 * live table, and one in the history once it has finished, a few at a time. A finished job's
 * outcome does not change until someone retries or deletes it, so it is remembered for
 * FINISHED_TTL_MS: a page that refreshes every few seconds looks up only the jobs that are
 * still live or new since the last refresh.
 */
export function scheduleSource(queue: QueueAdmin): () => Promise<ScheduleSummary[]> {
  const finished = new Map<string, { state: LastJobState; at: number }>();

  async function lastJobState(id: string): Promise<LastJobState> {
    const known = finished.get(id);
    if (known && Date.now() - known.at < FINISHED_TTL_MS) return known.state;
    const job = await queue.getJob(id);
    const state: LastJobState = job ? job.state : 'gone';
    if (FINAL.has(state)) {
      finished.delete(id);
      finished.set(id, { state, at: Date.now() });
      // Oldest first in a Map: drop the oldest entries past the bound.
      for (const key of finished.keys()) {
        if (finished.size <= FINISHED_MAX) break;
        finished.delete(key);
      }
    }
    return state;
  }

  return async () => {
    const schedules = await queue.listSchedules();
    const out: ScheduleSummary[] = [];
    for (let i = 0; i < schedules.length; i += LOOKUPS) {
      const batch = schedules.slice(i, i + LOOKUPS);
      out.push(...(await Promise.all(batch.map((s) => summarize(s, lastJobState)))));
    }
    return out;
  };
}

type LastJobState = JobState | 'gone';

/** States a job leaves only by a retry or a delete. */
const FINAL = new Set<LastJobState>(['completed', 'cancelled', 'gone']);
/** How long a finished last job's outcome is reused: a retry or delete shows within this. */
const FINISHED_TTL_MS = 30_000;
const FINISHED_MAX = 10_000;
/** Last-job lookups in flight at once: keeps one page load from taking the whole pool. */
const LOOKUPS = 4;

async function summarize(
  s: ListedSchedule,
  lastJobState: (id: string) => Promise<LastJobState>,
): Promise<ScheduleSummary> {
  const lastJob = s.lastJobId === null ? null : { id: s.lastJobId, state: await lastJobState(s.lastJobId) };
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
