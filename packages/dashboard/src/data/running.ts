import type { Queue } from '@queue/core';
import { runningSql } from './sql.js';

export interface RunningJob {
  id: string;
  queue: string;
  task: string;
  priority: number;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  payloadPreview: string;
  /** Backend pid of the worker session holding the job's lock. */
  pid: number;
  worker: { applicationName: string | null; clientAddr: string | null; connectedAt: Date | null };
  /** When the dashboard first saw this attempt running. */
  since: Date;
  /**
   * True when `since` is only a bound: the attempt was already running at the first look,
   * or nobody looked for a while before it was seen. Shown as "≥ 3m".
   */
  sinceApprox: boolean;
}

/** Gaps between looks shorter than this still give a start time worth showing as exact. */
const EXACT_WITHIN_MS = 5_000;

/**
 * Core stores no start time for an attempt (a running job is just a held advisory lock),
 * so the dashboard remembers when it first saw each attempt's lock. Keyed by job, attempt
 * and worker pid, so a retried or re-claimed job starts a new clock.
 */
export class RunningTracker {
  private seen = new Map<string, { since: number; approx: boolean }>();
  private lastLook: number | undefined;

  constructor(private readonly queue: Queue<any>) {}

  async list(): Promise<RunningJob[]> {
    const { rows } = await this.queue.pool.query(runningSql(this.queue.names));
    const now = Date.now();
    const approx = this.lastLook === undefined || now - this.lastLook > EXACT_WITHIN_MS;
    const next = new Map<string, { since: number; approx: boolean }>();
    const jobs = rows.map((r): RunningJob => {
      const key = `${r.id}/${r.attempts}/${r.pid}`;
      const entry = this.seen.get(key) ?? { since: now, approx };
      next.set(key, entry);
      return {
        id: r.id,
        queue: r.queue,
        task: r.task,
        priority: r.priority,
        attempts: r.attempts,
        maxAttempts: r.max_attempts,
        runAt: r.run_at,
        createdAt: r.created_at,
        payloadPreview: r.payload_preview,
        pid: r.pid,
        worker: {
          applicationName: r.application_name,
          clientAddr: r.client_addr,
          connectedAt: r.backend_start,
        },
        since: new Date(entry.since),
        sinceApprox: entry.approx,
      };
    });
    // Only attempts still running are kept, so the map never outgrows the workers' concurrency.
    this.seen = next;
    this.lastLook = now;
    return jobs;
  }
}
