import type { QueueAdmin } from '@queue/core';

export interface ThroughputBucket {
  minute: Date;
  queue: string;
  completed: number;
  /** Failed attempts, retried or final. */
  failed: number;
}

export interface Throughput {
  minutes: number;
  /** False with a core that keeps no statistics: the chart then says so instead of showing zeros. */
  supported: boolean;
  buckets: ThroughputBucket[];
}

/**
 * The one place that knows where throughput comes from: core's `jobStats` (per-minute
 * rows its workers write). Kept behind this function so another source can replace it.
 */
export async function loadThroughput(queue: QueueAdmin, minutes: number): Promise<Throughput> {
  const source = queue as unknown as { jobStats?: (o: { minutes: number }) => Promise<ThroughputBucket[]> };
  if (typeof source.jobStats !== 'function') return { minutes, supported: false, buckets: [] };
  const buckets = await source.jobStats({ minutes });
  return {
    minutes,
    supported: true,
    buckets: buckets.map((b) => ({
      minute: b.minute,
      queue: b.queue,
      completed: b.completed,
      failed: b.failed,
    })),
  };
}
