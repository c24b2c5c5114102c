import type { QueueAdmin } from '@queue/core';
import { BadRequestError } from '../errors.js';
import { StaleCache } from './stale-cache.js';

export interface ThroughputBucket {
  /** Start of the bucket: a minute, or the first minute of a wider bucket. */
  minute: Date;
  queue: string;
  completed: number;
  /** Failed attempts, retried or final. */
  failed: number;
  /** Median and 95th percentile run time of the bucket's completed jobs (ms, within a factor of two); null when none. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Throughput {
  range: RangeName;
  minutes: number;
  /** Minutes per bucket: a chart of a week has 84 bars, not 10,080. */
  bucketMinutes: number;
  /** False with a core that keeps no statistics: the chart then says so instead of showing zeros. */
  supported: boolean;
  buckets: ThroughputBucket[];
  /** When these statistics were read, and how long that took (longer ranges are cached: see StaleCache). */
  computedAt: Date;
  computeMs: number;
}

/**
 * The ranges the charts offer, each with a bucket width that gives 60 to 96 bars. Core keeps
 * its per-minute statistics for 7 days, the longest range.
 */
export const RANGES = {
  '1h': { minutes: 60, bucketMinutes: 1 },
  '6h': { minutes: 360, bucketMinutes: 5 },
  '24h': { minutes: 1440, bucketMinutes: 15 },
  '7d': { minutes: 10_080, bucketMinutes: 120 },
} as const;

export type RangeName = keyof typeof RANGES;

export function parseRange(value: string | null): RangeName {
  if (!value) return '1h';
  if (!Object.hasOwn(RANGES, value)) {
    throw new BadRequestError(
      `range must be one of ${Object.keys(RANGES).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as RangeName;
}

type StatsSource = {
  jobStats?: (o: { minutes: number; bucketMinutes?: number }) => Promise<Partial<ThroughputBucket>[]>;
};

/**
 * The one place that knows where throughput and run times come from: core's `jobStats`
 * (per-minute rows with duration histograms that its workers write, summed per bucket), one
 * cache per range (a week of statistics can take seconds to sum). Kept behind this function
 * so another source can replace it.
 */
export function throughputSource(queue: QueueAdmin) {
  const caches = new Map<RangeName, StaleCache<Omit<Throughput, 'computedAt' | 'computeMs'>>>();
  return async (range: RangeName, maxAgeMs: number): Promise<Throughput> => {
    let cache = caches.get(range);
    if (!cache) {
      cache = new StaleCache(() => loadThroughput(queue, range));
      caches.set(range, cache);
    }
    const { data, at, ms } = await cache.get(maxAgeMs);
    return { ...data, computedAt: at, computeMs: ms };
  };
}

async function loadThroughput(
  queue: QueueAdmin,
  range: RangeName,
): Promise<Omit<Throughput, 'computedAt' | 'computeMs'>> {
  const { minutes, bucketMinutes } = RANGES[range];
  const source = queue as unknown as StatsSource;
  if (typeof source.jobStats !== 'function') {
    return { range, minutes, bucketMinutes, supported: false, buckets: [] };
  }
  const buckets = await source.jobStats({ minutes, bucketMinutes });
  return {
    range,
    minutes,
    bucketMinutes,
    supported: true,
    buckets: buckets.map((b) => ({
      minute: b.minute!,
      queue: b.queue!,
      completed: b.completed ?? 0,
      failed: b.failed ?? 0,
      p50Ms: b.p50Ms ?? null,
      p95Ms: b.p95Ms ?? null,
    })),
  };
}
