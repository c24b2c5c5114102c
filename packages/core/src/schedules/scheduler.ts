import type pg from 'pg';
import { reconnectDelay } from '../connection.js';
import type { Logger } from '../logger.js';
import { MAX_TIMER_MS } from '../options.js';
import type { Names } from '../sql/names.js';
import { fireTicksSql, scanSchedulesSql } from '../sql/schedules.js';
import { planTicks, type TickPlan } from './plan.js';
import { ruleOf } from './rows.js';
import { timingOf } from './timing.js';

/** Due schedules read and fired per statement. */
const BATCH = 500;
/**
 * Jobs inserted per statement, at most (past the first schedule's): catch-up `{ each: n }`
 * over many schedules stays a few statements of bounded length, well inside the claimer
 * session's query timeout.
 */
const MAX_JOBS = 5_000;
/**
 * Longest sleep between reads when nothing is due sooner: the backstop for a missed
 * "schedule changed" notification (the listener was reconnecting). One indexed read per worker.
 */
const REFRESH_MS = 5_000;
/** A due row this pass could not take (another process held or moved it): look again after this. */
const CONTENDED_MS = 100;

/** A due schedule as scanSchedulesSql returns it. */
interface DueRow {
  name: string;
  cron: string | null;
  interval_ms: number | null;
  time_zone: string;
  catch_up: 'skip' | 'once' | 'each';
  catch_up_max: number | null;
  next_run_at: number;
  next_us: string;
  version: string;
}

/** What the scheduler has sent, for measuring its load (tests, diagnostics). */
export interface SchedulerStats {
  /** Statements sent, and the time spent waiting for their answers (ms). */
  statements: number;
  statementMs: number;
  /** Schedules this process moved on, and jobs it inserted. */
  advanced: number;
  jobs: number;
}

export interface SchedulerOptions {
  /**
   * Runs one statement. A worker passes its claimer session: the scheduler then needs no
   * connection of the app's pool (an exhausted pool does not hold ticks up), and its statements
   * have the session's query timeout. They are short and serialised with the worker's claims.
   */
  query: (text: string, values: unknown[]) => Promise<pg.QueryResult>;
  names: Names;
  logger: Logger;
}

/**
 * Fires the ticks of every schedule in the database. Every worker runs one; there is no
 * leader. A pass reads the due schedules and the delay to the next one by the database clock,
 * plans each due schedule's ticks from its stored next_run_at (never from this process' clock:
 * see planTicks), and fires all of them in one statement whose compare-and-set lets exactly one
 * process fire a tick. Between passes one timer waits for the earliest next_run_at; a
 * notification from the admin API ("a schedule changed") wakes it sooner.
 */
