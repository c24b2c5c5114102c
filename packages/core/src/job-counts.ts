/** The overview counts of `jobCounts()`: per queue, from a cached scan plus what is read fresh. */
import type { Scan, ScanCounts } from './count-cache.js';
import type { Job } from './types.js';
import { type DueGroup, type LiveWorker, toDueGroup, type UnroutedJobs, unrouted } from './workers.js';

export interface QueueCounts {
  queue: string;
  available: number;
  scheduled: number;
  running: number;
  failed: number;
  /** Workers claim nothing from a paused queue. */
  paused: boolean;
}

/** Counts for an overview: running jobs and pauses fresh, the rest possibly from a cache. */
export interface JobCounts {
  /** Per queue; `unrouted` counts its due jobs that no live worker will run. */
  queues: (QueueCounts & { unrouted: number })[];
  /**
   * Which due jobs no live worker will run, and why, per queue and task: counted by the same
   * scan as available jobs, judged against the workers live now.
   */
  unrouted: UnroutedJobs[];
  /** When available, scheduled and failed were counted, and how long that scan took. */
  countedAt: Date;
  countMs: number;
}

/** Per queue, from the cached scan: counts, and the due jobs of each task. */
export type ScanRow = ScanCounts & { groups: DueGroup[] };

/** The scan's rows (one per queue and task, see scanCountsSql) summed per queue. */
export function scanRows(
  rows: (ScanCounts & { queue: string; task: string; oldest_due: Date; waited_ms: number })[],
): Map<string, ScanRow> {
  const byQueue = new Map<string, ScanRow>();
  for (const r of rows) {
    let c = byQueue.get(r.queue);
    if (!c) {
      c = { due: 0, scheduled: 0, failed: 0, groups: [] };
      byQueue.set(r.queue, c);
    }
    c.due += r.due;
    c.scheduled += r.scheduled;
    c.failed += r.failed;
    if (r.due > 0) c.groups.push(toDueGroup({ ...r, count: r.due }));
  }
  return byQueue;
}

/**
 * jobCounts() from its parts: the (possibly cached) scan, the pauses, the running jobs and
 * the live workers, all but the scan read fresh.
 */
export function overview(
  scan: Scan<ScanRow>,
  paused: { queue: string; paused: boolean }[],
  running: Pick<Job, 'queue' | 'failedAt'>[],
  workers: LiveWorker[],
): JobCounts {
  const byQueue = new Map<string, JobCounts['queues'][number]>();
  const entry = (queue: string): JobCounts['queues'][number] => {
    let c = byQueue.get(queue);
    if (!c) {
      c = { queue, available: 0, scheduled: 0, running: 0, failed: 0, paused: false, unrouted: 0 };
      byQueue.set(queue, c);
    }
    return c;
  };
  for (const [queue, row] of scan.rows)
    Object.assign(entry(queue), { scheduled: row.scheduled, failed: row.failed });
  // A job failing for good holds its lock until the worker's next write: failed, not running.
  for (const job of running) if (job.failedAt === null) entry(job.queue).running += 1;
  for (const [queue, row] of scan.rows) {
    // Running jobs are due jobs; with a cached scan the difference can dip below zero.
    const c = entry(queue);
    c.available = Math.max(0, row.due - c.running);
  }
  for (const p of paused) entry(p.queue).paused = p.paused;
  const stuck = unrouted(
    [...scan.rows.values()].flatMap((r) => r.groups),
    workers,
  );
  for (const u of stuck) entry(u.queue).unrouted += u.count;
  const queues = [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  return { queues, unrouted: stuck, countedAt: new Date(scan.at), countMs: scan.ms };
}
