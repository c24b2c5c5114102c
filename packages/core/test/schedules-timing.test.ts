import { describe, expect, it } from 'vitest';
import { LATE_GRACE_MS, planTicks } from '../src/schedules/plan.js';
import { cronTiming, intervalTiming } from '../src/schedules/timing.js';

/** The first `n` ticks after `from`, each computed from the one before: what the scheduler does. */
function ticks(pattern: string, zone: string, from: string, n: number): string[] {
  const timing = cronTiming(pattern, zone);
  const out: string[] = [];
  let t: Date = new Date(from);
  for (let i = 0; i < n; i++) {
    t = timing.after(t)!;
    out.push(t.toISOString());
  }
  return out;
}

/** Wall time of an instant in a zone with its UTC offset, `2025-03-09 03:00 -4`, for readable expectations. */
function wall(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  const local = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!);
  const offset = Math.round((local - new Date(iso).getTime()) / 3_600_000);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${offset >= 0 ? '+' : ''}${offset}`;
}

describe('next tick across daylight-saving transitions', () => {
  it("America/New_York '30 2 * * *': spring forward runs once at 03:00, fall back runs once", () => {
    // 2025-03-09 02:00 EST -> 03:00 EDT: 02:30 does not exist that day.
    const spring = ticks('30 2 * * *', 'America/New_York', '2025-03-07T12:00:00Z', 4);
    expect(spring.map((t) => wall(t, 'America/New_York'))).toEqual([
      '2025-03-08 02:30 -5',
      '2025-03-09 03:00 -4',
      '2025-03-10 02:30 -4',
      '2025-03-11 02:30 -4',
    ]);
    // 2025-11-02 02:00 EDT -> 01:00 EST: 02:30 happens once (01:00-02:00 repeats).
    const fall = ticks('30 2 * * *', 'America/New_York', '2025-10-31T12:00:00Z', 4);
    expect(fall.map((t) => wall(t, 'America/New_York'))).toEqual([
      '2025-11-01 02:30 -4',
      '2025-11-02 02:30 -5',
      '2025-11-03 02:30 -5',
      '2025-11-04 02:30 -5',
    ]);
    expect(fall).toEqual([
      '2025-11-01T06:30:00.000Z',
      '2025-11-02T07:30:00.000Z',
      '2025-11-03T07:30:00.000Z',
      '2025-11-04T07:30:00.000Z',
    ]);
    // One run per local day: none skipped, none doubled.
    const days = [...spring, ...fall].map((t) => wall(t, 'America/New_York').slice(0, 10));
    expect(new Set(days).size).toBe(days.length);
  });

  it("Europe/Berlin '30 2 * * *': spring forward runs once at 03:00, fall back runs 02:30 once", () => {
    // 2025-03-30 02:00 CET -> 03:00 CEST.
    const spring = ticks('30 2 * * *', 'Europe/Berlin', '2025-03-28T12:00:00Z', 4);
    expect(spring.map((t) => wall(t, 'Europe/Berlin'))).toEqual([
      '2025-03-29 02:30 +1',
      '2025-03-30 03:00 +2',
      '2025-03-31 02:30 +2',
      '2025-04-01 02:30 +2',
    ]);
    // 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 occurs twice; the first occurrence runs, only.
    const fall = ticks('30 2 * * *', 'Europe/Berlin', '2025-10-24T12:00:00Z', 4);
    expect(fall.map((t) => wall(t, 'Europe/Berlin'))).toEqual([
      '2025-10-25 02:30 +2',
      '2025-10-26 02:30 +2',
      '2025-10-27 02:30 +1',
      '2025-10-28 02:30 +1',
    ]);
    expect(fall).toEqual([
      '2025-10-25T00:30:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-27T01:30:00.000Z',
      '2025-10-28T01:30:00.000Z',
    ]);
    const days = [...spring, ...fall].map((t) => wall(t, 'Europe/Berlin').slice(0, 10));
    expect(new Set(days).size).toBe(days.length);
  });

  it('stepping from inside the repeated hour does not repeat a fixed time', () => {
    const ny = cronTiming('30 1 * * *', 'America/New_York');
    // 05:30Z is 01:30 EDT (the first 01:30); 06:10Z is 01:10 EST, inside the repeated hour.
    expect(ny.after(new Date('2025-11-02T05:30:00Z'))!.toISOString()).toBe('2025-11-03T06:30:00.000Z');
    expect(ny.after(new Date('2025-11-02T06:10:00Z'))!.toISOString()).toBe('2025-11-03T06:30:00.000Z');
  });

  it('a wildcard expression runs at both occurrences of a repeated time, as it implies', () => {
    const half = ticks('*/30 * * * *', 'America/New_York', '2025-11-02T04:45:00Z', 6);
    expect(half.map((t) => wall(t, 'America/New_York').slice(11))).toEqual([
      '01:00 -4',
      '01:30 -4',
      '01:00 -5',
      '01:30 -5',
      '02:00 -5',
      '02:30 -5',
    ]);
  });

  it('seconds are optional: six fields tick by the second', () => {
    expect(ticks('*/15 * * * * *', 'UTC', '2025-01-01T00:00:00Z', 3)).toEqual([
      '2025-01-01T00:00:15.000Z',
      '2025-01-01T00:00:30.000Z',
      '2025-01-01T00:00:45.000Z',
    ]);
    expect(ticks('0 * * * *', 'UTC', '2025-01-01T00:10:00Z', 1)).toEqual(['2025-01-01T01:00:00.000Z']);
  });

  it('latest() agrees with stepping forward, DST days included', () => {
    for (const [pattern, zone] of [
      ['30 2 * * *', 'Europe/Berlin'],
      ['*/30 * * * *', 'America/New_York'],
      ['0 */7 * * *', 'America/New_York'],
    ] as const) {
      const timing = cronTiming(pattern, zone);
      const from = new Date('2025-10-24T00:00:00Z');
      const now = new Date('2025-11-05T00:00:00Z');
      const forward: string[] = [];
      for (let t = timing.after(new Date(from.getTime() - 1))!; t <= now; t = timing.after(t)!) {
        forward.push(t.toISOString());
      }
      const back = timing
        .latest(10_000, from, now)
        .map((d) => d.toISOString())
        .reverse();
      expect(back).toEqual(forward);
    }
  });
});

describe('catch-up planning', () => {
  const every = (ms: number, anchor: string) => intervalTiming(ms, new Date(anchor));
  const iso = (d: Date[]) => d.map((x) => x.toISOString());
  const current = new Date('2025-01-01T00:00:00Z');

  it('one due tick on time: every policy fires it', () => {
    const now = new Date('2025-01-01T00:00:00.040Z');
    for (const rule of [{ policy: 'skip' }, { policy: 'once' }, { policy: 'each', max: 5 }] as const) {
      const plan = planTicks(every(1000, '2025-01-01T00:00:00Z'), rule, current, now)!;
      expect(iso(plan.fire)).toEqual(['2025-01-01T00:00:00.000Z']);
      expect(plan.next.toISOString()).toBe('2025-01-01T00:00:01.000Z');
      expect(plan.missedFrom).toBeNull();
    }
  });

  it('nothing is due before the tick', () => {
    expect(
      planTicks(every(1000, '2025-01-01T00:00:00Z'), { policy: 'once' }, current, new Date(0)),
    ).toBeNull();
  });

  it('after 10 s down, a per-second schedule: skip fires the latest, once fires one for all, each the last n', () => {
    const now = new Date('2025-01-01T00:00:10.300Z');
    const timing = every(1000, '2025-01-01T00:00:00Z');
    const skip = planTicks(timing, { policy: 'skip' }, current, now)!;
    expect(iso(skip.fire)).toEqual(['2025-01-01T00:00:10.000Z']);
    const once = planTicks(timing, { policy: 'once' }, current, now)!;
    expect(iso(once.fire)).toEqual(['2025-01-01T00:00:10.000Z']);
    expect(once.missedFrom!.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    const each = planTicks(timing, { policy: 'each', max: 3 }, current, now)!;
    expect(iso(each.fire)).toEqual([
      '2025-01-01T00:00:08.000Z',
      '2025-01-01T00:00:09.000Z',
      '2025-01-01T00:00:10.000Z',
    ]);
    const all = planTicks(timing, { policy: 'each', max: 100 }, current, now)!;
    expect(all.fire).toHaveLength(11);
    for (const plan of [skip, once, each, all])
      expect(plan.next.toISOString()).toBe('2025-01-01T00:00:11.000Z');
  });

  it('a daily tick missed by hours: skip drops it, once and each run it', () => {
    const timing = cronTiming('0 3 * * *', 'Europe/Berlin');
    const tick = new Date('2025-01-01T02:00:00Z'); // 03:00 CET
    const now = new Date('2025-01-01T07:00:00Z');
    expect(planTicks(timing, { policy: 'skip' }, tick, now)!.fire).toEqual([]);
    expect(iso(planTicks(timing, { policy: 'once' }, tick, now)!.fire)).toEqual(['2025-01-01T02:00:00.000Z']);
    expect(iso(planTicks(timing, { policy: 'each', max: 2 }, tick, now)!.fire)).toEqual([
      '2025-01-01T02:00:00.000Z',
    ]);
    expect(planTicks(timing, { policy: 'skip' }, tick, now)!.next.toISOString()).toBe(
      '2025-01-02T02:00:00.000Z',
    );
    // Within the grace it is on time, also under skip.
    const soon = new Date(tick.getTime() + LATE_GRACE_MS - 1);
    expect(planTicks(timing, { policy: 'skip' }, tick, soon)!.fire).toHaveLength(1);
  });

  it('three days down over the Berlin fall-back: each fires every missed 02:30 once', () => {
    const timing = cronTiming('30 2 * * *', 'Europe/Berlin');
    const plan = planTicks(
      timing,
      { policy: 'each', max: 10 },
      new Date('2025-10-25T00:30:00Z'),
      new Date('2025-10-27T12:00:00Z'),
    )!;
    expect(iso(plan.fire)).toEqual([
      '2025-10-25T00:30:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-27T01:30:00.000Z',
    ]);
    expect(plan.next.toISOString()).toBe('2025-10-28T01:30:00.000Z');
  });

  it('a plan depends on the stored tick and the database time only', () => {
    // Two processes with different clocks, planning from the same row and the same database now.
    const timing = () => cronTiming('* * * * * *', 'UTC');
    const now = new Date('2025-01-01T00:00:00.500Z');
    const a = planTicks(timing(), { policy: 'once' }, current, now);
    const b = planTicks(timing(), { policy: 'once' }, current, now);
    expect(a).toEqual(b);
  });
});
