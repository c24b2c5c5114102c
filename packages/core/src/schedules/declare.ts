import { ConfigError } from '../errors.js';
import { show } from '../options.js';
import { type ScheduleDef, type ScheduleSpec, type SpecContext, toScheduleDef } from './spec.js';

/**
 * The `schedules` option of a Queue, each entry checked as createSchedule() checks it, when
 * the Queue is made: a bad definition fails the constructor, long before a worker starts.
 */
export function declareSchedules(schedules: unknown, ctx: SpecContext): ScheduleDef[] {
  if (schedules === undefined) return [];
  if (schedules === null || typeof schedules !== 'object' || Array.isArray(schedules)) {
    throw new ConfigError(
      `schedules must be an object of schedule names to { task, cron | every, … }, got ${show(schedules)}`,
    );
  }
  return Object.entries(schedules as Record<string, ScheduleSpec>).map(([name, spec]) =>
    toScheduleDef(name, spec, ctx),
  );
}
