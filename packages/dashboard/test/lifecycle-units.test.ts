import { afterEach, describe, expect, it, vi } from 'vitest';
import { ago, slotIndex, slots } from '../src/client/chart.js';
import { durationTicks, ms } from '../src/client/duration-chart.js';
import { searchProblem } from '../src/client/search.js';
import { MAX_BULK_IDS, parseBulkBody } from '../src/data/bulk.js';
import { prettyClip } from '../src/data/finished.js';
import { progressView } from '../src/data/progress.js';
import { StaleCache } from '../src/data/stale-cache.js';
import { parseRange, RANGES } from '../src/data/throughput.js';

describe('chart time slots', () => {
  const now = Date.parse('2026-03-04T10:17:30Z');

  it('has one bar a minute for the last hour, the current minute last', () => {
    const at = slots(RANGES['1h'], now);
    expect(at).toHaveLength(60);
    expect(new Date(at.at(-1)!).toISOString()).toBe('2026-03-04T10:17:00.000Z');
    expect(new Date(at[0]!).toISOString()).toBe('2026-03-04T09:18:00.000Z');
  });

  it('aligns wider buckets to multiples of their width, as core does', () => {
    const week = slots(RANGES['7d'], now);
    // 10,080 minutes in 2-hour buckets: 84, plus the partial one the first minute falls in.
    expect(week.length).toBe(85);
    expect(new Date(week.at(-1)!).toISOString()).toBe('2026-03-04T10:00:00.000Z');
    for (const t of week) expect(t % (120 * 60_000)).toBe(0);
    const day = slots(RANGES['24h'], now);
    expect(new Date(day.at(-1)!).toISOString()).toBe('2026-03-04T10:15:00.000Z');
    expect(slotIndex(day, '2026-03-04T10:15:00.000Z')).toBe(day.length - 1);
    expect(slotIndex(day, '2026-03-01T10:15:00.000Z')).toBe(-1);
  });

  it('labels the axis in minutes, hours or days', () => {
    expect([60, 360, 1440, 10_080].map(ago)).toEqual(['-60m', '-6h', '-24h', '-7d']);
    expect(ago(5040)).toBe('-3.5d');
  });

  it('takes only the ranges it offers', () => {
    expect(parseRange(null)).toBe('1h');
    expect(parseRange('7d')).toBe('7d');
    expect(() => parseRange('30d')).toThrow(/range must be one of 1h, 6h, 24h, 7d, got "30d"/);
    expect(() => parseRange('toString')).toThrow(/range must be one of/);
  });
});

describe('run-time axis', () => {
  it('spans the values in decades, at least two ticks', () => {
    expect(durationTicks(3, 250)).toEqual([1, 10, 100, 1000]);
    expect(durationTicks(5000, 5000)).toEqual([1000, 10_000]);
    expect(durationTicks(0.5, 0.5)).toEqual([1, 10]);
    expect(durationTicks(1200, 90_000)).toEqual([1000, 10_000, 60_000, 600_000]);
  });

  it('formats milliseconds in the unit that reads best', () => {
    expect([0.5, 12, 1500, 90_000, 5_400_000].map(ms)).toEqual([
      '0.5 ms',
      '12 ms',
      '1.5 s',
      '1.5 min',
      '1.5 h',
    ]);
  });
});

describe('progress as shown', () => {
  it('draws 0 to 100 as a percentage, other numbers as counts, anything else as compact JSON', () => {
    expect(progressView(null)).toBeNull();
    expect(progressView(42)).toEqual({ percent: 42, text: '42%' });
    expect(progressView(33.3333)).toEqual({ percent: 33.3333, text: '33.3%' });
    expect(progressView(1500)).toEqual({ percent: null, text: '1500' });
    expect(progressView(-1)).toEqual({ percent: null, text: '-1' });
    expect(progressView({ done: 40, of: 120 })).toEqual({ percent: null, text: '{"done":40,"of":120}' });
    expect(progressView('x'.repeat(500))!.text).toHaveLength(120);
  });
});

describe('results on a page', () => {
  it('cuts long JSON on a character boundary and says how long it was', () => {
    expect(prettyClip({ a: 1 }, 100)).toEqual({ text: '{\n  "a": 1\n}', chars: 12, truncated: false });
    const emoji = prettyClip('😀'.repeat(10), 6);
    // '"' then two emoji (4 UTF-16 units) then half of the third, which is dropped.
    expect(emoji).toEqual({ text: '"😀😀', chars: 22, truncated: true });
  });
});

describe('search box', () => {
  it('takes a non-empty JSON object and says what is wrong with anything else', () => {
    expect(searchProblem('')).toBeNull();
    expect(searchProblem('{"userId": 42}')).toBeNull();
    expect(searchProblem('{userId: 42}')).toMatch(/^Search must be JSON, such as \{"userId": 42\}: /);
    expect(searchProblem('[1]')).toBe('Search must be a JSON object, such as {"userId": 42}, not an array');
    expect(searchProblem('42')).toBe('Search must be a JSON object, such as {"userId": 42}, not 42');
    expect(searchProblem('{}')).toBe('Search must name at least one field, such as {"userId": 42}');
  });
});

describe('bulk action bodies', () => {
  it('takes { ids } of job ids, without duplicates', () => {
    expect(parseBulkBody({ ids: ['3', 4, '3'] })).toEqual(['3', '4']);
  });

  it('refuses anything else with a message saying what it wants', () => {
    expect(() => parseBulkBody(null)).toThrow('body must be a JSON object { ids: ["1", "2", …] }');
    expect(() => parseBulkBody({ ids: ['1'], state: 'failed' })).toThrow(
      'unknown field "state": expected ids',
    );
    expect(() => parseBulkBody({ ids: [] })).toThrow(`ids must be an array of 1 to ${MAX_BULK_IDS} job ids`);
    expect(() =>
      parseBulkBody({ ids: Array.from({ length: MAX_BULK_IDS + 1 }, (_, i) => String(i + 1)) }),
    ).toThrow(/ids must be an array/);
    expect(() => parseBulkBody({ ids: ['1', 'x'] })).toThrow('ids[1] must be a positive integer, got "x"');
  });
});

describe('statistics cache', () => {
  /** A computation that takes `ms` by the clock the cache reads, counting its runs. */
  function source(ms: number) {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const runs = { n: 0 };
    const cache = new StaleCache(async () => {
      clock += ms;
      return ++runs.n;
    });
    return { cache, runs };
  }
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('reads again on every request while a read is fast', async () => {
    const { cache, runs } = source(10);
    expect((await cache.get(2000)).data).toBe(1);
    expect((await cache.get(2000)).data).toBe(2);
    expect(runs.n).toBe(2);
  });

  it('shares a slow read for max(maxAge, 20 × its duration), then reads again in the background', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const { cache, runs } = source(300);
    expect(await cache.get(2000)).toMatchObject({ data: 1, ms: 300 });
    vi.setSystemTime(5_999);
    expect((await cache.get(2000)).data).toBe(1);
    expect(runs.n).toBe(1);
    vi.setSystemTime(6_000);
    // The request gets the value it has; the new one is for the next request.
    expect((await cache.get(2000)).data).toBe(1);
    await vi.waitFor(() => expect(runs.n).toBe(2));
    expect((await cache.get(2000)).data).toBe(2);
  });
});
