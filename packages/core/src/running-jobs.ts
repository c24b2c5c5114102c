import { checkInt } from './options.js';
import { runningJobsSql } from './sql/admin.js';
import type { Names } from './sql/names.js';
import { toJob } from './sql/rows.js';
import type { Job, Queryable } from './types.js';

/** A job a worker holds right now, and the worker's session. */
export interface RunningJob extends Job {
  /** The Postgres backend pid of the worker session holding the job's lock. */
  backendPid: number;
  /** @deprecated The backend pid, as `backendPid`; `worker.pid` is the worker's Node process. */
  pid: number;
  /** How long the current attempt has run, by the database clock; null when `startedAt` is. */
  runningMs: number | null;
  /**
   * The last value the handler reported with `ctx.progress()` and the worker wrote (writes are
   * throttled to one per `progressInterval` per job); null when it has reported none.
   */
  progress: unknown;
  /** When cancelJob() asked this job's worker to abort it; null when nobody has. */
  cancelRequestedAt: Date | null;
  /**
   * The worker: its id, host name and Node pid from its live row in the workers table (null
   * for a session that registered none, such as a worker of an older @queue/core), and its
   * session's application name, client address and when it connected.
   */
  worker: {
    id: string | null;
    host: string | null;
    pid: number | null;
    applicationName: string | null;
    clientAddr: string | null;
    connectedAt: Date | null;
  };
}

/** The running jobs, longest-running first: QueueAdmin.runningJobs(). */
export async function runningJobs(
  db: Queryable,
  names: Names,
  options: { limit?: number },
): Promise<RunningJob[]> {
  const limit = checkInt('limit', options.limit ?? 100, 1, 10_000);
  const { rows } = await db.query(runningJobsSql(names), [limit]);
  return rows.map((r: any) => ({
    ...toJob(r),
    backendPid: r.pid,
    pid: r.pid,
    runningMs: r.running_ms === null ? null : Number(r.running_ms),
    progress: r.progress ?? null,
    cancelRequestedAt: r.cancel_requested_at == null ? null : new Date(r.cancel_requested_at),
    worker: {
      id: r.worker_id ?? null,
      host: r.worker_host ?? null,
      pid: r.worker_pid ?? null,
      applicationName: r.application_name || null,
      clientAddr: r.client_addr ?? null,
      connectedAt: r.backend_start == null ? null : new Date(r.backend_start),
    },
  }));
}
