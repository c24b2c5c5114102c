/**
 * Run durations as a log2 histogram, the shape job_stats.durations stores per minute, queue
 * and worker (migration 0008): bucket 0 counts runs under 1 ms, bucket i (1..30) runs of
 * [2^(i-1), 2^i) ms, the last bucket 2^30 ms and over. Adding two histograms is adding
 * their buckets, so the database sums them across workers and minutes, and percentiles need
 * no history rows. A percentile read from it is exact to within a factor of two: the
 * reported value is the bucket's geometric midpoint.
 */
export const DURATION_BUCKETS = 32;

export function durationBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(DURATION_BUCKETS - 1, Math.floor(Math.log2(ms)) + 1);
}

export function emptyHistogram(): number[] {
  return new Array<number>(DURATION_BUCKETS).fill(0);
}

/**
 * The q-quantile (0 < q <= 1) of a histogram in milliseconds, or null when it is empty:
 * the geometric midpoint of the bucket the quantile falls in (0.5 ms for bucket 0).
 */
export function durationQuantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return i === 0 ? 0.5 : Math.round(2 ** (i - 1) * Math.SQRT2 * 10) / 10;
  }
  return null;
}
