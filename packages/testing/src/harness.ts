import { type PayloadOf, type Queue, queueTables, type TaskMap } from '@queue/core';
import type pg from 'pg';
import {
  type EnqueuedFilter,
  type ExpectEnqueuedOptions,
  expectEnqueued,
  expectNotEnqueued,
  findJobs,
} from './assertions.js';
import { type DrainOptions, type DrainReport, drain } from './drain.js';
import { type InlineMode, type InlineOptions, inline } from './inline.js';
import type { EnqueuedJob } from './jobs.js';
import type { Matcher } from './match.js';
import { withRollback } from './rollback.js';

/** The test helpers for one queue, typed by its task map: task names and payloads are checked. */
export interface QueueTesting<M extends TaskMap> {
  readonly queue: Queue<M>;
  /**
   * Resolves with the jobs of `task` in the jobs table whose payload matches `payload`
   * (partially: only the keys given, vitest/jest asymmetric matchers allowed) and the options;
   * rejects with EnqueueAssertionError, listing the task's jobs, when there is none (or not
   * exactly `count`).
   */
  expectEnqueued<K extends keyof M & string>(
    task: K,
    payload?: Matcher<PayloadOf<M[K]>>,
    options?: ExpectEnqueuedOptions,
  ): Promise<EnqueuedJob<PayloadOf<M[K]>, K>[]>;
  /** Rejects with EnqueueAssertionError when a job of `task` (any task when undefined) matches. */
  expectNotEnqueued<K extends keyof M & string>(
    task?: K,
    payload?: Matcher<PayloadOf<M[K]>>,
    options?: EnqueuedFilter,
  ): Promise<void>;
  /** The matching jobs of `task` (every task when undefined), oldest first: `.length` counts them. */
  enqueuedJobs<K extends keyof M & string>(
    task?: K,
    payload?: Matcher<PayloadOf<M[K]>>,
    options?: EnqueuedFilter,
  ): Promise<EnqueuedJob<PayloadOf<M[K]>, K>[]>;
  /** See drain(). */
  drain(options?: DrainOptions<M>): Promise<DrainReport<M>>;
  /** See inline(). */
  inline(options?: InlineOptions<M>): Promise<InlineMode<M>>;
  /** See withRollback(): on this queue's pool. */
  withRollback<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Deletes every job and every history row of this queue's schema: a clean slate between tests. */
  clearJobs(): Promise<void>;
}

/**
 * Test helpers bound to `queue` (the one your app enqueues with), in manual mode: jobs are
 * really written to Postgres and nothing runs them until you call drain() or turn on inline().
 */
export function queueTesting<M extends TaskMap>(queue: Queue<M>): QueueTesting<M> {
  return {
    queue,
    expectEnqueued: (task, payload, options) => expectEnqueued(queue, task, payload, options) as Promise<any>,
    expectNotEnqueued: (task, payload, options) => expectNotEnqueued(queue, task, payload, options),
    enqueuedJobs: async (task, payload, options = {}) =>
      (await findJobs(queue, task, payload, options, 'enqueuedJobs()')).matched as any,
    drain: (options) => drain(queue, options),
    inline: (options) => inline(queue, options),
    withRollback: (fn) => withRollback(queue, fn),
    clearJobs: () => clearJobs(queue),
  };
}

async function clearJobs(queue: Queue<any>): Promise<void> {
  const { jobs, history } = queueTables(queue);
  await queue.pool.query(`DELETE FROM ${jobs}`);
  await queue.pool.query(`DELETE FROM ${history}`);
}
