import type { FinishedJob, JobList, ListedJob, ListJobsOptions } from '@queue/core';
import {
  choiceFlag,
  globals,
  intFlag,
  jobIdFlag,
  jsonObjectFlag,
  nameFlag,
  parse,
  tagFlags,
} from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { duration, oneLine, shellWord, shortTime, table } from '../format.js';

const STATES = ['available', 'scheduled', 'running', 'failed', 'completed', 'cancelled'] as const;
/** States read from the history; the others are live jobs. */
const FINISHED = new Set<string>(['completed', 'cancelled']);
/** core's listJobs returns at most this many per call. */
const MAX_LIMIT = 1000;
/** Plain (piped) output cuts the last error (or the result) here: a line stays a line, and readable. */
const PLAIN_ERROR_WIDTH = 200;

type Listed = ListedJob;
type Finished = FinishedJob & { state: 'completed' | 'cancelled' };

export async function list(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('list', argv, {
    state: { type: 'string' },
    queue: { type: 'string' },
    task: { type: 'string' },
    tag: { type: 'string', multiple: true },
    search: { type: 'string' },
    meta: { type: 'string' },
    limit: { type: 'string' },
    order: { type: 'string' },
    cursor: { type: 'string' },
    before: { type: 'string' },
    after: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError(
      `list takes no arguments, got ${JSON.stringify(positionals[0])}; filter with --state, --queue, --task, --tag, --search`,
    );
  const state = choiceFlag('state', values.state, STATES);
  const history = state !== undefined && FINISHED.has(state);
  const queue = nameFlag('queue', values.queue);
  const task = nameFlag('task', values.task);
  const tags = tagFlags(values.tag);
  const search = jsonObjectFlag('search', values.search);
  const meta = jsonObjectFlag('meta', values.meta);
  const limit = intFlag('limit', values.limit, 1, MAX_LIMIT) ?? 20;
  const cursor = cursorFlag(values.cursor);
  const before = jobIdFlag('before', values.before);
  const after = jobIdFlag('after', values.after);
  const given = choiceFlag('order', values.order, ['asc', 'desc'] as const);
  if (cursor !== undefined && (before || after))
    throw new UsageError('give --cursor or --before/--after, not both: --cursor pages every listing');
  if (history && (before || after))
    throw new UsageError(
      `--before and --after page live jobs by id; page ${state} jobs with the --cursor a listing prints`,
    );
  // A cursor carries its order: pass one only when asked, and core refuses one that differs.
  const order = cursor !== undefined ? given : pageOrder(given, before, after);

  const admin = await openAdmin(globals(values), ctx.env);
  let page: JobList;
  try {
    page = await admin.listJobs({
      ...(state ? { state } : {}),
      ...(queue ? { queue } : {}),
      ...(task ? { task } : {}),
      ...(tags ? { tag: tags } : {}),
      ...(search ? { search } : {}),
      ...(meta ? { meta } : {}),
      ...(order ? { order } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      limit,
    } satisfies ListJobsOptions);
  } finally {
    await admin.close();
  }
  const next = page.cursor === null ? undefined : nextPage(values, page.cursor);

  if (values.json) {
    ctx.out(JSON.stringify(page));
  } else if (ctx.isTTY) {
    const width = ctx.columns ?? 100;
    ctx.out(
      page.length === 0
        ? 'no jobs match'
        : history
          ? historyTable(page as Finished[], width)
          : ttyTable(page, width),
    );
  } else if (page.length > 0) {
    ctx.out(page.map((j) => (history ? historyLine(j as Finished) : plainLine(j))).join('\n'));
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

/** core's cursors are base64url: anything else is a typo, refused before connecting. */
function cursorFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value))
    throw new UsageError(
      `--cursor must be the cursor a previous 'queue list' printed (after "--cursor" in its next page line), got ${JSON.stringify(value)}`,
    );
  return value;
}

/**
 * The same command line for the next page, ending in `--cursor <cursor>` (the cursor holds the
 * order); --database-url is left out (it may hold a password).
 */
function nextPage(values: Record<string, any>, cursor: string): string {
  const words = ['queue', 'list'];
  for (const flag of ['state', 'queue', 'task', 'search', 'meta', 'limit', 'schema'])
    if (values[flag] !== undefined) words.push(`--${flag}`, shellWord(values[flag]));
  for (const tag of values.tag ?? []) words.push('--tag', shellWord(tag));
  if (values.json) words.push('--json');
  words.push('--cursor', cursor);
  return words.join(' ');
}

/** When the job runs (or ran), or when it failed for good. */
const at = (job: Listed) => job.failedAt ?? job.runAt;
const lastError = (job: Listed) => job.errors.at(-1)?.message ?? '';
/** How long the last attempt ran, in ms; null for a job cancelled before it started. */
const ranMs = (job: Finished) =>
  job.startedAt === null ? null : Math.max(0, job.finishedAt.getTime() - job.startedAt.getTime());
/** The result as one line of JSON; empty when there is none (cancelled, or nothing returned). */
const resultText = (job: Finished) => (job.result === null ? '' : JSON.stringify(job.result));

function historyTable(jobs: Finished[], width: number): string {
  const header = ['ID', 'STATE', 'QUEUE', 'TASK', 'ATTEMPTS', 'FINISHED AT', 'RAN FOR', 'RESULT'];
  const rows = jobs.map((j) => {
    const ms = ranMs(j);
    return [
      j.id,
      j.state,
      j.queue,
      j.task,
      `${j.attempts}/${j.maxAttempts}`,
      shortTime(j.finishedAt),
      ms === null ? '-' : duration(ms),
      resultText(j),
    ];
  });
  return table(header, rows, width, new Set([0, 4, 6]));
}

/** Tab-separated: id, state, queue, task, attempts/max, finished at (ISO), ms run, result as JSON (cut). */
function historyLine(j: Finished): string {
  const ms = ranMs(j);
  return [
    j.id,
    j.state,
    oneLine(j.queue, 128),
    oneLine(j.task, 128),
    `${j.attempts}/${j.maxAttempts}`,
    j.finishedAt.toISOString(),
    ms === null ? '' : String(ms),
    oneLine(resultText(j), PLAIN_ERROR_WIDTH),
  ].join('\t');
}

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
