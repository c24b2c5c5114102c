import type { RunningJob } from '@queue/core';
import { globals, intFlag, nameFlag, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { duration, oneLine, table } from '../format.js';

/** runningJobs() returns at most this many. */
const MAX_LIMIT = 10_000;
/** Plain (piped) output cuts the progress here, as `list` cuts the last error. */
const PLAIN_PROGRESS_WIDTH = 200;

/** `queue running`: the jobs workers hold now, longest-running first, with their progress. */
export async function running(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('running', argv, {
    queue: { type: 'string' },
    task: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError(
      `running takes no arguments, got ${JSON.stringify(positionals[0])}; filter with --queue, --task`,
    );
  const queue = nameFlag('queue', values.queue);
  const task = nameFlag('task', values.task);
  const limit = intFlag('limit', values.limit, 1, MAX_LIMIT) ?? 100;

  const admin = await openAdmin(globals(values), ctx.env);
  let jobs: RunningJob[];
  try {
    // runningJobs() takes no filter: a filtered list reads them all (at most 10,000), then cuts.
    const all = await admin.runningJobs({ limit: queue || task ? MAX_LIMIT : limit });
    jobs = all.filter((j) => (!queue || j.queue === queue) && (!task || j.task === task)).slice(0, limit);
  } finally {
    await admin.close();
  }
  if (values.json) ctx.out(JSON.stringify(jobs));
  else if (ctx.isTTY) ctx.out(jobs.length > 0 ? ttyTable(jobs, ctx.columns ?? 100) : 'no job is running');
  else if (jobs.length > 0) ctx.out(jobs.map(plainLine).join('\n'));
  return EXIT.OK;
}

/** The progress as JSON text (a string keeps its quotes, so piped output tells types apart). */
export const progressText = (progress: unknown): string =>
  progress === null || progress === undefined ? '' : JSON.stringify(progress);

/** Where it runs: the worker's host and Node pid, else the session's application name and backend pid. */
function where(j: RunningJob): string {
  if (j.worker.host !== null && j.worker.pid !== null) return `${j.worker.host}:${j.worker.pid}`;
  return `${j.worker.applicationName ?? '?'} (backend ${j.backendPid})`;
}

function ttyTable(jobs: RunningJob[], width: number): string {
  const header = ['ID', 'QUEUE', 'TASK', 'ATTEMPT', 'RUNNING FOR', 'WORKER', 'PROGRESS'];
  const rows = jobs.map((j) => [
    j.id,
    j.queue,
    j.task,
    `${j.attempts}/${j.maxAttempts}`,
    j.runningMs === null ? '-' : duration(j.runningMs),
    where(j),
    progressText(j.progress),
  ]);
  return table(header, rows, width, new Set([0, 3, 4]));
}

/** Tab-separated: id, queue, task, attempt/max, milliseconds running, worker, progress as JSON. */
function plainLine(j: RunningJob): string {
  return [
    j.id,
    oneLine(j.queue, 128),
    oneLine(j.task, 128),
    `${j.attempts}/${j.maxAttempts}`,
    j.runningMs === null ? '' : String(Math.round(j.runningMs)),
    oneLine(where(j), 300),
    oneLine(progressText(j.progress), PLAIN_PROGRESS_WIDTH),
  ].join('\t');
}
