import type { JobCounts, QueueAdmin } from '@queue/core';

/** What the database gauges show, read at `at` (Date.now()). */
export interface DepthSnapshot {
  at: number;
  counts: JobCounts;
  /** Per queue with available jobs: seconds since the oldest-enqueued available job became due. */
  oldestAvailableAge: Map<string, number>;
}

/**
 * The database side of a scrape: queue depth, running jobs, pauses and the oldest available
 * job, shared by every gauge of one scrape and by every scrape within `maxAgeMs`, so N
 * Prometheus servers (or N gauges) scraping at once cost one read. The read is `jobCounts()`
 * (whose full scan core caches: redone at most every max(maxAge, 20 × its cost) once it takes
 * over 50 ms) plus one LIMIT-1 list per queue that has available jobs.
 */
export class DepthReader {
  private snapshot: DepthSnapshot | undefined;
  private reading: Promise<DepthSnapshot> | undefined;

  constructor(
    private readonly queue: QueueAdmin,
    private readonly maxAgeMs: number,
  ) {}

  read(): Promise<DepthSnapshot> {
    const s = this.snapshot;
    if (s && Date.now() - s.at < this.maxAgeMs) return Promise.resolve(s);
    this.reading ??= this.load().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async load(): Promise<DepthSnapshot> {
    const counts = await this.queue.jobCounts({ maxAgeMs: this.maxAgeMs });
    const oldestAvailableAge = new Map<string, number>();
    // Lowest id first: the available job enqueued first. Its wait since it became due is what
    // a backlog alert needs, and the primary key finds it without a scan of the queue.
    await Promise.all(
      counts.queues
        .filter((q) => q.available > 0)
        .map(async (q) => {
          const [job] = await this.queue.listJobs({ queue: q.queue, state: 'available', limit: 1 });
          if (job) oldestAvailableAge.set(q.queue, Math.max(0, (Date.now() - job.runAt.getTime()) / 1000));
        }),
    );
    const snapshot = { at: Date.now(), counts, oldestAvailableAge };
    this.snapshot = snapshot;
    return snapshot;
  }
}
