/**
 * When a schedule's ticks fall: cron expressions read in an IANA time zone, and fixed intervals.
 *
 * Cron parsing and stepping is croner's. Chosen over cron-parser because it has no
 * dependencies (cron-parser pulls in luxon), takes seconds as an optional sixth field, and
 * defines what happens at daylight-saving transitions: a fixed-time expression ("30 2 * * *")
 * whose time falls in the spring-forward gap runs at the first valid time after the gap, and
 * runs once when the fall-back makes its time occur twice; an expression with a wildcard or a
 * step in its time fields ("*\/30 * * * *") runs at every occurrence, as it implies. Stepping
 * from a tick inside a repeated hour never returns the same wall time again, so "the tick after
 * the current tick" is the whole rule and every process computes the same sequence.
 */
import { Cron } from 'croner';

export interface Timing {
  /** The first tick strictly after `t`, or null when the expression has none. */
  after(t: Date): Date | null;
  /** Up to `n` ticks within [from, now], latest first. */
  latest(n: number, from: Date, now: Date): Date[];
}

/** Seconds optional, no year field (a 7-field pattern could stop having ticks). */
const CRON_MODE = '5-or-6-parts';

/** Parsed expressions by zone and pattern: parsing costs ~60 µs, stepping reuses it. */
const parsed = new Map<string, Cron>();
const MAX_PARSED = 1_000;

/** Parses `pattern` for `timeZone`; throws croner's error for an invalid expression. */
export function parseCron(pattern: string, timeZone: string): Cron {
  const key = `${timeZone}\u0000${pattern}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = new Cron(pattern, { timezone: timeZone, paused: true, mode: CRON_MODE });
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, cron);
  }
  return cron;
}

export function cronTiming(pattern: string, timeZone: string): Timing {
  const cron = parseCron(pattern, timeZone);
  return {
    after: (t) => cron.nextRun(t),
    // previousRuns() counts back from strictly before its reference: 1 ms later takes `now` in.
    latest: (n, from, now) => cron.previousRuns(n, new Date(now.getTime() + 1)).filter((d) => d >= from),
  };
}

/** Every `ms` milliseconds on the grid through `anchor` (the schedule's current tick). */
export function intervalTiming(ms: number, anchor: Date): Timing {
  const a = anchor.getTime();
  const step = (t: number) => a + (Math.floor((t - a) / ms) + 1) * ms;
  return {
    after: (t) => new Date(step(t.getTime())),
    latest: (n, from, now) => {
      const out: Date[] = [];
      for (let t = step(now.getTime()) - ms; out.length < n && t >= from.getTime(); t -= ms)
        out.push(new Date(t));
      return out;
    },
  };
}

/** What a schedule row says about its ticks. */
export interface TimingSpec {
  cron: string | null;
  intervalMs: number | null;
  timeZone: string;
}

/** The timing of a schedule whose current tick is `current`. */
export function timingOf(spec: TimingSpec, current: Date): Timing {
  return spec.cron !== null
    ? cronTiming(spec.cron, spec.timeZone)
    : intervalTiming(spec.intervalMs!, current);
}

/**
 * The first tick of a schedule created or retimed at `now` (database clock): the next cron
 * tick after it, or one interval after it.
 */
export function firstTick(spec: TimingSpec, now: Date): Date {
  const tick =
    spec.cron !== null
      ? cronTiming(spec.cron, spec.timeZone).after(now)
      : new Date(now.getTime() + spec.intervalMs!);
  if (!tick) throw new Error(`cron expression ${JSON.stringify(spec.cron)} has no future tick`);
  return tick;
}
