import { expectNoAdvisoryLocks, type TestDatabase } from '@queue/test-utils';
import { afterEach } from 'vitest';
import {
  Queue,
  type QueueOptions,
  silentLogger,
  type TaskMap,
  type Worker,
  type WorkerOptions,
} from '../src/index.js';

/**
 * Queues and workers made through these helpers are closed after each test, and then the
 * test's database must hold no advisory lock: a leaked lock would block a job forever.
 */
export function queueFactory(db: TestDatabase) {
  const open: Queue<any>[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((q) => q.close()));
    await expectNoAdvisoryLocks(db);
    // Tests in one file share its database: start each from an empty queue.
    await db.query('TRUNCATE queue.jobs, queue.queues, queue.job_stats, queue.job_history');
  });
  return function makeQueue<M extends TaskMap>(options: Omit<QueueOptions<M>, 'connectionString'> = {}) {
    const queue = new Queue<M>({ connectionString: db.url, logger: silentLogger, ...options });
    open.push(queue);
    return queue;
  };
}

export async function startWorker(queue: Queue<any>, options: WorkerOptions = {}): Promise<Worker> {
  const worker = queue.worker({ pollInterval: 200, shutdownTimeout: 5_000, ...options });
  await worker.start();
  return worker;
}

/** A promise that the test resolves by hand: lets a handler wait for the test, not for time. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}

/** Resolves after the worker has made `n` more claims that found nothing: polls that came up empty. */
export function emptyClaims(worker: Worker, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = (e: { count: number }) => {
      if (e.count === 0 && ++seen >= n) {
        worker.off('claimed', listener);
        resolve();
      }
    };
    worker.on('claimed', listener);
  });
}
