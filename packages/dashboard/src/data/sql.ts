import type { Queue } from '@queue/core';

/** The parts of a queue's naming the statements need (its schema). */
export type Names = Queue['names'];

/*
 * The only statements the dashboard keeps of its own: what core has no call for. Jobs,
 * running jobs and actions go through core (listJobs, runningJobs, runNow, ...).
 */

/**
 * Base counts per queue, one sequential (parallel) scan: the expensive part of the
 * overview, so it is cached (see counts.ts). Unlike core's countJobs() it leaves the
 * advisory-lock join out: running jobs are few, listed fresh by core's runningJobs(), and
 * subtracted from `due`.
 */
export function baseCountsSql(n: Names): string {
  return `SELECT queue,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at <= now())::int AS due,
      count(*) FILTER (WHERE failed_at IS NULL AND run_at > now())::int AS scheduled,
      count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed
    FROM ${n.q}.jobs GROUP BY queue`;
}

/** Every queue that has been paused or resumed, from the small `queues` table. */
export function pausedSql(n: Names): string {
  return `SELECT name AS queue, paused_at FROM ${n.q}.queues`;
}

/** The sessions of worker pids $1 (int[]): which process runs a job, for the running page. */
export function workersSql(): string {
  return `SELECT pid, application_name, host(client_addr) AS client_addr, backend_start
    FROM pg_stat_activity WHERE pid = ANY($1::int[])`;
}
