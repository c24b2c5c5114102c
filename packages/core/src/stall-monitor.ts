/**
 * Notices when this process' event loop did not turn for longer than a threshold: a paused
 * process (SIGSTOP, a debugger), a long GC pause, a suspended VM. A tick that comes late by
 * more than the threshold reports the stall. Late is measured by the monotonic clock and by
 * the wall clock, whichever saw more: the monotonic clock does not advance while a machine
 * is suspended; a wall-clock step forward only costs a needless re-check.
 *
 * It cannot run before everything else once the loop turns again. A process frozen while
 * waiting in epoll_wait (its usual state) resumes with EINTR (signal(7)), and libuv then runs
 * every expired timer (this tick and the handlers' own, in due order) before it reads any
 * socket; one frozen mid-work reads its ready sockets first. Either way a handler's timer can
 * carry on before the re-check has answered, and in the first case before the dead session's
 * error is read (Node 20, libuv 1.46; fault 19 asserts it). So this is a best effort for
 * handlers that do not call `assertOwnership()`.
 */
export class StallMonitor {
  private timer: NodeJS.Timeout | undefined;
  private lastMono = 0;
  private lastWall = 0;
  /** A quarter of the threshold, at most 500 ms: short, so that its tick is due before most timers. */
  private readonly tickMs: number;

  constructor(
    private readonly thresholdMs: number,
    private readonly onStall: (stalledMs: number) => void,
  ) {
    this.tickMs = Math.max(10, Math.min(500, Math.floor(thresholdMs / 4)));
  }

  start(): void {
    if (this.thresholdMs === 0 || this.timer) return;
    this.lastMono = performance.now();
    this.lastWall = Date.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const mono = performance.now();
    const wall = Date.now();
    const late = Math.max(mono - this.lastMono, wall - this.lastWall) - this.tickMs;
    this.lastMono = mono;
    this.lastWall = wall;
    if (late > this.thresholdMs) this.onStall(Math.round(late));
  }
}
