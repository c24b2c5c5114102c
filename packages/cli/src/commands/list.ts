import type { Job, JobState, ListJobsOptions } from '@queue/core';
import { choiceFlag, globals, intFlag, jobIdFlag, nameFlag, parse } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { oneLine, shellWord, shortTime, table } from '../format.js';

const STATES = ['available', 'scheduled', 'running', 'failed'] as const;
/** core's listJobs returns at most this many per call. */
const MAX_LIMIT = 1000;
/** Plain (piped) output cuts the last error here: a line stays a line, and readable. */
const PLAIN_ERROR_WIDTH = 200;

type Listed = Job & { state: JobState };

export async function list(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('list', argv, {
    state: { type: 'string' },
    queue: { type: 'string' },
    task: { type: 'string' },
    limit: { type: 'string' },
    order: { type: 'string' },
    before: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError(
      `list takes no arguments, got ${JSON.stringify(positionals[0])}; filter with --state, --queue, --task`,
    );
  const state = choiceFlag('state', values.state, STATES);
  const queue = nameFlag('queue', values.queue);
  const task = nameFlag('task', values.task);
  const limit = intFlag('limit', values.limit, 1, MAX_LIMIT) ?? 20;
  const before = jobIdFlag('before', values.before);
  const after = jobIdFlag('after', values.after);
  const order = pageOrder(choiceFlag('order', values.order, ['asc', 'desc'] as const), before, after);

  const admin = await openAdmin(globals(values), ctx.env);
  let jobs: Listed[];
  try {
    // One more than shown tells whether a next page exists (except at the maximum page size).
    jobs = await admin.listJobs({
      ...(state ? { state } : {}),
      ...(queue ? { queue } : {}),
      ...(task ? { task } : {}),
      order,
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      limit: Math.min(limit + 1, MAX_LIMIT),
    } satisfies ListJobsOptions);
  } finally {
    await admin.close();
  }
  const page = jobs.slice(0, limit);
  const more = jobs.length > limit || (limit === MAX_LIMIT && jobs.length === MAX_LIMIT);
  const next = more ? nextPage(values, order, page.at(-1)!.id) : undefined;

  if (values.json) {
    ctx.out(JSON.stringify(page));
  } else if (ctx.isTTY) {
    ctx.out(page.length > 0 ? ttyTable(page, ctx.columns ?? 100) : 'no jobs match');
  } else if (page.length > 0) {
    ctx.out(page.map(plainLine).join('\n'));
  }
  // On a terminal the hint follows the table; piped, it goes to stderr so stdout holds only jobs.
  if (next && ctx.isTTY && !values.json) ctx.out(`next page: ${next}`);
  else if (next) ctx.err(`next page: ${next}`);
  return EXIT.OK;
}

/** The order a page is read in: newest first by default, oldest first when paging --after. */
function pageOrder(
  order: 'asc' | 'desc' | undefined,
  before: string | undefined,
  after: string | undefined,
): 'asc' | 'desc' {
  if (before && after)
    throw new UsageError(
      '--before and --after do not go together: --before <id> pages newest first, --after <id> oldest first',
    );
  if (before && order === 'asc')
    throw new UsageError(
      '--before pages newest first (--order desc); with --order asc, page with --after <id>',
    );
  if (after && order === 'desc')
    throw new UsageError(
      '--after pages oldest first (--order asc); with --order desc, page with --before <id>',
    );
  return order ?? (after ? 'asc' : 'desc');
}

/** The same command line for the next page; --database-url is left out (it may hold a password). */
function nextPage(values: Record<string, any>, order: 'asc' | 'desc', lastId: string): string {
  const words = ['queue', 'list'];
  for (const flag of ['state', 'queue', 'task', 'limit', 'schema'])
    if (values[flag] !== undefined) words.push(`--${flag}`, shellWord(values[flag]));
  if (values.json) words.push('--json');
  words.push(order === 'desc' ? '--before' : '--after', lastId);
  return words.join(' ');
}

/** When the job runs (or ran), or when it failed for good. */
const at = (job: Listed) => job.failedAt ?? job.runAt;
const lastError = (job: Listed) => job.errors.at(-1)?.message ?? '';

function ttyTable(jobs: Listed[], width: number): string {
  const header = ['ID', 'STATE', 'QUEUE', 'TASK', 'ATTEMPTS', 'RUN/FAILED AT', 'LAST ERROR'];
  const rows = jobs.map((j) => [
    j.id,
    j.state,
    j.queue,
    j.task,
    `${j.attempts}/${j.maxAttempts}`,
    shortTime(at(j)),
    lastError(j),
  ]);
  return table(header, rows, width, new Set([0, 4]));
}

/** Tab-separated: id, state, queue, task, attempts/max, ISO time, last error (one line, cut). */
function plainLine(j: Listed): string {
  return [
    j.id,
    j.state,
    oneLine(j.queue, 128),
    oneLine(j.task, 128),
    `${j.attempts}/${j.maxAttempts}`,
    at(j).toISOString(),
    oneLine(lastError(j), PLAIN_ERROR_WIDTH),
  ].join('\t');
}
