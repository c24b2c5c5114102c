/**
 * A schedule as the caller writes it (ScheduleSpec), as it is stored (ScheduleDef), and the
 * checks between the two. Every check runs before anything is written and throws an
 * InvalidScheduleError that names the schedule and field and quotes the bad value.
 */
import { InvalidScheduleError } from '../errors.js';
import { show } from '../options.js';
import { encodePayload } from '../payload.js';
import type { TaskSpec } from '../tasks.js';
import type { PayloadOf, TaskMap } from '../types.js';
import type { CatchUpRule } from './plan.js';
import { parseCron, type TimingSpec } from './timing.js';

/**
 * What happens to ticks missed while no worker ran (a deploy, an outage): 'skip' them (the
 * schedule goes on with its next tick; the latest missed tick still runs if it is under a
 * minute late), run 'once' for all of them, or run `{ each: n }` of the latest n. Default 'once'.
 */
export type CatchUp = 'skip' | 'once' | { each: number };

export interface ScheduleSpec<Task extends string = string, Payload = unknown> {
  /** The task each tick enqueues. */
  task: Task;
  /**
   * A cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with
   * seconds first; nicknames such as '@daily' too. Read in `timeZone`. Give this or `every`.
   */
  cron?: string;
  /** A fixed interval: milliseconds, or a string such as '500ms', '30s', '5m', '2h', '1d'. */
  every?: number | string;
  /** The IANA time zone `cron` is read in ('Europe/Berlin'). Default 'UTC'. */
  timeZone?: string;
  payload?: Payload;
  /** Enqueue options of the jobs; left out, the task's own apply (as for SQL enqueue()). */
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  /** Tags and meta of every job. The job's meta also gets `schedule` and `scheduledAt`. */
  tags?: string[];
  meta?: Record<string, unknown>;
  catchUp?: CatchUp;
}

/** The schedules a Queue declares, typed by its task map. */
export type ScheduleMap<M extends TaskMap = TaskMap> = Record<
  string,
  { [K in keyof M & string]: ScheduleSpec<K, PayloadOf<M[K]>> }[keyof M & string]
>;

/** updateSchedule(): the fields to change; `null` clears an enqueue option back to the task's. */
export type ScheduleChanges = Partial<Omit<ScheduleSpec, 'queue' | 'priority' | 'maxAttempts'>> & {
  queue?: string | null;
  priority?: number | null;
  maxAttempts?: number | null;
};

/** A stored schedule, as the admin API returns it. */
export interface Schedule {
  name: string;
  task: string;
  payload: unknown;
  /** The overrides; null takes the task's options. */
  queue: string | null;
  priority: number | null;
  maxAttempts: number | null;
  tags: string[];
  meta: Record<string, unknown>;
  cron: string | null;
  /** The interval in milliseconds, for an interval schedule. */
  every: number | null;
  timeZone: string;
  catchUp: CatchUp;
  /** When it was paused; null while it runs. */
  pausedAt: Date | null;
  /** The next tick (database clock). */
  nextRunAt: Date;
  /** The latest tick that was fired, and the id of the job inserted for it. */
  lastRunAt: Date | null;
  lastJobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A schedule checked and ready to store; `payload` and `meta` are JSON text. */
export interface ScheduleDef extends TimingSpec {
  name: string;
  task: string;
  payload: string;
  queue: string | null;
  priority: number | null;
  maxAttempts: number | null;
  tags: string[];
  meta: string;
  catchUp: CatchUpRule;
}

/** Keys the scheduler writes into each job's meta. */
const RESERVED_META = ['schedule', 'scheduledAt', 'missedFrom', 'manual'];
const SPEC_KEYS = new Set([
  'task',
  'cron',
  'every',
  'timeZone',
  'payload',
  'queue',
  'priority',
  'maxAttempts',
  'tags',
  'meta',
  'catchUp',
]);
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function checkScheduleName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 128 || name.includes('\u0000')) {
    throw new InvalidScheduleError(
      String(name),
      'name',
      name,
      show(name),
      'is not a schedule name: give a string of 1 to 128 characters',
    );
  }
  return name;
}

/** What the checks need from the queue: its task map when it has one, and its payload limit. */
export interface SpecContext {
  tasks: ReadonlyMap<string, TaskSpec> | undefined;
  maxPayloadBytes: number;
}

