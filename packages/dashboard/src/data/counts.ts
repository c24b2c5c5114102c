import type { Queue, QueueCounts } from '@queue/core';
import type { RunningJob } from './running.js';
import { baseCountsSql, pausedSql } from './sql.js';

export interface Counts {
  queues: QueueCounts[];
  /** When the cached part (available, scheduled, failed) was counted, and how long that took. */
  countedAt: Date;
  countMs: number;
}

interface Base {
  at: number;
  ms: number;
  rows: Map<string, { due: number; scheduled: number; failed: number }>;
}

/** A count this fast is simply redone on every request. */
const CHEAP_MS = 50;
/** A slower count is redone at most this often relative to its own cost (5% of one core per dashboard). */
const COST_FACTOR = 20;

/**
 * Per-queue counts that stay cheap with millions of jobs. Counting is a full scan
 * (~160 ms for 1,000,000 jobs on a small machine), so that part is cached: redone on every
 * request while it is fast, otherwise at most every max(refresh, 20 × its duration), in the
 * background, one count at a time however many browsers are watching. Running jobs and
 * pauses are read fresh on every request: they come from small tables.
 */
export class CountCache {
  private base: Base | undefined;
  private counting: Promise<Base> | undefined;

  constructor(
    private readonly queue: Queue<any>,
    private readonly minAgeMs: number,
  ) {}

  async get(running: RunningJob[]): Promise<Counts> {
    const [base, paused] = await Promise.all([
      this.current(),
      this.queue.pool.query(pausedSql(this.queue.names)),
    ]);
    const byQueue = new Map<string, QueueCounts>();
    const entry = (queue: string): QueueCounts => {
      let c = byQueue.get(queue);
      if (!c) {
        c = { queue, available: 0, scheduled: 0, running: 0, failed: 0, paused: false };
        byQueue.set(queue, c);
      }
      return c;
    };
    for (const [queue, row] of base.rows)
      Object.assign(entry(queue), { scheduled: row.scheduled, failed: row.failed });
    for (const job of running) entry(job.queue).running += 1;
    for (const [queue, row] of base.rows) {
      // Running jobs are due jobs; with a cached base the difference can dip below zero.
      const c = entry(queue);
      c.available = Math.max(0, row.due - c.running);
    }
    for (const p of paused.rows) entry(p.queue).paused = p.paused_at !== null;
    const queues = [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
    return { queues, countedAt: new Date(base.at), countMs: base.ms };
  }

  /** Marks the cached counts stale after an action changed them, so the next request recounts. */
  invalidate(): void {
    if (this.base) this.base.at = 0;
  }

  private async current(): Promise<Base> {
    const base = this.base;
    if (!base) return this.count();
    if (base.ms < CHEAP_MS) return this.count();
    if (Date.now() - base.at > Math.max(this.minAgeMs, COST_FACTOR * base.ms)) {
      // Stale while revalidating: this request gets the old counts, a later one the new.
      void this.count().catch(() => {});
    }
    return base;
  }

  private count(): Promise<Base> {
    this.counting ??= (async () => {
      try {
        const started = performance.now();
        const { rows } = await this.queue.pool.query(baseCountsSql(this.queue.names));
        const at = Date.now();
        const ms = Math.round(performance.now() - started);
        const base: Base = { at, ms, rows: new Map(rows.map((r) => [r.queue, r])) };
        this.base = base;
        return base;
      } finally {
        this.counting = undefined;
      }
    })();
    return this.counting;
  }
}
