/**
 * Refreshes a page without reloading it: calls `load` now and then again after each
 * answer, waiting `base` ms, or ten times as long as the last answer took when the
 * database is slow, so a struggling server is not asked harder. Paused while the tab is hidden.
 */
export class Poller {
  private timer: number | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly onVisibility = () => {
    if (document.hidden) this.clear();
    else void this.now();
  };

  constructor(
    private readonly load: () => Promise<void>,
    private readonly base: number,
    private readonly status: (ok: boolean, message?: string) => void,
  ) {}

  start(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.now();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** Refreshes at once (after an action), then resumes the schedule. */
  async now(): Promise<void> {
    this.clear();
    if (this.running) await this.running;
    if (this.stopped) return;
    const started = performance.now();
    this.running = this.load().then(
      () => this.status(true),
      (e: Error) => this.status(false, e.message),
    );
    await this.running;
    this.running = undefined;
    const took = performance.now() - started;
    if (!this.stopped && !document.hidden) {
      this.timer = window.setTimeout(() => void this.now(), Math.max(this.base, 10 * took));
    }
  }

  private clear(): void {
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
