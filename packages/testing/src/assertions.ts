import { InvalidOptionError, type Queryable, type Queue } from '@queue/core';
import { EnqueueAssertionError } from './errors.js';
import { type EnqueuedJob, LIVE_STATES, type LiveState, readJobs } from './jobs.js';
import { describeExpected, type Matcher, matches } from './match.js';

/** Which jobs count, besides task and payload. Each field is matched like the payload. */
export interface EnqueuedFilter {
  queue?: Matcher<string>;
  priority?: Matcher<number>;
  /** When the job is due: a Date (exact), `expect.any(Date)`, or a predicate `(runAt) => …`. */
  runAt?: Matcher<Date>;
  maxAttempts?: Matcher<number>;
  tags?: Matcher<string[]>;
  meta?: Matcher<Record<string, unknown>>;
  /** Default: every state a job in the jobs table can be in. */
  state?: LiveState | readonly LiveState[];
  /**
   * Read with this client instead of the queue's pool: inside your test transaction it sees
   * the jobs that transaction wrote and has not committed.
   */
  client?: Queryable;
}

export interface ExpectEnqueuedOptions extends EnqueuedFilter {
  /** How many matching jobs there must be. Default: at least one. */
  count?: number;
}

const FILTER_KEYS = new Set([
  'queue',
  'priority',
  'runAt',
  'maxAttempts',
  'tags',
  'meta',
  'state',
  'client',
  'count',
]);

/** The jobs of `task` matching `payload` (partially) and the filter, oldest first. */
export async function findJobs(
  queue: Queue<any>,
  task: string | undefined,
  payload: unknown,
  options: ExpectEnqueuedOptions,
  call: string,
): Promise<{ matched: EnqueuedJob[]; ofTask: EnqueuedJob[] }> {
  checkFilter(options, call);
  const states = options.state === undefined ? LIVE_STATES : ([] as LiveState[]).concat(options.state);
  const ofTask = await readJobs(queue, task, options.client);
  const fields = ['queue', 'priority', 'runAt', 'maxAttempts', 'tags', 'meta'] as const;
  const matched = ofTask.filter(
    (job) =>
      states.includes(job.state) &&
      (payload === undefined || matches(job.payload, payload)) &&
      fields.every((f) => options[f] === undefined || matches(job[f], options[f])),
  );
  return { matched, ofTask };
}

/** Throws unless the jobs match: at least one, or exactly `count`. Returns the matching jobs. */
export async function expectEnqueued(
  queue: Queue<any>,
  task: string,
  payload: unknown,
  options: ExpectEnqueuedOptions = {},
): Promise<EnqueuedJob[]> {
  checkTask(task, 'expectEnqueued()');
  const { matched, ofTask } = await findJobs(queue, task, payload, options, 'expectEnqueued()');
  const want = options.count;
  if (want === undefined ? matched.length > 0 : matched.length === want) return matched;
  const wanted = want === undefined ? 'at least one job' : `${want} job${want === 1 ? '' : 's'}`;
  throw new EnqueueAssertionError(
    `expected ${wanted} of task ${JSON.stringify(task)}${describeWhat(payload, options)}, found ${matched.length}` +
      describeFound(ofTask),
  );
}

/** Throws if any job matches. */
export async function expectNotEnqueued(
  queue: Queue<any>,
  task: string | undefined,
  payload: unknown,
  options: EnqueuedFilter = {},
): Promise<void> {
  if (task !== undefined) checkTask(task, 'expectNotEnqueued()');
  if ('count' in options) {
    throw new InvalidOptionError(
      'count',
      'expectNotEnqueued() expects none; for an exact number use expectEnqueued(task, payload, { count })',
    );
  }
  const { matched } = await findJobs(queue, task, payload, options, 'expectNotEnqueued()');
  if (matched.length === 0) return;
  const of = task === undefined ? 'no jobs' : `no job of task ${JSON.stringify(task)}`;
  throw new EnqueueAssertionError(
    `expected ${of}${describeWhat(payload, options)}, found ${matched.length}${describeFound(matched, 'matching jobs')}`,
  );
}

function checkTask(task: unknown, call: string): void {
  if (typeof task !== 'string' || task.length === 0) {
    throw new InvalidOptionError(
      'task',
      `${call} needs a task name (a non-empty string), got ${String(task)}`,
    );
  }
}

function checkFilter(options: ExpectEnqueuedOptions, call: string): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `${call} takes an object of filters, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!FILTER_KEYS.has(key)) {
      throw new InvalidOptionError(
        key,
        `${call} has no option ${JSON.stringify(key)}: it takes ${[...FILTER_KEYS].join(', ')}`,
      );
    }
  }
  for (const s of ([] as unknown[]).concat(options.state ?? [])) {
    if (!LIVE_STATES.includes(s as LiveState)) {
      throw new InvalidOptionError(
        'state',
        `must be ${LIVE_STATES.join(', ')} or an array of them, got ${JSON.stringify(s)} ` +
          '(completed and cancelled jobs have left the jobs table: drain() reports them)',
      );
    }
  }
  const { count } = options;
  if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
    throw new InvalidOptionError('count', `must be a whole number from 0, got ${String(count)}`);
  }
}

function describeWhat(payload: unknown, options: ExpectEnqueuedOptions): string {
  const { client: _client, count: _count, ...filter } = options;
  const parts: string[] = [];
  if (payload !== undefined) parts.push(`payload matching ${describeExpected(payload)}`);
  if (Object.keys(filter).length > 0) parts.push(`options matching ${describeExpected(filter)}`);
  return parts.length > 0 ? ` with ${parts.join(' and ')}` : '';
}

/** The jobs that are there, so a failed assertion shows what was enqueued instead. */
function describeFound(jobs: EnqueuedJob[], label = 'jobs of that task'): string {
  if (jobs.length === 0) return '; the jobs table has none of that task';
  const shown = jobs
    .slice(0, 10)
    .map(
      (j) =>
        `\n  #${j.id} ${j.task} on ${JSON.stringify(j.queue)} (${j.state}, priority ${j.priority}): ${JSON.stringify(j.payload)}`,
    );
  const more = jobs.length > 10 ? `\n  … and ${jobs.length - 10} more` : '';
  return `; ${label}:${shown.join('')}${more}`;
}
