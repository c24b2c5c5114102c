import type { Job, JobError } from '../types.js';

/** The columns every statement returning jobs selects, `id` as text so it never becomes a lossy number. */
export const JOB_COLUMNS = (alias: string) =>
  `${alias}.id::text AS id, ${alias}.task, ${alias}.queue, ${alias}.payload, ${alias}.priority, ${alias}.run_at,
   ${alias}.attempts, ${alias}.max_attempts, ${alias}.errors, ${alias}.failed_at, ${alias}.created_at,
   ${alias}.started_at`;

export interface JobRecord {
  id: string;
  task: string;
  queue: string;
  payload: unknown;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  errors: JobError[];
  failed_at: Date | null;
  created_at: Date;
  started_at: Date | null;
}

export function toJob<P = unknown>(r: JobRecord): Job<P> {
  return {
    id: r.id,
    task: r.task,
    queue: r.queue,
    payload: r.payload as P,
    priority: r.priority,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    errors: r.errors,
    failedAt: r.failed_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
  };
}
