import { durationQuantile } from './durations.js';
import { checkInt } from './options.js';
import type { Names } from './sql/names.js';
import type { Queryable } from './types.js';

/** One bucket of the throughput and duration charts, per queue. */
export interface JobStat {
  /** Start of the bucket (the minute, or the first minute of a wider bucket). */
  minute: Date;
  queue: string;
  completed: number;
  /** Failed attempts, retried or final. */
  failed: number;
  /** Median and 95th percentile run time of completed jobs in ms (within a factor of two; see durations.ts); null when none completed. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface JobStatsOptions {
  /** How far back, in minutes, the current one included. Default 60; at most 7 days (10,080). */
  minutes?: number;
  /** Minutes per bucket. Default 1 up to 6 hours, 5 up to a day, 60 beyond. */
  bucketMinutes?: number;
}

/**
 * Per-bucket totals over all workers: counts summed, duration histograms summed bucket by
 * bucket (an element-wise sum over the rows' arrays). $1 minutes back, $2 minutes per bucket.
 * Buckets are aligned to multiples of their width since the epoch, so a chart's buckets stay
 * put as time goes on.
 */
export function jobStatsSql(n: Names): string {
  return `WITH s AS (
      SELECT to_timestamp(floor(extract(epoch FROM minute) / ($2::int * 60)) * ($2::int * 60)) AS bucket,
        queue, completed, failed, durations
      FROM ${n.q}.job_stats
      WHERE minute >= date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute'
    ), totals AS (
      SELECT bucket, queue, sum(completed)::int AS completed, sum(failed)::int AS failed
      FROM s GROUP BY bucket, queue
    ), histograms AS (
      SELECT bucket, queue, i, sum(v)::int AS v
      FROM s, unnest(s.durations) WITH ORDINALITY AS u(v, i)
      GROUP BY bucket, queue, i
    )
    SELECT t.bucket AS minute, t.queue, t.completed, t.failed,
      (SELECT array_agg(h.v ORDER BY h.i) FROM histograms h WHERE h.bucket = t.bucket AND h.queue = t.queue)
        AS durations
    FROM totals t ORDER BY t.bucket, t.queue`;
}

export async function jobStats(db: Queryable, n: Names, options: JobStatsOptions): Promise<JobStat[]> {
  const minutes = checkInt('minutes', options.minutes ?? 60, 1, 7 * 1440);
  const width = checkInt(
    'bucketMinutes',
    options.bucketMinutes ?? (minutes <= 360 ? 1 : minutes <= 1440 ? 5 : 60),
    1,
    1440,
  );
  const { rows } = await db.query(jobStatsSql(n), [minutes, width]);
  return rows.map(
    (r: { minute: Date; queue: string; completed: number; failed: number; durations: number[] | null }) => ({
      minute: r.minute,
      queue: r.queue,
      completed: r.completed,
      failed: r.failed,
      p50Ms: r.durations ? durationQuantile(r.durations, 0.5) : null,
      p95Ms: r.durations ? durationQuantile(r.durations, 0.95) : null,
    }),
  );
}
