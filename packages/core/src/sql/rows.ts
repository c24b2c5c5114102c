import type { Job, JobError } from '../types.js';

/** Epoch milliseconds: turning a number into a Date is far cheaper than parsing timestamp text. */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** The columns every statement returning jobs selects, `id` as text so it never becomes a lossy number. */
export const JOB_COLUMNS = (alias: string) =>
  `${alias}.id::text AS id, ${alias}.task, ${alias}.queue, ${alias}.payload, ${alias}.priority,
   ${ms(`${alias}.run_at`)} AS run_at, ${alias}.attempts, ${alias}.max_attempts, ${alias}.errors,
   ${ms(`${alias}.failed_at`)} AS failed_at, ${ms(`${alias}.created_at`)} AS created_at,
   ${ms(`${alias}.started_at`)} AS started_at, ${alias}.tags, ${alias}.meta`;

export interface JobRecord {
  id: string;
  task: string;
  queue: string;
  payload: unknown;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  errors: JobError[];
  failed_at: number | null;
  created_at: number;
  started_at: number | null;
  tags: string[];
  meta: Record<string, unknown>;
}

/** A row the claim returns: also how many times the job has been claimed, ever (the fencing token's counter). */
export interface ClaimedRecord extends JobRecord {
  claims: number;
  /** A cancel was requested while an earlier holder ran it: record it cancelled, do not run it. */
  cancel_requested: boolean;
}

export function toJob<P = unknown>(r: JobRecord): Job<P> {
  return {
    id: r.id,
    task: r.task,
    queue: r.queue,
    payload: r.payload as P,
    priority: r.priority,
    runAt: new Date(r.run_at),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    errors: r.errors,
    failedAt: r.failed_at === null ? null : new Date(r.failed_at),
    createdAt: new Date(r.created_at),
    startedAt: r.started_at === null ? null : new Date(r.started_at),
    tags: r.tags,
    meta: r.meta,
  };
}