/** Checks a whole spec (create, declare) and returns it as stored. */
export function toScheduleDef(name: string, spec: ScheduleSpec, ctx: SpecContext): ScheduleDef {
  checkScheduleName(name);
  const bad = (option: string, value: unknown, problem: string) =>
    new InvalidScheduleError(name, option, value, quote(value), problem);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw bad('definition', spec, 'must be an object such as { task, cron } or { task, every }');
  }
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key))
      throw bad('option', key, `is unknown: a schedule takes ${[...SPEC_KEYS].join(', ')}`);
  }
  const { task } = spec;
  if (typeof task !== 'string' || task.length === 0 || task.length > 128) {
    throw bad('task', task, 'must be a task name of 1 to 128 characters');
  }
  if (ctx.tasks && !ctx.tasks.has(task)) {
    const known = [...ctx.tasks.keys()].map((k) => JSON.stringify(k)).join(', ') || '(none)';
    throw bad('task', task, `is not in this queue's task map: known tasks are ${known}`);
  }
  const timing = checkTiming(name, spec, bad);
  return {
    name,
    task,
    ...timing,
    payload: encodePayload(task, spec.payload ?? null, ctx.maxPayloadBytes),
    queue: optional(spec.queue, (v) => checkQueue(v, bad)),
    priority: optional(spec.priority, (v) => checkInt('priority', v, -32768, 32767, bad)),
    maxAttempts: optional(spec.maxAttempts, (v) => checkInt('maxAttempts', v, 1, 1_000_000, bad)),
    tags: checkTags(spec.tags ?? [], bad),
    meta: checkMeta(spec.meta ?? {}, bad),
    catchUp: checkCatchUp(spec.catchUp ?? 'once', bad),
  };
}

type Bad = (option: string, value: unknown, problem: string) => InvalidScheduleError;

/** A value as a message quotes it: JSON where it can be, else `show()`. */
function quote(value: unknown): string {
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json.length > 200 ? `${json.slice(0, 200)}…` : json;
    } catch {}
  }
  return show(value);
}

function optional<T>(value: T | undefined | null, check: (v: T) => T): T | null {
  return value === undefined || value === null ? null : check(value);
}

function checkTiming(name: string, spec: ScheduleSpec, bad: Bad): TimingSpec {
  const { cron, every } = spec;
  if (cron !== undefined && every !== undefined) {
    throw bad('cron', cron, `and every ${quote(every)} conflict: give one of them`);
  }
  if (cron === undefined && every === undefined) {
    const problem = 'and every are both missing: give cron (an expression) or every (an interval)';
    throw new InvalidScheduleError(name, 'cron', undefined, '', problem);
  }
  let timeZone = 'UTC';
  if (spec.timeZone !== undefined) {
    if (every !== undefined)
      throw bad('timeZone', spec.timeZone, 'applies to cron schedules only, not to every');
    timeZone = checkTimeZone(spec.timeZone, bad);
  }
  if (every !== undefined) return { cron: null, intervalMs: checkEvery(every, bad), timeZone };
  if (typeof cron !== 'string' || cron.trim().length === 0 || cron.length > 256) {
    throw bad('cron', cron, 'must be a cron expression of 5 or 6 fields');
  }
  const pattern = cron.trim();
  let first: Date | null;
  try {
    first = parseCron(pattern, timeZone).nextRun();
  } catch (error) {
    throw bad('cron', cron, `is not a valid cron expression (${(error as Error).message})`);
  }
  if (!first) throw bad('cron', cron, 'never matches a date');
  return { cron: pattern, intervalMs: null, timeZone };
}

function checkTimeZone(zone: unknown, bad: Bad): string {
  if (typeof zone !== 'string' || zone.length === 0)
    throw bad('timeZone', zone, 'must be an IANA time zone name');
  try {
    // Intl knows the zones of this Node's ICU, and names them canonically ('utc' -> 'UTC').
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw bad('timeZone', zone, "is not a known IANA time zone (such as 'Europe/Berlin' or 'UTC')");
  }
}

