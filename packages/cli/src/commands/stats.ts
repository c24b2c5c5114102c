import type { JobStat, QueueAdmin } from '@queue/core';
import { globals, intFlag, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { duration, table } from '../format.js';

/** jobStats() keeps a week. */
const MAX_MINUTES = 7 * 1440;
/** The run-time section covers this many minutes unless --minutes says otherwise. */
const DEFAULT_MINUTES = 10;

export async function stats(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('stats', argv, {
    json: { type: 'boolean' },
    minutes: { type: 'string' },
  });
  if (positionals.length > 0)
    throw new UsageError(`stats takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const minutes = intFlag('minutes', values.minutes, 1, MAX_MINUTES);
  const queue = await openAdmin(globals(values), ctx.env);
  try {
    const counts = await queue.countJobs();
    if (values.json) {
      // Without --minutes, the array scripts have always read; with it, both parts.
      ctx.out(
        JSON.stringify(
          minutes === undefined ? counts : { counts, runTimes: active(await queue.jobStats({ minutes })) },
        ),
      );
      return EXIT.OK;
    }
    if (counts.length === 0) {
      ctx.out('no jobs and no queues yet');
    } else {
      const header = ['QUEUE', 'AVAILABLE', 'SCHEDULED', 'RUNNING', 'FAILED', 'PAUSED'];
      const rows = counts.map((c) =>
        [c.queue, c.available, c.scheduled, c.running, c.failed, c.paused ? 'yes' : 'no'].map(String),
      );
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) =>
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      ctx.out([line(header), ...rows.map(line)].join('\n'));
      await unrouted(queue, ctx);
    }
    // Jobs that finished recently may have left no live row: their run times still show.
    ctx.out(
      `\n${runTimes(active(await queue.jobStats({ minutes: minutes ?? DEFAULT_MINUTES })), minutes ?? DEFAULT_MINUTES)}`,
    );
    return EXIT.OK;
  } finally {
    await queue.close();
  }
}

/** Due jobs no live worker would run (no worker serves the queue, or none knows the task). */
async function unrouted(queue: QueueAdmin, ctx: CliContext): Promise<void> {
  const groups = await queue.unroutedJobs();
  if (groups.length === 0) return;
  ctx.out('\njobs nobody will run:');
  for (const u of groups) {
    ctx.out(
      `  ${u.count} of task ${JSON.stringify(u.task)} on queue ${JSON.stringify(u.queue)}: ${u.message}`,
    );
  }
}

/** Buckets in which something finished: the rest are rows of zeros. */
const active = (stats: JobStat[]) => stats.filter((s) => s.completed > 0 || s.failed > 0);

/** A percentile from the log2 histograms: "<1 ms" for the lowest bucket, "-" when none completed. */
const ms = (v: number | null) => (v === null ? '-' : v < 1 ? '<1 ms' : duration(v));

/**
 * Completions, failed attempts and run-time percentiles per bucket and queue, oldest first.
 * Percentiles are per bucket: core keeps histograms per minute and reads a percentile from
 * each bucket's sum, so two buckets' percentiles cannot be merged into one here.
 */
function runTimes(stats: JobStat[], minutes: number): string {
  const title = `run times, last ${minutes === 1 ? 'minute' : `${minutes} minutes`} (p50/p95 of completed jobs, within a factor of two):`;
  if (stats.length === 0) return `${title}\n  no job finished or failed`;
  const header = ['MINUTE', 'QUEUE', 'COMPLETED', 'FAILED', 'P50', 'P95'];
  const rows = stats.map((s) => [
    `${s.minute.toISOString().slice(0, 16).replace('T', ' ')}Z`,
    s.queue,
    String(s.completed),
    String(s.failed),
    ms(s.p50Ms),
    ms(s.p95Ms),
  ]);
  return `${title}\n${table(header, rows, undefined, new Set([2, 3, 4, 5]))}`;
}
