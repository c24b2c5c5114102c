/** Per-queue counts as one scan returns them: due includes running jobs. */
export interface ScanCounts {
  due: number;
  scheduled: number;
  failed: number;
}

export interface Scan<C extends ScanCounts = ScanCounts> {
  /** When it was counted (Date.now()), and how long the scan took. */
  at: number;
  ms: number;
  rows: Map<string, C>;
}

/** A count this fast is simply redone on every request. */
const CHEAP_MS = 50;
/** A slower count is redone at most this often relative to its own cost (5% of one core per caller). */
const COST_FACTOR = 20;

/**
 * Keeps the per-queue scan cheap with millions of jobs. A full scan takes ~160 ms per
 * 1,000,000 jobs on a small machine, so it is redone on every call while it is fast,
 * otherwise at most every max(maxAge, 20 × its own duration), in the background (stale while
 * revalidating), one scan at a time however many callers ask.
 */
export class CountCache<C extends ScanCounts = ScanCounts> {
  private scan: Scan<C> | undefined;
  private counting: Promise<Scan<C>> | undefined;

  constructor(private readonly count: () => Promise<Map<string, C>>) {}

  async get(maxAgeMs: number): Promise<Scan<C>> {
    const scan = this.scan;
    if (!scan || scan.ms < CHEAP_MS) return this.refresh();
    if (Date.now() - scan.at > Math.max(maxAgeMs, COST_FACTOR * scan.ms)) {
      void this.refresh().catch(() => {});
    }
    return scan;
  }

  /** After a change the caller made (a retry, a delete), the next call counts afresh. */
  invalidate(): void {
    if (this.scan) this.scan.at = 0;
  }

  private refresh(): Promise<Scan<C>> {
    this.counting ??= (async () => {
      try {
        const started = performance.now();
        const rows = await this.count();
        const scan: Scan<C> = { at: Date.now(), ms: Math.round(performance.now() - started), rows };
        this.scan = scan;
        return scan;
      } finally {
        this.counting = undefined;
      }
    })();
    return this.counting;
  }
}
