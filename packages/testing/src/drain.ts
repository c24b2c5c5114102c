import {
  drainScope,
  InvalidOptionError,
  type Job,
  type Logger,
  type Queue,
  type ResultOf,
  silentLogger,
  type TaskMap,
  type Worker,
} from '@queue/core';
import { DrainIncompleteError } from './errors.js';

export interface DrainOptions<M extends TaskMap = TaskMap> {
  /** Only jobs of these tasks run (others stay where they are). Default: every task with a handler. */
  tasks?: readonly (keyof M & string)[];
  /** Only jobs on these queues run. Default: every queue. */
  queues?: readonly string[];
  /**
   * Also run jobs scheduled for later (a future `runAt` or a `delay`), now. Default false:
   * they stay scheduled, as they would in production at this moment.
   */
  scheduled?: boolean;
  /**
   * Run a failed attempt's retry now instead of after its backoff, again until the job
   * completes or has used its `maxAttempts`. Default false: the attempt is reported `retried`
   * and the job waits for its backoff (a retry due at once, backoff 0, runs within the drain).
   */
  retries?: boolean;
  /** Jobs run at once. Default 1: jobs run one after another, in claim order (priority, run_at, id). */
  concurrency?: number;
  /** Milliseconds before drain() gives up with DrainIncompleteError. Default 30,000. */
  timeout?: number;
  /**
   * Attempts after which drain() gives up with DrainIncompleteError (a job that keeps
   * enqueueing another); up to `concurrency` more may have started by then. Default 1,000.
   */
  maxJobs?: number;
  /** For the drain's worker. Default: silent. */
  logger?: Logger;
}

/** How one attempt ended. */
export type DrainOutcome = 'completed' | 'failed' | 'retried' | 'cancelled';

/** One attempt a drain ran, typed by its task: `result` is the handler's return type. */
export type DrainedJob<M extends TaskMap = TaskMap> = {
  [K in keyof M & string]: {
    task: K;
    job: Job<unknown, K>;
    outcome: DrainOutcome;
    /** What the handler returned (completed attempts). */
    result?: ResultOf<M[K]>;
    /** What the handler threw (failed, retried and cancelled attempts). */
    error?: unknown;
    /** For `retried`: milliseconds until the retry is due by its backoff. */
    retryIn?: number;
  };
}[keyof M & string];

export interface DrainReport<M extends TaskMap = TaskMap> {
  /** Every attempt, in the order they finished. A job retried within the drain appears once per attempt. */
  jobs: DrainedJob<M>[];
  completed: number;
  failed: number;
  retried: number;
  cancelled: number;
}

/**
 * Runs every due job in scope with a real worker of `queue` (claims, retries, history as in
 * production), including the jobs those jobs enqueue, until none is due; then stops the worker.
 * Jobs on a paused queue, failed jobs and (without the options) scheduled jobs and retries
 * waiting for their backoff are left. A job another worker holds is waited for.
 */
export async function drain<M extends TaskMap>(
  queue: Queue<M>,
  options: DrainOptions<M> = {},
): Promise<DrainReport<M>> {
  checkDrainOptions(options);
  const scope = drainScope(queue, { tasks: options.tasks, queues: options.queues });
  const timeout = options.timeout ?? 30_000;
  const maxJobs = options.maxJobs ?? 1_000;
  const report: DrainReport<M> = { jobs: [], completed: 0, failed: 0, retried: 0, cancelled: 0 };
  const deadline = Date.now() + timeout;
  const bringForward = { fresh: options.scheduled === true, retries: options.retries === true };
  const incomplete = (why: string) =>
    new DrainIncompleteError(
      `drain() stopped ${why} (${report.jobs.length} attempts so far: ${report.completed} completed, ` +
        `${report.failed} failed, ${report.retried} retried, ${report.cancelled} cancelled); its report is on error.report`,
      report,
    );
  for (;;) {
    await scope.runScheduledNow(bringForward);
    const queues = await scope.dueQueues();
    if (queues.length === 0) return report;
    // One worker per round, for the queues with due jobs; a job may enqueue onto a queue the
    // round's worker does not serve, which the next round picks up.
    const worker = scope.worker(queues, {
      concurrency: options.concurrency ?? 1,
      // Its poll is the backstop that notices retries falling due and jobs freed by others:
      // short, since a test waits on it. Cheap: one indexed claim per queue per tick.
      pollInterval: 25,
      unroutedCheckInterval: 0,
      stallThreshold: 0,
      logger: options.logger ?? silentLogger,
    });
    try {
      await runRound(worker, scope, report, { served: queues, deadline, maxJobs, bringForward, incomplete });
    } finally {
      await worker.stop();
    }
  }
}

/** Runs the worker until every attempt it started is recorded and no job in scope is due. */
async function runRound<M extends TaskMap>(
  worker: Worker,
  scope: ReturnType<typeof drainScope>,
  report: DrainReport<M>,
  limits: {
    /** The queues this round's worker serves: due jobs elsewhere are the next round's. */
    served: readonly string[];
    deadline: number;
    maxJobs: number;
    bringForward: { fresh: boolean; retries: boolean };
    incomplete: (why: string) => Error;
  },
): Promise<void> {
  let started = 0;
  let settled = 0;
  let checking = false;
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const record = (entry: Omit<DrainedJob<TaskMap>, 'task'> & { job: Job }) => {
    settled++;
    report.jobs.push({ ...entry, task: entry.job.task } as DrainedJob<M>);
    report[entry.outcome]++;
    void check();
  };
  // Idle when every started attempt has been recorded (the events come after the write) and
  // the database has nothing due in scope; checked after each outcome and each claim.
  const check = async () => {
    if (checking || started !== settled) return;
    checking = true;
    try {
      if (started >= limits.maxJobs)
        return reject(limits.incomplete(`after maxJobs (${limits.maxJobs}) attempts`));
      await scope.runScheduledNow(limits.bringForward);
      const due = (await scope.dueQueues()).filter((q) => limits.served.includes(q));
      if (started === settled && due.length === 0) resolve();
    } catch (error) {
      reject(error);
    } finally {
      checking = false;
    }
  };
  worker.on('started', () => void started++);
  worker.on('completed', ({ job, result }) => record({ job, outcome: 'completed', result }));
  worker.on('failed', ({ job, error }) => record({ job, outcome: 'failed', error }));
  worker.on('retried', ({ job, error, delayMs }) =>
    record({ job, outcome: 'retried', error, retryIn: delayMs }),
  );
  worker.on('cancelled', ({ job, error }) => record({ job, outcome: 'cancelled', error }));
  worker.on('claimed', () => void check());
  const timer = setTimeout(
    () => reject(limits.incomplete(`at its timeout with jobs still due or running`)),
    Math.max(0, limits.deadline - Date.now()),
  );
  try {
    await worker.start();
    void check();
    await promise;
  } finally {
    clearTimeout(timer);
  }
}

function checkDrainOptions(options: DrainOptions<any>): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `drain() takes an object of options, got ${String(options)}`);
  }
  const known = ['tasks', 'queues', 'scheduled', 'retries', 'concurrency', 'timeout', 'maxJobs', 'logger'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        key,
        `drain() has no option ${JSON.stringify(key)}: it takes ${known.join(', ')}`,
      );
    }
  }
  for (const key of ['scheduled', 'retries'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new InvalidOptionError(key, `must be true or false, got ${String(options[key])}`);
    }
  }
  for (const key of ['timeout', 'maxJobs'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new InvalidOptionError(key, `must be a positive integer, got ${String(v)}`);
    }
  }
}
