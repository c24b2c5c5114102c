import { Coalescer } from './coalescer.js';
import type { JobRow } from './options.js';
import type { Inserted } from './sql/enqueue.js';

/** Coalesces concurrent single enqueues into one multi-row INSERT (see Coalescer). */
export class InsertBatcher extends Coalescer<JobRow, Inserted> {
  constructor(insertMany: (rows: JobRow[]) => Promise<Inserted[]>, maxInFlight: number) {
    super(async (rows) => {
      const records = await insertMany(rows);
      // Ids are assigned in input order; RETURNING promises no order.
      return records.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    }, maxInFlight);
  }
}
