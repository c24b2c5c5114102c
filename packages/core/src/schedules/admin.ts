import type pg from 'pg';
import { QueueError, ScheduleExistsError, ScheduleNotFoundError } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, validatePayload } from '../payload.js';
import type { Names } from '../sql/names.js';
import { toJob } from '../sql/rows.js';
import {
  createScheduleSql,
  deleteScheduleSql,
  getScheduleSql,
  listSchedulesSql,
  NOW_SQL,
  pauseScheduleSql,
  resumeScheduleSql,
  runScheduleNowSql,
  updateScheduleSql,
  upsertSchedulesSql,
} from '../sql/schedules.js';
import type { TaskSpec } from '../tasks.js';
import type { Job } from '../types.js';
import { type LiveWorker, type Unrouted, whyUnrouted } from '../workers.js';
import { defOf, insertOf, type ScheduleRecord, sameTiming, toSchedule } from './rows.js';
import {
  checkScheduleName,
  mergeChanges,
  type Schedule,
  type ScheduleChanges,
  type ScheduleDef,
  type ScheduleSpec,
  specOf,
  toScheduleDef,
} from './spec.js';
import { firstTick } from './timing.js';

/** A schedule as listSchedules() returns it: where its jobs go now, and whether any live worker runs them. */
export interface ListedSchedule extends Schedule {
  /** The queue its next job goes to: its own override, else its task's, else 'default'. */
  jobQueue: string;
  /** Why no live worker would run its jobs (no worker serves the queue, or none knows the task); null when one would. */
  unrouted: Unrouted | null;
}

/** What the schedule calls need from the QueueAdmin (or Queue) they run for. */
export interface ScheduleAdminContext {
  pool: pg.Pool;
  names: Names;
  /** The queue's task map, when it has one: schedules must name its tasks, and payloads pass their schemas. */
  tasks: ReadonlyMap<string, TaskSpec> | undefined;
  maxPayloadBytes: number;
  workers(): Promise<LiveWorker[]>;
}

/** The schedule calls of a QueueAdmin; with `tasks`, checked against that task map. */
export function scheduleAdmin(
  pool: pg.Pool,
  names: Names,
  workers: () => Promise<LiveWorker[]>,
  tasks?: ReadonlyMap<string, TaskSpec>,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): ScheduleAdmin {
  return new ScheduleAdmin({ pool, names, workers, tasks, maxPayloadBytes });
}

/** Compare-and-set attempts before giving up on a schedule that keeps changing under us. */
const ATTEMPTS = 5;

/**
 * The admin API's schedule calls (QueueAdmin delegates to these). Definitions are checked
 * before anything is written. First ticks are computed from the database's now; a change that
 * moves a schedule's next tick notifies every worker's scheduler.
 */
export class ScheduleAdmin {
  constructor(private readonly c: ScheduleAdminContext) {}

  async create(name: string, spec: ScheduleSpec): Promise<Schedule> {
    const def = await this.check(name, spec);
    const now = await this.now();
    const { rows } = await this.c.pool.query(createScheduleSql(this.c.names), [
      JSON.stringify([insertOf(def, firstTick(def, now))]),
    ]);
    if (!rows[0]) throw new ScheduleExistsError(name);
    return toSchedule(rows[0]);
  }

  /**
   * Changes some fields. A change of cron, every or timeZone starts the schedule over from the
   * first tick after now; any other change keeps its next tick.
   */
  async update(name: string, changes: ScheduleChanges): Promise<Schedule> {
    for (let attempt = 1; ; attempt++) {
      const { row, now } = await this.read(name);
      const before = defOf(row);
      const def = await this.check(name, mergeChanges(specOf(before), changes, name));
      const retimed = !sameTiming(before, def);
      const next = retimed ? firstTick(def, now) : new Date(row.next_run_at);
      const { rows } = await this.c.pool.query(updateScheduleSql(this.c.names), [
        JSON.stringify([insertOf(def, next)]),
        row.version,
        retimed,
      ]);
      if (rows[0]) return toSchedule(rows[0]);
      if (attempt >= ATTEMPTS) throw contended(name);
    }
  }

