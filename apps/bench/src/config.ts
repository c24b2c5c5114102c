/** Workload sizes: the for a full run, small ones for the CI smoke run. */
/**
 * Caps keep the slowest peers inside the time budget: a capped figure is the rate over the
 * jobs done within the cap, marked with * in the table.
 */
export interface Sizes {
  enqueue: { jobs: number; producers: number; capSeconds: number };
  bulk: { jobs: number; batch: number };
  drain: { jobs: number };
  latency: { jobs: number; spacingMs: number };
  /** After the window, how long jobs still queued may take to start before they count as never started. */
  load: { rate: number; seconds: number; tickMs: number; graceSeconds: number };
  scale: {
    points: { label: string; available: number; scheduled: number; failed: number }[];
    /**
     * Longest a scale point may run. A peer slower than the table is big (BullMQ on
     * Postgres drains ~1k jobs/s) would need many minutes per point; its rate over the cap
     * is the figure, with the count it reached.
     */
    capSeconds: number;
    /**
     * Indexes into `points` of the table sizes the growth target compares: a drain of the
     * drain workload's size and one of a million, both seeded and vacuumed the same way (a
     * freshly bulk-enqueued table drains about half as fast as a vacuumed one, for every
     * peer, so the drain workload itself is no baseline for the seeded points).
     */
    compare: { base: number; big: number };
  };
  /** Longest a drain (and the latency workload's wait for its last job) may take. */
  drainCapSeconds: number;
}

export const FULL: Sizes = {
  enqueue: { jobs: 5_000, producers: 16, capSeconds: 8 },
  bulk: { jobs: 50_000, batch: 1_000 },
  drain: { jobs: 50_000 },
  latency: { jobs: 500, spacingMs: 5 },
  load: { rate: 5_000, seconds: 20, tickMs: 5, graceSeconds: 10 },
  scale: {
    points: [
      { label: '50k queued', available: 50_000, scheduled: 0, failed: 0 },
      { label: '100k queued', available: 100_000, scheduled: 0, failed: 0 },
      { label: '1M queued', available: 1_000_000, scheduled: 0, failed: 0 },
      {
        label: '100k queued + 100k scheduled + 10k failed',
        available: 100_000,
        scheduled: 100_000,
        failed: 10_000,
      },
    ],
    capSeconds: 10,
    compare: { base: 0, big: 2 },
  },
  drainCapSeconds: 30,
};

export const SMOKE: Sizes = {
  enqueue: { jobs: 320, producers: 16, capSeconds: 5 },
  bulk: { jobs: 3_000, batch: 1_000 },
  drain: { jobs: 2_000 },
  latency: { jobs: 50, spacingMs: 5 },
  load: { rate: 1_000, seconds: 1, tickMs: 5, graceSeconds: 10 },
  scale: {
    points: [
      { label: '2k queued', available: 2_000, scheduled: 0, failed: 0 },
      { label: '5k queued', available: 5_000, scheduled: 0, failed: 0 },
      { label: '10k queued', available: 10_000, scheduled: 0, failed: 0 },
      { label: '2k queued + 2k scheduled + 200 failed', available: 2_000, scheduled: 2_000, failed: 200 },
    ],
    capSeconds: 2,
    compare: { base: 0, big: 2 },
  },
  drainCapSeconds: 20,
};
