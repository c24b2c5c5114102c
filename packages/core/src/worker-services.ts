import type pg from 'pg';
import type { Claimer } from './claimer.js';
import { HistoryMaintenance } from './history.js';
import type { Logger } from './logger.js';
import { Scheduler } from './schedules/scheduler.js';
import type { Names } from './sql/names.js';
import { StallMonitor } from './stall-monitor.js';

/**
 * What a worker runs beside its cycle loop, on timers: its polls, the session check, the stall
 * monitor, the recurring jobs' scheduler and the history's maintenance. One start()/stop()
 * contract for all of them. stop() comes in two steps because the worker's shutdown needs
 * the timers and the scheduler gone before it drains its jobs, and the stall monitor until after.
 */
export class WorkerServices {
  readonly scheduler: Scheduler;
  private readonly stall: StallMonitor;
  private readonly history: HistoryMaintenance | undefined;
  private timers: NodeJS.Timeout[] = [];
  private historyStopped: Promise<void> | undefined;
  private timersStopped: Promise<void> | undefined;

  constructor(
    private readonly o: {
      claimer: Claimer;
      names: Names;
      logger: Logger;
      pool: pg.Pool | undefined;
      stallThreshold: number;
      onStall(ms: number): void;
      /** Callbacks run every `ms` while the worker runs: its polls and session checks. */
      intervals: [ms: number, run: () => void][];
    },
  ) {
    this.stall = new StallMonitor(o.stallThreshold, o.onStall);
    // On the claimer session, not the pool: an exhausted app pool must not delay ticks.
    this.scheduler = new Scheduler({
      query: (text, values) => o.claimer.run(text, values),
      names: o.names,
      logger: o.logger,
    });
    // On the pool, never the claimer session, which must stay free for claims.
    this.history = o.pool && new HistoryMaintenance({ pool: o.pool, names: o.names, logger: o.logger });
  }

  start(): void {
    for (const [ms, run] of this.o.intervals) {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    }
    this.stall.start();
    this.scheduler.start();
    this.history?.start();
  }

  /** First step of stop: no more timers, ticks or maintenance runs (a run in progress ends later). */
  stopTimers(): Promise<void> {
    this.timersStopped ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      this.historyStopped = this.history?.stop();
      await this.scheduler.stop();
    })();
    return this.timersStopped;
  }

  /** Last step of stop, once the jobs are settled: the stall monitor, and the maintenance run's end. */
  async stop(): Promise<void> {
    await this.stopTimers();
    this.stall.stop();
    await this.historyStopped;
  }
}