  /** Stops firing ticks, cluster-wide, until resumed. Safe twice. */
  async pause(name: string): Promise<Schedule> {
    return this.one(name, pauseScheduleSql(this.c.names));
  }

  /** Fires ticks again from the first tick after now: ticks that fell in the pause are not caught up. */
  async resume(name: string): Promise<Schedule> {
    for (let attempt = 1; ; attempt++) {
      const { row, now } = await this.read(name);
      if (row.paused_at === null) return toSchedule(row);
      const next = firstTick(defOf(row), now);
      const { rows } = await this.c.pool.query(resumeScheduleSql(this.c.names), [name, row.version, next]);
      if (rows[0]) return toSchedule(rows[0]);
      if (attempt >= ATTEMPTS) throw contended(name);
    }
  }

  /** Deletes the schedule; jobs it already enqueued stay. */
  async delete(name: string): Promise<Schedule> {
    return this.one(name, deleteScheduleSql(this.c.names));
  }

  async get(name: string): Promise<Schedule | null> {
    const { rows } = await this.c.pool.query(getScheduleSql(this.c.names), [checkScheduleName(name)]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async list(): Promise<ListedSchedule[]> {
    const [{ rows }, workers] = await Promise.all([
      this.c.pool.query(listSchedulesSql(this.c.names)),
      this.c.workers(),
    ]);
    return rows.map((r: ScheduleRecord & { job_queue: string }) => ({
      ...toSchedule(r),
      jobQueue: r.job_queue,
      unrouted: whyUnrouted(workers, r.job_queue, r.task),
    }));
  }

  /**
   * Enqueues one job now, as a tick would (meta.manual = true, meta.scheduledAt = now by the
   * database clock), also for a paused schedule. The schedule's ticks are not changed.
   */
  async runNow(name: string): Promise<Job> {
    const { rows } = await this.c.pool.query(runScheduleNowSql(this.c.names), [checkScheduleName(name)]);
    if (!rows[0]) throw new ScheduleNotFoundError(name);
    return toJob(rows[0]);
  }

  /**
   * Records the schedules a Queue declares, in one statement (see upsertSchedulesSql): new
   * ones start at their first tick after now; changed ones keep their next tick unless their
   * timing changed.
   */
  async register(defs: readonly ScheduleDef[]): Promise<void> {
    if (defs.length === 0) return;
    for (const def of defs) await this.validate(def);
    const now = await this.now();
    const rows = [...defs]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((def) => insertOf(def, firstTick(def, now)));
    await this.c.pool.query(upsertSchedulesSql(this.c.names), [JSON.stringify(rows)]);
  }

  /** Every check of a definition, its payload's schema included, before anything is written. */
  async check(name: string, spec: ScheduleSpec): Promise<ScheduleDef> {
    const def = toScheduleDef(name, spec, this.c);
    await this.validate(def);
    return def;
  }

  private async validate(def: ScheduleDef): Promise<void> {
    const schema = this.c.tasks?.get(def.task)?.schema;
    if (schema) await validatePayload(def.task, schema, JSON.parse(def.payload));
  }

  private async now(): Promise<Date> {
    return new Date((await this.c.pool.query(NOW_SQL)).rows[0].now);
  }

  private async read(name: string): Promise<{ row: ScheduleRecord; now: Date }> {
    const { rows } = await this.c.pool.query(getScheduleSql(this.c.names), [checkScheduleName(name)]);
    if (!rows[0]) throw new ScheduleNotFoundError(name);
    return { row: rows[0], now: new Date(rows[0].now) };
  }

  private async one(name: string, sql: string): Promise<Schedule> {
    const { rows } = await this.c.pool.query(sql, [checkScheduleName(name)]);
    if (!rows[0]) throw new ScheduleNotFoundError(name);
    return toSchedule(rows[0]);
  }
}

function contended(name: string): QueueError {
  return new QueueError(
    'QUEUE_SCHEDULE_CONTENDED',
    `schedule ${JSON.stringify(name)} changed under this call ${ATTEMPTS} times in a row; try again`,
  );
}
