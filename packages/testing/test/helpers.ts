import { defineTasks, Queue, silentLogger, type TaskMap, task } from '@queue/core';
import { expectNoAdvisoryLocks, type TestDatabase } from '@queue/test-utils';
import { afterEach } from 'vitest';

/** Queues made here are closed after each test, which must leave no advisory lock and no jobs. */
export function queueFactory(db: TestDatabase) {
  const open: Queue<any>[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((q) => q.close()));
    await expectNoAdvisoryLocks(db);
    await db.query('TRUNCATE queue.jobs, queue.queues, queue.job_stats, queue.job_history');
  });
  return function makeQueue<M extends TaskMap>(tasks: M): Queue<M> {
    const queue = new Queue<M>({ connectionString: db.url, logger: silentLogger, tasks });
    open.push(queue);
    return queue;
  };
}

/** A signup's tasks, recording what ran into `ran`: a welcome email, a CRM sync that follows it. */
export function signupTasks(ran: string[]) {
  return defineTasks({
    sendWelcomeEmail: task<
      { userId: string; locale?: string },
      { userId: string; locale?: string },
      { sent: true }
    >({
      queue: 'emails',
      handler: async ({ userId }) => {
        ran.push(`email:${userId}`);
        return { sent: true as const };
      },
    }),
    syncCrm: task<{ userId: string }>({
      queue: 'crm',
      maxAttempts: 3,
      backoff: { baseDelay: 60_000 },
      handler: async ({ userId }, { attempt }) => {
        ran.push(`crm:${userId}:${attempt}`);
        if (userId.startsWith('flaky') && attempt < 3) throw new Error(`CRM down (attempt ${attempt})`);
        if (userId.startsWith('broken')) throw new Error('CRM refuses this user');
      },
    }),
  });
}
