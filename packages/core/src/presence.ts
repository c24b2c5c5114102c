import { hostname } from 'node:os';
import type pg from 'pg';
import type { Claimer } from './claimer.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import type { Names } from './sql/names.js';
import { registerWorkerSql, routingTurnSql, unregisterWorkerSql } from './sql/workers.js';
import { toDueGroup, toLiveWorker, unrouted, unroutedWarning } from './workers.js';

/** Runs one statement on a claimer session. */
export type SessionQuery = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

/**
 * How long a group of due jobs must have waited before the periodic check reports it: a
 * worker deployed together with the jobs it serves, or restarting, has this long to start.
 */
export const UNROUTED_GRACE_MS = 30_000;

/** How often a worker refreshes its row (and prunes dead ones) when the check is off. */
const REFRESH_MS = 60_000;

export interface PresenceOptions {
  claimer: Claimer;
  names: Names;
  /** The queue's pool, for the periodic check (a scan that must not hold up the claimer). */
  pool: pg.Pool | undefined;
  logger: Logger;
  queues: ReadonlyMap<string, number>;
  tasks: readonly string[];
  /** Milliseconds between checks for jobs nobody will run; 0 = no check. */
  checkInterval: number;
}

/**
 * A worker's row in the workers table, and its share of the periodic check for jobs nobody
 * will run. The row is written on every new claimer session (before it claims anything) and
 * refreshed on each tick, which also heals it if something deleted it; it is deleted at stop.
 */
export class WorkerPresence {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** When the row was first written (database clock), kept across reconnects. */
  private startedAt: Date | null = null;
  private readonly sql: { register: string; unregister: string; turn: string };

  constructor(private readonly o: PresenceOptions) {
    this.sql = {
      register: registerWorkerSql(o.names),
      unregister: unregisterWorkerSql(o.names),
      turn: routingTurnSql(o.names),
    };
  }

  /** Prunes dead rows and writes this worker's own, on the claimer session `query` runs on. */
  async register(query: SessionQuery): Promise<void> {
    const { claimer } = this.o;
    let rows: { started_at: Date }[];
    try {
      ({ rows } = await query(this.sql.register, [
        claimer.workerId,
        hostname(),
        process.pid,
        this.o.names.lockNamespace,
        claimer.marker,
        JSON.stringify(Object.fromEntries(this.o.queues)),
        this.o.tasks,
        this.startedAt,
      ]));
    } catch (error) {
      if ((error as { code?: string }).code === '42P01') {
        throw new ConfigError(
          `schema ${this.o.names.q} has no workers table (${(error as Error).message}): ` +
            'run queue.migrate() with this version of @queue/core before starting workers',
        );
      }
      throw error;
    }
    this.startedAt ??= rows[0]?.started_at ?? null;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.checkInterval || REFRESH_MS);
    this.timer.unref();
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Waits for a tick in progress, then deletes the row (the session ending would make it dead anyway). */
  async unregister(): Promise<void> {
    this.stop();
    await this.ticking;
    if (!this.o.claimer.connected) return;
    await this.o.claimer.run(this.sql.unregister, [this.o.claimer.workerId]).catch(() => {});
  }

  private tick(): void {
    if (this.ticking) return;
    this.ticking = this.refreshAndCheck().finally(() => {
      this.ticking = undefined;
    });
  }

  private async refreshAndCheck(): Promise<void> {
    try {
      if (this.o.claimer.connected) await this.register((text, values) => this.o.claimer.run(text, values));
      if (this.o.checkInterval > 0) await this.checkUnrouted();
    } catch (error) {
      // A lost connection is the claimer's to report; the next tick tries again.
      this.o.logger.debug({ err: (error as Error).message }, 'worker presence tick failed');
    }
  }

  /**
   * When it is this worker's turn (one worker per interval across the cluster), logs a
   * warning for each queue and task whose due jobs no live worker will run.
   */
  private async checkUnrouted(): Promise<void> {
    if (!this.o.pool) return;
    const { rows } = await this.o.pool.query(this.sql.turn, ['unrouted', this.o.checkInterval * 0.9]);
    if (!rows[0]) return; // another worker checked within this interval
    const workers = (rows[0].workers as Parameters<typeof toLiveWorker>[0][]).map(toLiveWorker);
    const groups = (rows[0].due as Parameters<typeof toDueGroup>[0][]).map(toDueGroup);
    for (const u of unrouted(groups, workers, UNROUTED_GRACE_MS)) {
      this.o.logger.warn(
        {
          queue: u.queue,
          task: u.task,
          count: u.count,
          reason: u.reason,
          oldestDueAt: u.oldestDueAt,
          waitedMs: Math.round(u.waitedMs),
        },
        unroutedWarning(u),
      );
    }
  }
}
