import { describe, expect, it } from 'vitest';
import { jobTicks } from '../src/client/chart.js';

describe('jobTicks (the chart y-axis)', () => {
  it('steps one job at a time for small counts', () => {
    expect(jobTicks(0)).toEqual([0, 1]);
    expect(jobTicks(1)).toEqual([0, 1]);
    expect(jobTicks(3)).toEqual([0, 1, 2, 3]);
    expect(jobTicks(5)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('picks a step of 1, 2 or 5 × 10^k for larger ones', () => {
    expect(jobTicks(6)).toEqual([0, 2, 4, 6]);
    expect(jobTicks(11)).toEqual([0, 5, 10, 15]);
    expect(jobTicks(23)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(jobTicks(1290)).toEqual([0, 500, 1000, 1500]);
    expect(jobTicks(48_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
  });

  it('gives whole, evenly spaced ticks that reach the maximum, for every count up to 100,000', () => {
    for (let max = 0; max <= 100_000; max++) {
      const ticks = jobTicks(max);
      const step = ticks[1]!;
      const ok =
        ticks[0] === 0 &&
        ticks.length >= 2 &&
        ticks.length <= 6 &&
        ticks.every((t, i) => Number.isInteger(t) && t === i * step) &&
        /^[125]0*$/.test(String(step)) &&
        ticks[ticks.length - 1]! >= max &&
        ticks[ticks.length - 2]! < Math.max(1, max);
      if (!ok) expect.fail(`jobTicks(${max}) = ${JSON.stringify(ticks)}`);
    }
  });
});
