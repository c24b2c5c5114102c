import type { CatchUp, ListedSchedule, Schedule, ScheduleChanges, ScheduleSpec } from '@queue/core';
import { globals, intFlag, jsonObjectFlag, nameFlag, parse, tagFlags } from '../args.js';
import { openAdmin } from '../connect.js';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { shortTime, table, when } from '../format.js';
import { parseJsonText } from '../json-text.js';

/** The flags that define a schedule, for `create` and `update`. */
const SPEC_OPTIONS = {
  task: { type: 'string' },
  cron: { type: 'string' },
  tz: { type: 'string' },
  every: { type: 'string' },
  payload: { type: 'string' },
  queue: { type: 'string' },
  priority: { type: 'string' },
  'max-attempts': { type: 'string' },
  'catch-up': { type: 'string' },
  tag: { type: 'string', multiple: true },
  meta: { type: 'string' },
} as const;

const ACTIONS = ['show', 'create', 'update', 'pause', 'resume', 'delete', 'run'] as const;
type Action = (typeof ACTIONS)[number];

/** `queue schedules`: every schedule, with a warning for each whose jobs no live worker would run. */
export async function schedules(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse('schedules', argv, { json: { type: 'boolean' } });
  if (positionals.length > 0)
    throw new UsageError(
      `schedules takes no arguments, got ${JSON.stringify(positionals[0])}; 'queue schedule show <name>' shows one`,
    );
  const admin = await openAdmin(globals(values), ctx.env);
  try {
    const all = await admin.listSchedules();
    if (values.json) {
      ctx.out(JSON.stringify(all));
      return EXIT.OK;
    }
    if (all.length === 0) {
      ctx.out("no schedules; create one with 'queue schedule create <name> --task <task> --cron ...'");
      return EXIT.OK;
    }
    const header = ['NAME', 'TASK', 'QUEUE', 'TIMING', 'NEXT RUN', 'LAST RUN', 'PAUSED'];
    const rows = all.map((s) => [
      s.name,
      s.task,
      s.jobQueue,
      timing(s),
      shortTime(s.nextRunAt),
      s.lastRunAt ? shortTime(s.lastRunAt) : '-',
      s.pausedAt ? 'yes' : 'no',
    ]);
    ctx.out(table(header, rows));
    // On stderr: stdout stays the table a script reads; a person at a terminal sees both.
    for (const s of all.filter((s: ListedSchedule) => s.unrouted && !s.pausedAt)) {
      ctx.err(`queue: warning: schedule ${JSON.stringify(s.name)}: ${s.unrouted!.message}`);
    }
    return EXIT.OK;
  } finally {
    await admin.close();
  }
}