export class Scheduler {
  readonly stats: SchedulerStats = { statements: 0, statementMs: 0, advanced: 0, jobs: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires, by performance.now() (monotonic: unaffected by the wall clock). */
  private timerAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private failures = 0;
  /** Schedules whose plan failed, by name and version, so each failure is logged once. */
  private readonly reported = new Set<string>();
  private readonly sql: { scan: string; fire: string };

  constructor(private readonly o: SchedulerOptions) {
    this.sql = { scan: scanSchedulesSql(o.names), fire: fireTicksSql(o.names) };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake(0);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timerAt = Number.POSITIVE_INFINITY;
    await this.running;
  }

  /** Runs a pass in `delayMs` (database clock), unless one is armed for sooner. */
  wake(delayMs: number): void {
    if (this.stopped) return;
    const at = performance.now() + Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timerAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(0, at - performance.now()),
    );
    this.timer.unref();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async run(): Promise<void> {
    let delay: number;
    try {
      delay = await this.pass();
      this.failures = 0;
    } catch (error) {
      delay = reconnectDelay(this.failures++);
      if (this.failures === 1 || this.failures % 50 === 0) {
        this.o.logger.warn(
          { err: (error as Error).message, failures: this.failures },
          'scheduler pass failed; other workers fire the ticks meanwhile, and missed ones follow the catch-up policy',
        );
      }
    }
    this.wake(delay);
  }

  /** Fires what is due; returns the delay until the next pass. */
  private async pass(): Promise<number> {
    for (;;) {
      const read = performance.now();
      const { rows } = await this.query(this.sql.scan, [BATCH]);
      const now = new Date(rows[0].now);
      const due = rows[0].due as DueRow[];
      let soonest: number = rows[0].next_in ?? REFRESH_MS;
      if (due.length === 0) return Math.min(soonest, REFRESH_MS);
      const batch = this.plan(due, now);
      let advanced = 0;
      if (batch.count > 0) {
        const fired = await this.query(this.sql.fire, batch.values);
        advanced = fired.rows[0].advanced as number;
        this.stats.advanced += advanced;
        this.stats.jobs += fired.rows[0].inserted as number;
      }
      // The schedules just moved on are due again at their new ticks, by the database clock.
      const elapsed = performance.now() - read;
      soonest = Math.min(soonest, batch.soonest - now.getTime()) - elapsed;
      if (advanced < batch.count) return Math.min(soonest, CONTENDED_MS);
      if (due.length < BATCH && !batch.truncated) return Math.min(soonest, REFRESH_MS);
    }
  }

  /** The statement values that fire every plannable due schedule. */
  private plan(
    due: DueRow[],
    now: Date,
  ): { count: number; soonest: number; truncated: boolean; values: unknown[] } {
    const s = { name: [] as string[], nextUs: [] as string[], version: [] as string[], next: [] as Date[] };
    const last: (Date | null)[] = [];
    const k = { name: [] as string[], tick: [] as Date[], meta: [] as string[] };
    let soonest = Number.POSITIVE_INFINITY;
    // Many schedules share an expression and a tick: plan each combination once per pass.
    const plans = new Map<string, TickPlan | null>();
    let truncated = false;
    for (const row of due) {
      if (k.name.length >= MAX_JOBS) {
        truncated = true;
        break;
      }
      const current = new Date(row.next_run_at);
      const key = `${row.cron ?? row.interval_ms}\u0000${row.time_zone}\u0000${row.catch_up}\u0000${row.catch_up_max}\u0000${row.next_run_at}`;
      let plan = plans.get(key);
      if (plan === undefined) {
        try {
          const timing = timingOf(
            { cron: row.cron, intervalMs: row.interval_ms, timeZone: row.time_zone },
            current,
          );
          plan = planTicks(timing, ruleOf(row.catch_up, row.catch_up_max), current, now);
        } catch (error) {
          this.reportOnce(row, error);
          plan = null;
        }
        plans.set(key, plan);
      }
      if (!plan) continue;
      s.name.push(row.name);
      s.nextUs.push(row.next_us);
      s.version.push(row.version);
      s.next.push(plan.next);
      last.push(plan.fire.at(-1) ?? null);
      soonest = Math.min(soonest, plan.next.getTime());
      for (const tick of plan.fire) {
        k.name.push(row.name);
        k.tick.push(tick);
        const meta: Record<string, string> = { schedule: row.name, scheduledAt: tick.toISOString() };
        if (plan.missedFrom) meta.missedFrom = plan.missedFrom.toISOString();
        k.meta.push(JSON.stringify(meta));
      }
    }
    return {
      count: s.name.length,
      soonest,
      truncated,
      values: [s.name, s.nextUs, s.version, s.next, last, k.name, k.tick, k.meta],
    };
  }

  private reportOnce(row: DueRow, error: unknown): void {
    const key = `${row.name}\u0000${row.version}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.o.logger.error(
      { schedule: row.name, cron: row.cron, timeZone: row.time_zone, err: (error as Error).message },
      `schedule ${JSON.stringify(row.name)} cannot be planned and is not fired; fix it with updateSchedule()`,
    );
  }

  private async query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const started = performance.now();
    try {
      return await this.o.query(text, values);
    } finally {
      this.stats.statements++;
      this.stats.statementMs += performance.now() - started;
    }
  }
}
