import type { Logger } from './logger.js';
import { notifyPayload, notifySql } from './sql/enqueue.js';
import type { Names } from './sql/names.js';
import type { Queryable } from './types.js';

/**
 * Wakes workers after jobs were committed through the queue's own pool.
 *
 * NOTIFY takes a cluster-wide lock at commit, so one NOTIFY per enqueue makes concurrent
 * producers queue up behind each other. Instead each enqueue only marks its queue as
 * "to announce"; at most one NOTIFY statement is in flight per process, and it carries
 * every queue marked since the last one. The jobs are already committed when it is sent,
 * so a woken worker always finds them.
 */
export class Notifier {
  private pending = new Map<string, number>();
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly names: Names,
    private readonly logger: Logger,
  ) {}

  nudge(queue: string, delayMs: number): void {
    const prev = this.pending.get(queue);
    if (prev === undefined || delayMs < prev) this.pending.set(queue, delayMs);
    this.inFlight ??= this.drain();
  }

  /** Resolves when every nudge so far has been sent. Safe twice; nudges after it are sent too. */
  async close(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async drain(): Promise<void> {
    // Yield once so that enqueues resolving in the same tick share one NOTIFY.
    await Promise.resolve();
    while (this.pending.size > 0) {
      const batch = [...this.pending].map(([q, d]) => notifyPayload(q, d));
      this.pending.clear();
      try {
        await this.db.query(notifySql(this.names), [batch]);
      } catch (error) {
        // Not fatal: the jobs are stored, and workers' polling finds them.
        this.logger.warn({ err: (error as Error).message }, 'could not notify workers; they will poll');
      }
    }
    this.inFlight = undefined;
  }
}
