import {
  drainScope,
  type EnqueueOptions,
  type Job,
  type Logger,
  type Queue,
  silentLogger,
  type TaskMap,
} from '@queue/core';
import type { DrainedJob, DrainOutcome } from './drain.js';
import { DrainIncompleteError } from './errors.js';

export interface InlineOptions<M extends TaskMap = TaskMap> {
  /** Tasks run inline. Default: every task with a handler. */
  tasks?: readonly (keyof M & string)[];
  /** Queues served. Default: 'default' and every queue a task in scope names. */
  queues?: readonly string[];
  /** Jobs run at once. Default 8. */
  concurrency?: number;
  logger?: Logger;
}

/** Inline mode while it is on: what ran, and how to wait for jobs committed in a transaction. */
export interface InlineMode<M extends TaskMap = TaskMap> {
  /** Every attempt run so far, in the order they finished. */
  readonly jobs: readonly DrainedJob<M>[];
  /**
   * Resolves once every due job in scope on the served queues has run and been recorded: for
   * jobs enqueued with `client`, which run when their transaction commits. Rejects with
   * DrainIncompleteError after `timeout` ms (default 30,000).
   */
  settled(options?: { timeout?: number }): Promise<void>;
  /** Stops the worker (running jobs finish) and gives the queue its own enqueue back. Safe twice. */
  stop(): Promise<void>;
}

/**
 * Turns on inline mode for `queue`: a worker of it runs in this process, woken by each enqueue
 * (LISTEN/NOTIFY, as in production), and an enqueue on the pool resolves only once the job's
 * first attempt has run and been recorded, so the test sees its effects on the next line. A job
 * enqueued with `client` runs when that transaction commits (the wake-up is delivered at COMMIT)
 * and never if it rolls back: `await settled()` after the commit. Jobs scheduled for later,
 * deduplicated by a unique key, of tasks or on queues out of scope are not waited for.
 */
export async function inline<M extends TaskMap>(
  queue: Queue<M>,
  options: InlineOptions<M> = {},
): Promise<InlineMode<M>> {
  const scope = drainScope(queue, { tasks: options.tasks, queues: options.queues });
  const served = new Set(options.queues ?? ['default', ...scope.taskQueues]);
  const worker = scope.worker([...served], {
    concurrency: options.concurrency ?? 8,
    unroutedCheckInterval: 0,
    stallThreshold: 0,
    logger: options.logger ?? silentLogger,
  });
  const jobs: DrainedJob<M>[] = [];
  const outcomes = new Map<string, DrainOutcome>();
  const waiters = new Map<string, (() => void)[]>();
  const changed = new Set<() => void>();
  let started = 0;
  const record = (entry: {
    job: Job;
    outcome: DrainOutcome;
    result?: unknown;
    error?: unknown;
    retryIn?: number;
  }) => {
    jobs.push({ ...entry, task: entry.job.task } as DrainedJob<M>);
    outcomes.set(entry.job.id, entry.outcome);
    for (const w of waiters.get(entry.job.id) ?? []) w();
    waiters.delete(entry.job.id);
    for (const c of changed) c();
  };
  worker.on('started', () => void started++);
  worker.on('completed', ({ job, result }) => record({ job, outcome: 'completed', result }));
  worker.on('failed', ({ job, error }) => record({ job, outcome: 'failed', error }));
  worker.on('retried', ({ job, error, delayMs }) =>
    record({ job, outcome: 'retried', error, retryIn: delayMs }),
  );
  worker.on('cancelled', ({ job, error }) => record({ job, outcome: 'cancelled', error }));
  worker.on('claimed', () => {
    for (const c of changed) c();
  });
  await worker.start();

  const ranOnce = (id: string) =>
    outcomes.has(id)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.set(id, [...(waiters.get(id) ?? []), resolve]));
  const runsNow = (job: Job, options: EnqueueOptions | undefined) =>
    !options?.client &&
    job.unique?.outcome !== 'deduplicated' &&
    scope.tasks.includes(job.task) &&
    served.has(job.queue) &&
    job.runAt.getTime() <= Date.now();

  const own = { enqueue: queue.enqueue, enqueueMany: queue.enqueueMany };
  const patched = queue as unknown as Record<'enqueue' | 'enqueueMany', (...args: any[]) => Promise<any>>;
  patched.enqueue = async (task: string, payload: unknown, options?: EnqueueOptions) => {
    const job: Job = await own.enqueue.call(queue, task as never, payload as never, options);
    if (runsNow(job, options)) await ranOnce(job.id);
    return job;
  };
  patched.enqueueMany = async (items: any, options?: { client?: unknown }) => {
    const list: Job[] = await own.enqueueMany.call(queue, items, options as never);
    await Promise.all(list.filter((j) => runsNow(j, options as EnqueueOptions)).map((j) => ranOnce(j.id)));
    return list;
  };

  let stopping: Promise<void> | undefined;
  return {
    jobs,
    async settled({ timeout = 30_000 } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        // Every started attempt recorded, and nothing due on the served queues.
        const next = new Promise<void>((resolve) => {
          const done = () => {
            changed.delete(done);
            resolve();
          };
          changed.add(done);
          // Backstop for a job committed without an event reaching us yet: look again soon.
          setTimeout(done, 100);
        });
        const due = (await scope.dueQueues()).filter((q) => served.has(q));
        if (started === jobs.length && due.length === 0) return;
        if (Date.now() > deadline) {
          throw new DrainIncompleteError(
            `inline settled() timed out after ${timeout} ms: jobs still due on ${due.join(', ') || '(running)'}`,
            { jobs },
          );
        }
        await next;
      }
    },
    stop() {
      stopping ??= (async () => {
        delete (patched as Partial<typeof patched>).enqueue;
        delete (patched as Partial<typeof patched>).enqueueMany;
        await worker.stop();
      })();
      return stopping;
    },
  };
}