/** `queue schedule <action> <name> [options]`: show, create, update, pause, resume, delete, run. */
export async function schedule(argv: string[], ctx: CliContext): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(
      `${action === undefined ? 'give an action' : `unknown action ${JSON.stringify(action)}`}: schedule takes ${ACTIONS.join(', ')} (see 'queue schedule --help')`,
    );
  }
  const { values, positionals } = parse('schedule', rest, {
    ...(action === 'create' || action === 'update' ? SPEC_OPTIONS : {}),
    ...(action === 'delete' ? { yes: { type: 'boolean' } } : {}),
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UsageError(
      `give one schedule name, got ${positionals.length}: queue schedule ${action} <name> (see 'queue schedule --help')`,
    );
  const name = positionals[0]!;
  if (name.length === 0 || name.length > 128)
    throw new UsageError(`a schedule name is 1 to 128 characters, got ${JSON.stringify(name)}`);
  // Every flag is checked here, before connecting; core checks the cron expression itself.
  const spec = action === 'create' ? createSpec(values) : undefined;
  const changes = action === 'update' ? updateChanges(values) : undefined;
  if (action === 'delete' && !values.yes)
    throw new UsageError(
      `this deletes schedule ${JSON.stringify(name)} (jobs it enqueued stay): add --yes to confirm`,
    );

  const admin = await openAdmin(globals(values), ctx.env);
  try {
    const print = (s: Schedule, verb: string) =>
      ctx.out(values.json ? JSON.stringify(s) : `schedule ${name} ${verb}\n${describe(s)}`);
    switch (action as Action) {
      case 'show': {
        const s = await admin.getSchedule(name);
        if (!s) return notFound(name, ctx);
        ctx.out(values.json ? JSON.stringify(s) : describe(s));
        break;
      }
      case 'create':
        print(await admin.createSchedule(name, spec!), 'created');
        break;
      case 'update':
        print(await admin.updateSchedule(name, changes!), 'updated');
        break;
      case 'pause':
        print(await admin.pauseSchedule(name), 'paused');
        break;
      case 'resume':
        print(await admin.resumeSchedule(name), 'resumed');
        break;
      case 'delete': {
        const s = await admin.deleteSchedule(name);
        ctx.out(values.json ? JSON.stringify(s) : `deleted schedule ${name}`);
        break;
      }
      case 'run': {
        const job = await admin.runScheduleNow(name);
        ctx.out(values.json ? JSON.stringify(job) : `enqueued job ${job.id} for schedule ${name}`);
        break;
      }
    }
    return EXIT.OK;
  } finally {
    await admin.close();
  }
}

function notFound(name: string, ctx: CliContext): number {
  ctx.err(`queue: no schedule named ${JSON.stringify(name)}; 'queue schedules' lists them`);
  return EXIT.NOT_FOUND;
}

function createSpec(values: Record<string, any>): ScheduleSpec {
  if (values.task === undefined)
    throw new UsageError(
      "--task is required: queue schedule create <name> --task <task> (--cron '<expr>' | --every <interval>)",
    );
  if (values.cron === undefined && values.every === undefined)
    throw new UsageError("give --cron '<expr>' or --every <interval> (e.g. --every 30s)");
  const c = updateChanges(values);
  for (const key of ['queue', 'priority', 'maxAttempts'] as const) if (c[key] === null) delete c[key];
  return c as ScheduleSpec;
}

/** The flags given, as core's changes; 'default' clears an enqueue option back to the task's. */
function updateChanges(values: Record<string, any>): ScheduleChanges {
  if (values.cron !== undefined && values.every !== undefined)
    throw new UsageError('give --cron or --every, not both');
  if (values.tz !== undefined && values.every !== undefined)
    throw new UsageError('--tz applies to --cron only: an --every interval has no time zone');
  const changes: ScheduleChanges = {};
  const task = nameFlag('task', values.task);
  if (task !== undefined) changes.task = task;
  if (values.cron !== undefined) changes.cron = values.cron;
  if (values.tz !== undefined) changes.timeZone = zoneFlag(values.tz);
  if (values.every !== undefined) changes.every = everyFlag(values.every);
  if (values.payload !== undefined) changes.payload = parseJsonText(values.payload, '--payload');
  if (values.queue !== undefined)
    changes.queue = values.queue === 'default' ? null : nameFlag('queue', values.queue)!;
  const int = (flag: string, min: number, max: number) =>
    values[flag] === 'default' ? null : intFlag(flag, values[flag], min, max);
  const priority = int('priority', -32768, 32767);
  if (priority !== undefined) changes.priority = priority;
  const maxAttempts = int('max-attempts', 1, 1_000_000);
  if (maxAttempts !== undefined) changes.maxAttempts = maxAttempts;
  if (values['catch-up'] !== undefined) changes.catchUp = catchUpFlag(values['catch-up']);
  // As for enqueue: the tags and meta of every job; on update they replace the schedule's.
  const tags = tagFlags(values.tag);
  if (tags !== undefined) changes.tags = tags;
  const meta = jsonObjectFlag('meta', values.meta, false);
  if (meta !== undefined) changes.meta = meta;
  if (Object.keys(changes).length === 0)
    throw new UsageError("give at least one change, e.g. --cron '0 3 * * *' (see 'queue schedule --help')");
  return changes;
}

/** An IANA zone this Node knows, checked here so a typo fails before connecting. */
function zoneFlag(value: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(
      `--tz must be an IANA time zone such as Europe/Berlin or UTC, got ${JSON.stringify(value)}`,
    );
  }
}

const EVERY_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An interval: a positive whole number with a unit (500ms, 30s, 5m, 2h, 1d), in milliseconds. */
function everyFlag(value: string): number {
  const m = /^(\d{1,12})(ms|s|m|h|d)$/.exec(value);
  const ms = m ? Number(m[1]) * EVERY_UNITS[m[2] as keyof typeof EVERY_UNITS] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new UsageError(
      `--every must be a positive whole number with a unit, ms, s, m, h or d (500ms, 30s, 5m, 2h, 1d), got ${JSON.stringify(value)}`,
    );
  return ms;
}

function catchUpFlag(value: string): CatchUp {
  if (value === 'skip' || value === 'once') return value;
  const each = /^\d{1,5}$/.test(value) ? Number(value) : 0;
  if (each < 1 || each > 10_000)
    throw new UsageError(
      `--catch-up must be skip, once, or a number of missed ticks to run from 1 to 10000, got ${JSON.stringify(value)}`,
    );
  return { each };
}

/** "0 3 * * * (Europe/Berlin)" or "every 30s". */
function timing(s: Schedule): string {
  return s.cron !== null ? `${s.cron} (${s.timeZone})` : `every ${interval(s.every!)}`;
}

function interval(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function catchUpWords(c: CatchUp): string {
  return typeof c === 'string' ? c : `each (the latest ${c.each})`;
}

function describe(s: Schedule): string {
  const rows: [string, string][] = [
    ['task', s.task],
    ['queue', s.queue ?? "the task's (or default)"],
    ['timing', timing(s)],
    ['payload', JSON.stringify(s.payload)],
    ['catch-up', catchUpWords(s.catchUp)],
    ['next run', s.pausedAt ? '- (paused)' : when(s.nextRunAt)],
    ['last run', s.lastRunAt ? `${when(s.lastRunAt)}, job ${s.lastJobId ?? '-'}` : '-'],
    ['paused', s.pausedAt ? `since ${when(s.pausedAt)}` : 'no'],
  ];
  if (s.tags.length > 0) rows.push(['tags', s.tags.join(', ')]);
  if (Object.keys(s.meta).length > 0) rows.push(['meta', JSON.stringify(s.meta)]);
  if (s.priority !== null) rows.push(['priority', String(s.priority)]);
  if (s.maxAttempts !== null) rows.push(['max attempts', String(s.maxAttempts)]);
  return [`schedule ${s.name}`, ...rows.map(([k, v]) => `  ${k.padEnd(13)}${v}`)].join('\n');
}
