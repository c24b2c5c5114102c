import type { JobRow } from './options.js';
import type { Inserted } from './sql/enqueue.js';

interface Waiting {
  row: JobRow;
  resolve: (r: Inserted) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 1_000;

/**
 * Coalesces concurrent single enqueues into one multi-row INSERT. Each caller still
 * resolves only after the statement holding its row has committed, so durability per call
 * is unchanged; what is shared is the round trip, the statement and the commit. A call made
 * while a slot is free goes out at once: no timer, so an idle app pays no extra latency.
 */
export class InsertBatcher {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly insertMany: (rows: JobRow[]) => Promise<Inserted[]>,
    private readonly maxInFlight: number,
  ) {}

  add(row: JobRow): Promise<Inserted> {
    return new Promise<Inserted>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Resolves once every row added so far has been written or has failed. The owner stops
   * adding rows first (Queue refuses enqueues after close()). Safe twice.
   */
  close(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      this.inFlight++;
      this.insertMany(batch.map((w) => w.row))
        .then(
          (records) => {
            // Ids are assigned in input order; RETURNING promises no order.
            records.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
            for (const [i, w] of batch.entries()) w.resolve(records[i]!);
          },
          (error) => {
            for (const w of batch) w.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.dispatch();
          if (this.inFlight === 0 && this.waiting.length === 0) {
            for (const resolve of this.idle.splice(0)) resolve();
          }
        });
    }
  }
}
