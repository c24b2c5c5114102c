/**
 * Coalesces concurrent calls into one batched call: one round trip, statement and commit for
 * many callers, each resolving only once the statement holding its item has committed, so
 * durability per call is unchanged. `run` returns one result per item, in input order. A call
 * made while a slot is free goes out at once: no timer, so an idle app pays no extra latency.
 * Used for plain single enqueues (InsertBatcher) and for keyed ones in the default mode (one
 * call of insert_unique_jobs(); callers with the same key in one batch get what one after the
 * other would: the first wins).
 */
export class Coalescer<In, Out> {
  private waiting: { item: In; resolve: (r: Out) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch = 1_000,
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.dispatch();
    });
  }

  /** Resolves once every item added so far has been settled. Safe twice. */
  close(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight++;
      this.run(batch.map((w) => w.item))
        .then(
          (results) => {
            for (const [i, w] of batch.entries()) w.resolve(results[i] as Out);
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
