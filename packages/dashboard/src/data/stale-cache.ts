/** A computation faster than this is simply done again: caching it would only make the page stale. */
const FRESH_MS = 50;

/**
 * One value computed by a query that may be slow (a week of statistics), shared by every
 * browser: computed again on every request while that takes under 50 ms, otherwise reused for
 * max(`maxAgeMs`, 20 × its duration) and then recomputed in the background while requests get
 * the previous value. One computation at a time, however many pages refresh.
 */
export class StaleCache<T> {
  private value: { data: T; at: Date; ms: number } | undefined;
  private running: Promise<{ data: T; at: Date; ms: number }> | undefined;

  constructor(private readonly compute: () => Promise<T>) {}

  async get(maxAgeMs: number): Promise<{ data: T; at: Date; ms: number }> {
    const v = this.value;
    if (!v || v.ms < FRESH_MS) return this.refresh();
    if (Date.now() - v.at.getTime() >= Math.max(maxAgeMs, 20 * v.ms)) {
      // A failed background refresh keeps the old value; the next request past its age tries again.
      this.refresh().catch(() => {});
    }
    return v;
  }

  private refresh(): Promise<{ data: T; at: Date; ms: number }> {
    this.running ??= (async () => {
      const at = new Date();
      const started = performance.now();
      try {
        const data = await this.compute();
        this.value = { data, at, ms: Math.round(performance.now() - started) };
        return this.value;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
