import { h, s } from './dom.js';
import { num } from './format.js';

export interface Bucket {
  /** Start of the bucket: a minute, or the first minute of a wider one. */
  minute: string;
  queue: string;
  completed: number;
  failed: number;
  /** Median and 95th percentile run time of the bucket's completed jobs in ms; null when none. */
  p50Ms?: number | null;
  p95Ms?: number | null;
}

/** What a chart covers: the last `minutes`, in buckets of `bucketMinutes`. */
export interface Span {
  minutes: number;
  bucketMinutes: number;
}

/** Height of the chart in CSS px, at every width. */
export const H = 190;
/** Used before the chart's box has a width (not yet laid out). */
export const FALLBACK_WIDTH = 1100;
/** At most this many intervals between ticks: 5 leaves ~30 px between labels in a 190 px chart. */
const MOST_INTERVALS = 5;

/**
 * The y-axis ticks for a count of jobs: 0, step, 2·step… up to the first tick at or above
 * `max`. The step is a whole number, 1, 2 or 5 × 10^k, the smallest that needs no more than
 * `most` intervals, so a chart whose tallest bar is 3 jobs reads 0 1 2 3, never 0 2.5 5.
 */
export function jobTicks(max: number, most = MOST_INTERVALS): number[] {
  const top = Math.max(1, Math.ceil(max));
  for (let power = 1; ; power *= 10) {
    for (const m of [1, 2, 5]) {
      const step = m * power;
      const intervals = Math.ceil(top / step);
      if (intervals <= most) return Array.from({ length: intervals + 1 }, (_, i) => i * step);
    }
  }
}

/**
 * The start times (epoch ms) of a span's buckets, oldest first, as core makes them: aligned to
 * multiples of the bucket's width since the epoch, the first one holding the span's first
 * minute (it may begin before it), the last one holding the current minute.
 */
export function slots(span: Span, serverNow: number): number[] {
  const width = span.bucketMinutes * 60_000;
  const minute = Math.floor(serverNow / 60_000) * 60_000;
  const first = Math.floor((minute - (span.minutes - 1) * 60_000) / width) * width;
  const last = Math.floor(minute / width) * width;
  return Array.from({ length: Math.round((last - first) / width) + 1 }, (_, i) => first + i * width);
}

/** Which slot a bucket from the API belongs to, or -1 when it falls outside them. */
export function slotIndex(at: number[], minute: string): number {
  if (at.length === 0) return -1;
  const width = at.length > 1 ? at[1]! - at[0]! : 60_000;
  const i = Math.round((new Date(minute).getTime() - at[0]!) / width);
  return i >= 0 && i < at.length ? i : -1;
}

/** "-60m", "-6h", "-7d": how far back a point of the time axis is. */
export function ago(minutes: number): string {
  if (minutes < 120) return `-${minutes}m`;
  if (minutes < 2880) return `-${Math.round((minutes / 60) * 10) / 10}h`;
  return `-${Math.round((minutes / 1440) * 10) / 10}d`;
}

/** A bucket's time for a tooltip: the day too once a chart spans more than a day. */
export function slotLabel(at: number, span: Span): string {
  const time = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (span.minutes <= 1440) return time;
  return `${new Date(at).toLocaleDateString([], { weekday: 'short', day: 'numeric' })} ${time}`;
}

/** The plot's padding: room for the longest y label at 11 px (about 7 px a character) and a 6 px gap. */
export interface Frame {
  pad: { top: number; right: number; bottom: number; left: number };
  plotW: number;
  plotH: number;
}

export function frame(width: number, labels: string[]): Frame {
  const pad = {
    top: 12,
    right: 8,
    bottom: 22,
    left: Math.max(24, 7 * Math.max(...labels.map((l) => l.length)) + 10),
  };
  return { pad, plotW: width - pad.left - pad.right, plotH: H - pad.top - pad.bottom };
}

/** An empty chart drawing `width` CSS px wide, one user unit to a pixel. */
export function chartSvg(width: number, cls: string, label: string): SVGElement {
  return s('svg', {
    viewBox: `0 0 ${width} ${H}`,
    width,
    height: H,
    class: cls,
    role: 'img',
    'aria-label': label,
  });
}

