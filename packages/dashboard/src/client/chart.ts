import { h, s } from './dom.js';
import { num } from './format.js';

export interface Bucket {
  minute: string;
  queue: string;
  completed: number;
  failed: number;
}

const W = 1100;
const H = 190;
const PAD = { top: 12, right: 8, bottom: 22, left: 40 };

/**
 * Completed jobs and failed attempts per minute over the last `minutes`, as stacked bars
 * in an SVG built node by node. Minutes without a bucket are zero.
 */
export function throughputChart(
  buckets: Bucket[],
  minutes: number,
  serverNow: number,
  queue: string | null,
): HTMLElement {
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
  const max = Math.max(1, ...series.map((p) => p.completed + p.failed));
  const top = niceCeil(max);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / minutes;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': 'Jobs per minute',
  });
  for (const v of [0, top / 2, top]) {
    svg.append(
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, num(v)),
    );
  }
  series.forEach((p, i) => {
    const x = PAD.left + i * barW + 1;
    const w = Math.max(1, barW - 2);
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
    g.append(s('rect', { x, width: w, y: PAD.top, height: plotH, class: 'bar-hit' }));
    svg.append(g);
  });
  const labels: [number, string][] = [
    [0, `-${minutes}m`],
    [Math.floor(minutes / 2), `-${Math.ceil(minutes / 2)}m`],
    [minutes - 1, 'now'],
  ];
  for (const [i, text] of labels) {
    svg.append(
      s(
        'text',
        {
          x: PAD.left + i * barW + barW / 2,
          y: H - 6,
          class: 'axis',
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

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
