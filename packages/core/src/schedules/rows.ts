import type { ScheduleInsert } from '../sql/schedules.js';
import type { CatchUpRule } from './plan.js';
import { catchUpOf, type Schedule, type ScheduleDef } from './spec.js';

/** A row of SCHEDULE_COLUMNS (src/sql/schedules.ts). */
export interface ScheduleRecord {
  name: string;
  task: string;
  payload: unknown;
  queue: string | null;
  priority: number | null;
  max_attempts: number | null;
  tags: string[];
  meta: Record<string, unknown>;
  cron: string | null;
  interval_ms: number | null;
  time_zone: string;
  catch_up: 'skip' | 'once' | 'each';
  catch_up_max: number | null;
  paused_at: number | null;
  next_run_at: number;
  last_run_at: number | null;
  last_job_id: string | null;
  created_at: number;
  updated_at: number;
  /** updated_at in epoch microseconds, for a compare-and-set. */
  version: string;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

export function ruleOf(policy: 'skip' | 'once' | 'each', max: number | null): CatchUpRule {
  return policy === 'each' ? { policy, max: max ?? 1 } : { policy };
}

export function toSchedule(r: ScheduleRecord): Schedule {
  return {
    name: r.name,
    task: r.task,
    payload: r.payload,
    queue: r.queue,
    priority: r.priority,
    maxAttempts: r.max_attempts,
    tags: r.tags,
    meta: r.meta,
    cron: r.cron,
    every: r.interval_ms,
    timeZone: r.time_zone,
    catchUp: catchUpOf(ruleOf(r.catch_up, r.catch_up_max)),
    pausedAt: date(r.paused_at),
    nextRunAt: new Date(r.next_run_at),
    lastRunAt: date(r.last_run_at),
    lastJobId: r.last_job_id,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

/** The stored definition of a row, to merge an update into. */
export function defOf(r: ScheduleRecord): ScheduleDef {
  return {
    name: r.name,
    task: r.task,
    payload: JSON.stringify(r.payload),
    queue: r.queue,
    priority: r.priority,
    maxAttempts: r.max_attempts,
    tags: r.tags,
    meta: JSON.stringify(r.meta),
    cron: r.cron,
    intervalMs: r.interval_ms,
    timeZone: r.time_zone,
    catchUp: ruleOf(r.catch_up, r.catch_up_max),
  };
}

/** The row to write for a definition whose next tick (if its timing is new) is `next`. */
export function insertOf(def: ScheduleDef, next: Date): ScheduleInsert {
  return {
    name: def.name,
    task: def.task,
    payload: JSON.parse(def.payload),
    queue: def.queue,
    priority: def.priority,
    max_attempts: def.maxAttempts,
    tags: def.tags,
    meta: JSON.parse(def.meta),
    cron: def.cron,
    interval_ms: def.intervalMs,
    time_zone: def.timeZone,
    catch_up: def.catchUp.policy,
    catch_up_max: def.catchUp.policy === 'each' ? def.catchUp.max : null,
    next_run_at: next.toISOString(),
  };
}

/** Whether two definitions tick at the same times (then next_run_at stays). */
export function sameTiming(a: ScheduleDef, b: ScheduleDef): boolean {
  return a.cron === b.cron && a.intervalMs === b.intervalMs && a.timeZone === b.timeZone;
}