/** Horizontal grid lines with their labels at `ticks`, `y` mapping a value to its height. */
export function yAxis(
  svg: SVGElement,
  f: Frame,
  width: number,
  ticks: number[],
  labels: string[],
  y: (v: number) => number,
  labelClass: string,
): void {
  ticks.forEach((v, i) => {
    svg.append(
      s('line', { x1: f.pad.left, x2: width - f.pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      s(
        'text',
        {
          x: f.pad.left - 6,
          y: y(v) + 4,
          class: `axis ${labelClass}`,
          'text-anchor': 'end',
          'data-value': v,
        },
        labels[i],
      ),
    );
  });
}

/** The time axis under a chart: its start, its middle and "now". */
export function timeAxis(
  svg: SVGElement,
  span: Span,
  count: number,
  x: (i: number) => number,
  left: number,
  right: number,
): void {
  const marks: [number, string, 'start' | 'middle' | 'end'][] = [
    [left, ago(span.minutes), 'start'],
    [x(Math.floor(count / 2)), ago(Math.ceil(span.minutes / 2)), 'middle'],
    [right, 'now', 'end'],
  ];
  for (const [at, text, anchor] of marks) {
    svg.append(s('text', { x: at, y: H - 6, class: 'axis tick-x', 'text-anchor': anchor }, text));
  }
}

/**
 * Completed jobs and failed attempts per bucket (a minute, or wider for longer spans), as
 * stacked bars in an SVG built node by node. Buckets without a row are zero. The SVG is drawn
 * at `width` CSS px (the width of its box), one user unit to a pixel, so its labels keep
 * their 11 px size on a phone instead of being scaled down with a desktop-wide drawing.
 */
export function throughputChart(
  buckets: Bucket[],
  span: Span,
  serverNow: number,
  queue: string | null,
  width: number,
): HTMLElement {
  const W = width > 0 ? Math.round(width) : FALLBACK_WIDTH;
  const at = slots(span, serverNow);
  const series = at.map((t) => ({ at: t, completed: 0, failed: 0 }));
  for (const b of buckets) {
    if (queue && b.queue !== queue) continue;
    const slot = series[slotIndex(at, b.minute)];
    if (!slot) continue;
    slot.completed += b.completed;
    slot.failed += b.failed;
  }
  const ticks = jobTicks(Math.max(...series.map((p) => p.completed + p.failed)));
  const top = ticks[ticks.length - 1]!;
  const labels = ticks.map(num);
  const f = frame(W, labels);
  const { pad, plotW, plotH } = f;
  const barW = plotW / series.length;
  // A 2 px gap between bars while they are wide; 1 px once they are thin (phones).
  const gap = barW >= 8 ? 2 : 1;
  const y = (v: number) => pad.top + plotH - (v / top) * plotH;
  const svg = chartSvg(
    W,
    'chart',
    span.bucketMinutes === 1 ? 'Jobs per minute' : `Jobs per ${span.bucketMinutes} minutes`,
  );
  yAxis(svg, f, W, ticks, labels, y, 'tick-y');
  series.forEach((p, i) => {
    const x = pad.left + i * barW + gap / 2;
    const w = Math.max(1, barW - gap);
    const label = `${slotLabel(p.at, span)}: ${num(p.completed)} completed, ${num(p.failed)} failed`;
    const g = s('g', {}, s('title', {}, label));
    if (p.completed > 0) {
      g.append(s('rect', { x, width: w, y: y(p.completed), height: y(0) - y(p.completed), class: 'bar-ok' }));
    }
    if (p.failed > 0) {
      g.append(
        s('rect', {
          x,
          width: w,
          y: y(p.completed + p.failed),
          height: y(p.completed) - y(p.completed + p.failed),
          class: 'bar-fail',
        }),
      );
    }
    // An invisible full-height target so the tooltip works on empty minutes too.
    g.append(s('rect', { x, width: w, y: pad.top, height: plotH, class: 'bar-hit' }));
    svg.append(g);
  });
  timeAxis(svg, span, series.length, (i) => pad.left + i * barW + barW / 2, pad.left, W - pad.right);
  const completed = series.reduce((a, p) => a + p.completed, 0);
  const failed = series.reduce((a, p) => a + p.failed, 0);
  return h(
    'div',
    { class: 'chart-wrap' },
    h(
      'div',
      { class: 'legend' },
      h('span', { class: 'dot dot-ok' }),
      h('span', { 'data-testid': 'completed-hour' }, `${num(completed)} completed`),
      h('span', { class: 'dot dot-fail' }),
      h('span', { 'data-testid': 'failed-hour' }, `${num(failed)} failed attempt${failed === 1 ? '' : 's'}`),
    ),
    svg,
  );
}
