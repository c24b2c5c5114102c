import { h, s } from './dom.js';
import { num } from './format.js';

export interface Bucket {
  minute: string;
  queue: string;
  completed: number;
  failed: number;
}

/** Height of the chart in CSS px, at every width. */
const H = 190;
/** Used before the chart's box has a width (not yet laid out). */
const FALLBACK_WIDTH = 1100;
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
 * Completed jobs and failed attempts per minute over the last `minutes`, as stacked bars
 * in an SVG built node by node. Minutes without a bucket are zero. The SVG is drawn at
 * `width` CSS px (the width of its box), one user unit to a pixel, so its labels keep
 * their 11 px size on a phone instead of being scaled down with a desktop-wide drawing.
 */
export function throughputChart(
  buckets: Bucket[],
  minutes: number,
  serverNow: number,
  queue: string | null,
  width: number,
): HTMLElement {
  const W = width > 0 ? Math.round(width) : FALLBACK_WIDTH;
  const end = Math.floor(serverNow / 60_000) * 60_000;
  const start = end - (minutes - 1) * 60_000;
  const series = Array.from({ length: minutes }, (_, i) => ({
    at: start + i * 60_000,
    completed: 0,
    failed: 0,
  }));
  for (const b of buckets) {
    if (queue && b.queue !== queue) continue;
    const i = Math.round((new Date(b.minute).getTime() - start) / 60_000);
    const slot = series[i];
    if (!slot) continue;
    slot.completed += b.completed;
    slot.failed += b.failed;
  }
  const ticks = jobTicks(Math.max(...series.map((p) => p.completed + p.failed)));
  const top = ticks[ticks.length - 1]!;
  const labels = ticks.map(num);
  // Room for the longest label at 11 px (about 7 px a character) and a 6 px gap.
  const pad = {
    top: 12,
    right: 8,
    bottom: 22,
    left: Math.max(24, 7 * Math.max(...labels.map((l) => l.length)) + 10),
  };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const barW = plotW / minutes;
  // A 2 px gap between bars while they are wide; 1 px once they are thin (phones).
  const gap = barW >= 8 ? 2 : 1;
  const y = (v: number) => pad.top + plotH - (v / top) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    class: 'chart',
    role: 'img',
    'aria-label': 'Jobs per minute',
  });
  ticks.forEach((v, i) => {
    svg.append(
      s('line', { x1: pad.left, x2: W - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      s(
        'text',
        { x: pad.left - 6, y: y(v) + 4, class: 'axis tick-y', 'text-anchor': 'end', 'data-value': v },
        labels[i],
      ),
    );
  });
  series.forEach((p, i) => {
    const x = pad.left + i * barW + gap / 2;
    const w = Math.max(1, barW - gap);
    const label = `${new Date(p.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${num(p.completed)} completed, ${num(p.failed)} failed`;
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
  const times: [number, string][] = [
    [0, `-${minutes}m`],
    [Math.floor(minutes / 2), `-${Math.ceil(minutes / 2)}m`],
    [minutes - 1, 'now'],
  ];
  for (const [i, text] of times) {
    svg.append(
      s(
        'text',
        {
          x: i === 0 ? pad.left : i === minutes - 1 ? W - pad.right : pad.left + i * barW + barW / 2,
          y: H - 6,
          class: 'axis tick-x',
          'text-anchor': i === 0 ? 'start' : i === minutes - 1 ? 'end' : 'middle',
        },
        text,
      ),
    );
  }
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