/** A positive whole number of milliseconds, from a number or '<n>ms|s|m|h|d'. */
export function checkEvery(every: unknown, bad: Bad): number {
  let ms: number | undefined;
  if (typeof every === 'number') ms = every;
  else if (typeof every === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(every);
    if (m) ms = Number(m[1]) * UNITS[m[2]!]!;
  }
  if (ms === undefined || !Number.isSafeInteger(ms) || ms <= 0) {
    throw bad(
      'every',
      every,
      "must be a positive whole number of milliseconds, or a string such as '500ms', '30s', '5m', '2h', '1d'",
    );
  }
  return ms;
}

function checkCatchUp(value: unknown, bad: Bad): CatchUpRule {
  if (value === 'skip' || value === 'once') return { policy: value };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const each = (value as { each?: unknown }).each;
    if (keys.length === 1 && Number.isInteger(each) && (each as number) >= 1 && (each as number) <= 10_000) {
      return { policy: 'each', max: each as number };
    }
  }
  throw bad(
    'catchUp',
    value,
    "is not a catch-up policy: give 'skip', 'once' or { each: n } with n from 1 to 10000",
  );
}

function checkQueue(value: unknown, bad: Bad): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || value.includes('\u0000')) {
    throw bad('queue', value, 'must be a queue name of 1 to 128 characters');
  }
  return value;
}

function checkInt(option: string, value: unknown, min: number, max: number, bad: Bad): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw bad(option, value, `must be an integer from ${min} to ${max}`);
  }
  return value as number;
}

function checkTags(tags: unknown, bad: Bad): string[] {
  if (!Array.isArray(tags) || tags.length > 32)
    throw bad('tags', tags, 'must be an array of at most 32 strings');
  for (const t of tags) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 128 || t.includes('\u0000')) {
      throw bad('tags', t, 'is not a tag: each must be a string of 1 to 128 characters');
    }
  }
  return [...tags];
}

function checkMeta(meta: unknown, bad: Bad): string {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw bad('meta', meta, 'must be a plain object');
  }
  for (const key of RESERVED_META) {
    if (Object.hasOwn(meta, key))
      throw bad('meta', key, 'is a key the scheduler sets on each job; choose another');
  }
  try {
    return encodePayload('meta', meta, 64 * 1024);
  } catch (error) {
    throw bad('meta', meta, `cannot be stored: ${(error as Error).message}`);
  }
}

/** The spec as stored, from a ScheduleDef (for merging updates): the caller's form back. */
export function specOf(def: ScheduleDef): ScheduleSpec {
  return {
    task: def.task,
    ...(def.cron !== null ? { cron: def.cron, timeZone: def.timeZone } : { every: def.intervalMs! }),
    payload: JSON.parse(def.payload),
    ...(def.queue !== null ? { queue: def.queue } : {}),
    ...(def.priority !== null ? { priority: def.priority } : {}),
    ...(def.maxAttempts !== null ? { maxAttempts: def.maxAttempts } : {}),
    tags: def.tags,
    meta: JSON.parse(def.meta),
    catchUp: catchUpOf(def.catchUp),
  };
}

export function catchUpOf(rule: CatchUpRule): CatchUp {
  return rule.policy === 'each' ? { each: rule.max } : rule.policy;
}

/**
 * A stored spec with `changes` applied: giving cron drops every and the reverse; `null`
 * clears an enqueue option. The result is checked again as a whole.
 */
export function mergeChanges(current: ScheduleSpec, changes: ScheduleChanges, name: string): ScheduleSpec {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new InvalidScheduleError(
      name,
      'changes',
      changes,
      quote(changes),
      'must be an object of fields to change',
    );
  }
  const next: Record<string, unknown> = { ...current };
  if (changes.cron !== undefined && changes.every !== undefined) {
    throw new InvalidScheduleError(
      name,
      'cron',
      changes.cron,
      quote(changes.cron),
      `and every ${quote(changes.every)} conflict: change one of them`,
    );
  }
  if (changes.every !== undefined) {
    delete next.cron;
    delete next.timeZone;
  }
  if (changes.cron !== undefined) delete next.every;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (value === null && (key === 'queue' || key === 'priority' || key === 'maxAttempts')) delete next[key];
    else next[key] = value;
  }
  return next as unknown as ScheduleSpec;
}
