import {
  type Bucket,
  chartSvg,
  FALLBACK_WIDTH,
  frame,
  type Span,
  slotIndex,
  slotLabel,
  slots,
  timeAxis,
  yAxis,
} from './chart.js';
import { h, s } from './dom.js';

/** Tick values of the run-time axis, in ms: decades up to 10 s, then a minute, 10 minutes, an hour, 10 hours, a day. */
const STEPS = [1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000, 86_400_000];

/** "0.5 ms", "120 ms", "1.5 s", "2 min", "1.2 h". */
export function ms(value: number): string {
  if (value < 1) return `${value} ms`;
  if (value < 1_000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${Math.round(value / 100) / 10} s`;
  if (value < 3_600_000) return `${Math.round(value / 6_000) / 10} min`;
  return `${Math.round(value / 360_000) / 10} h`;
}

/**
 * The run-time axis: a log scale (a job of 2 ms and one of 2 minutes share a chart), from the
 * decade step at or below the smallest value to the one at or above the largest, at least two
 * ticks. Values are within a factor of two anyway (core reads them from a log2 histogram).
 */
export function durationTicks(min: number, max: number): number[] {
  const lo = Math.max(1, min);
  const hi = Math.max(lo, max);
  let from = 0;
  while (from + 1 < STEPS.length && STEPS[from + 1]! <= lo) from++;
  let to = STEPS.length - 1;
  while (to > from + 1 && STEPS[to - 1]! >= hi) to--;
  return STEPS.slice(from, Math.max(to, from + 1) + 1);
}

/**
 * The median (p50) and 95th percentile (p95) run time of one queue's completed jobs per
 * bucket, as two lines on a log scale; buckets where nothing completed leave a gap. A point's
 * tooltip gives both values and how many jobs completed. Drawn at `width` CSS px, like the
 * throughput chart.
 */
export function durationChart(
  buckets: Bucket[],
  span: Span,
  serverNow: number,
  queue: string | null,
  width: number,
): HTMLElement {
  const W = width > 0 ? Math.round(width) : FALLBACK_WIDTH;
  const at = slots(span, serverNow);
  const series = at.map((t) => ({ at: t, p50: null as number | null, p95: null as number | null, n: 0 }));
  for (const b of buckets) {
    if (b.queue !== queue || b.p50Ms == null || b.p95Ms == null) continue;
    const slot = series[slotIndex(at, b.minute)];
    if (!slot) continue;
    slot.p50 = b.p50Ms;
    slot.p95 = b.p95Ms;
    slot.n = b.completed;
  }
  const values = series.flatMap((p) => (p.p50 === null ? [] : [p.p50, p.p95!]));
  const ticks = durationTicks(
    values.length ? Math.min(...values) : 1,
    values.length ? Math.max(...values) : 1000,
  );
  const labels = ticks.map(ms);
  const f = frame(W, labels);
  const { pad, plotW, plotH } = f;
  const lo = Math.log10(ticks[0]!);
  const hi = Math.log10(ticks[ticks.length - 1]!);
  const y = (v: number) => pad.top + plotH - ((Math.log10(Math.max(v, ticks[0]!)) - lo) / (hi - lo)) * plotH;
  const step = plotW / series.length;
  const x = (i: number) => pad.left + i * step + step / 2;
  const svg = chartSvg(W, 'dchart', 'Run time of completed jobs, median and 95th percentile');
  yAxis(svg, f, W, ticks, labels, y, 'dtick-y');
  for (const [key, cls] of [
    ['p95', 'line-p95'],
    ['p50', 'line-p50'],
  ] as const) {
    // One path of runs of consecutive buckets; a bucket without completions breaks the line.
    let d = '';
    let open = false;
    series.forEach((p, i) => {
      const v = p[key];
      if (v === null) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
      open = true;
    });
    if (d) svg.append(s('path', { d, class: cls }));
  }
  series.forEach((p, i) => {
    if (p.p50 === null) return;
    svg.append(
      s(
        'g',
        { class: 'point', 'data-p50': p.p50, 'data-p95': p.p95! },
        s('title', {}, `${slotLabel(p.at, span)}: p50 ${ms(p.p50)}, p95 ${ms(p.p95!)} (${p.n} completed)`),
        s('circle', { cx: x(i), cy: y(p.p95!), r: 2.5, class: 'dot-p95' }),
        s('circle', { cx: x(i), cy: y(p.p50), r: 2.5, class: 'dot-p50' }),
        s('rect', { x: x(i) - step / 2, width: step, y: pad.top, height: plotH, class: 'bar-hit' }),
      ),
    );
  });
  timeAxis(svg, span, series.length, x, pad.left, W - pad.right);
  const latest = [...series].reverse().find((p) => p.p50 !== null);
  return h(
    'div',
    { class: 'chart-wrap' },
    h(
      'div',
      { class: 'legend' },
      h('span', { class: 'dot dot-p50' }),
      h('span', null, 'p50'),
      h('span', { class: 'dot dot-p95' }),
      h('span', null, 'p95'),
      h(
        'span',
        { class: 'legend-latest', 'data-testid': 'durations-latest' },
        latest
          ? `latest: p50 ${ms(latest.p50!)} · p95 ${ms(latest.p95!)}`
          : 'no completed jobs in this range',
      ),
    ),
    svg,
  );
}
