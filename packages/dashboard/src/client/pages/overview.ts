import { act, getJson } from '../api.js';
import { type Bucket, type Span, throughputChart } from '../chart.js';
import { fill, h } from '../dom.js';
import { durationChart } from '../duration-chart.js';
import { duration, num, relative } from '../format.js';
import { type Page, type PageContext, route } from '../page.js';
import { actionButton, badge, card, empty, toast } from '../ui.js';

interface QueueRow {
  queue: string;
  available: number;
  scheduled: number;
  running: number;
  failed: number;
  paused: boolean;
  /** Due jobs of this queue that no live worker will run. */
  unrouted: number;
}

/** Due jobs of one task on one queue that no live worker will run, and why. */
interface Unrouted {
  queue: string;
  task: string;
  count: number;
  oldestDueAt: string;
  reason: string;
  message: string;
}

interface Overview {
  now: string;
  queues: QueueRow[];
  unrouted: Unrouted[];
  countedAt: string;
  countMs: number;
  throughput: Span & {
    range: Range;
    supported: boolean;
    buckets: Bucket[];
    computedAt: string;
    computeMs: number;
  };
}

const STATES = ['available', 'scheduled', 'running', 'failed'] as const;

/** The charts' ranges (the server's RANGES), with the card's title for each. */
const RANGES = {
  '1h': 'Last hour',
  '6h': 'Last 6 hours',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
} as const;
type Range = keyof typeof RANGES;

/** The queues that completed jobs in the range, busiest first: the run-time chart's choices. */
function busiest(buckets: Bucket[]): string[] {
  const done = new Map<string, number>();
  for (const b of buckets) if (b.p50Ms != null) done.set(b.queue, (done.get(b.queue) ?? 0) + b.completed);
  return [...done.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([q]) => q);
}

export function overviewPage(ctx: PageContext): Page {
  const asked = ctx.params.get('range') ?? '1h';
  const range: Range = Object.hasOwn(RANGES, asked) ? (asked as Range) : '1h';
  // The queue whose run times are charted: the reader's pick, else the busiest one.
  let durationQueue = ctx.params.get('queue');
  const totals = h('div', { class: 'stats' });
  const chart = h('div', { class: 'chart-slot' });
  const durations = h('div', { class: 'duration-slot' });
  const chartNote = h('p', { class: 'note', 'data-testid': 'stats-note' });
  const picker = h('select', {
    class: 'picker',
    'aria-label': 'Queue whose run times are shown',
    'data-testid': 'duration-queue',
    on: {
      change: () => {
        durationQueue = picker.value;
        // Kept in the address for a reload or a shared link, without rebuilding the page.
        history.replaceState(
          null,
          '',
          route('/', { range: range === '1h' ? null : range, queue: durationQueue }),
        );
        if (drawn) drawCharts(drawn.throughput, drawn.now);
      },
    },
  });
  const rangeTabs = h(
    'nav',
    { class: 'tabs range-tabs' },
    ...(Object.keys(RANGES) as Range[]).map((r) =>
      h(
        'a',
        {
          href: route('/', { range: r === '1h' ? null : r, queue: durationQueue }),
          class: r === range ? 'tab tab-active' : 'tab',
          'data-testid': `range-${r}`,
        },
        r,
      ),
    ),
  );
  const rows = h('tbody');
  const note = h('p', { class: 'note', 'data-testid': 'counts-note' });
  // Shown only while some due jobs have no live worker to run them.
  const warning = h('div', { class: 'warning-slot' });
  const el = h(
    'div',
    { class: 'page' },
    totals,
    warning,
    card(
      RANGES[range],
      rangeTabs,
      h(
        'div',
        { class: 'charts' },
        h('div', { class: 'chart-box' }, h('h3', { class: 'chart-title' }, 'Throughput'), chart),
        h(
          'div',
          { class: 'chart-box' },
          h('h3', { class: 'chart-title' }, 'Run time of ', picker),
          durations,
        ),
      ),
      chartNote,
    ),
    card(
      'Queues',
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'queues' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Queue'),
              ...STATES.map((st) => h('th', { class: 'num' }, st)),
              h('th', { class: 'num' }, `done / ${range}`),
              h('th', { class: 'num' }, `failed / ${range}`),
              h('th', { class: 'actions' }, ''),
            ),
          ),
          rows,
        ),
      ),
      note,
    ),
  );
  let last = '';
  // The chart is drawn at its box's width in CSS px (see throughputChart), so it is drawn
  // again when that width changes: a phone turned sideways, a resized window.
  let drawn: { throughput: Overview['throughput']; now: number; width: number } | undefined;
  function drawCharts(throughput: Overview['throughput'], now: number) {
    const width = chart.clientWidth;
    drawn = { throughput, now, width };
    if (!throughput.supported) {
      fill(chart, h('p', { class: 'note' }, 'This version of @queue/core keeps no per-minute statistics.'));
      return;
    }
    fill(chart, throughputChart(throughput.buckets, throughput, now, null, width));
    const queues = busiest(throughput.buckets);
    const shown = durationQueue && queues.includes(durationQueue) ? durationQueue : (queues[0] ?? null);
    fill(
      picker,
      queues.length === 0
        ? h('option', { value: '' }, 'completed jobs')
        : queues.map((q) => h('option', { value: q, selected: q === shown }, q)),
    );
    fill(durations, durationChart(throughput.buckets, throughput, now, shown, durations.clientWidth));
  }
  new ResizeObserver(() => {
    // Zero once the page is left (the box is detached): nothing to draw then.
    if (drawn && chart.clientWidth > 0 && chart.clientWidth !== drawn.width)
      drawCharts(drawn.throughput, drawn.now);
  }).observe(chart);

  async function load() {
    const data = await getJson<Overview>(`api/overview${range === '1h' ? '' : `?range=${range}`}`);
    const now = new Date(data.now).getTime();
    // Redrawn only when what is shown changes: the counts' age and timing change on every
    // answer (the note above says them), and redrawing would reset a half-confirmed button.
    const unrouted = data.unrouted ?? [];
    const { computedAt, computeMs, ...stats } = data.throughput;
    fill(
      chartNote,
      computeMs >= 50
        ? `Statistics read ${duration(now - new Date(computedAt).getTime())} ago (reading them takes ${num(computeMs)} ms, so they are cached).`
        : '',
    );
    const key = JSON.stringify([
      data.queues,
      stats,
      unrouted.map((u) => [u.queue, u.task, u.count, u.message]),
      Math.floor(now / 60_000),
    ]);
    fill(
      note,
      data.countMs >= 50
        ? `Available, scheduled and failed counted ${duration(now - new Date(data.countedAt).getTime())} ago (a count takes ${num(data.countMs)} ms, so it is cached); running jobs are live.`
        : '',
    );
    if (key === last) return;
    last = key;
    const sum = (k: (typeof STATES)[number]) => data.queues.reduce((a, q) => a + q[k], 0);
    fill(
      totals,
      ...STATES.map((st) =>
        h(
          'a',
          {
            class: `stat stat-${st}`,
            href: route(st === 'running' ? '/running' : '/jobs', st === 'running' ? {} : { state: st }),
            'data-testid': `total-${st}`,
          },
          h('span', { class: 'stat-value' }, num(sum(st))),
          h('span', { class: 'stat-label' }, st),
        ),
      ),
    );
    fill(warning, unrouted.length > 0 ? unroutedCard(unrouted, now) : null);
    drawCharts(data.throughput, now);
    const perQueue = new Map<string, { completed: number; failed: number }>();
    for (const b of data.throughput.buckets) {
      const t = perQueue.get(b.queue) ?? { completed: 0, failed: 0 };
      t.completed += b.completed;
      t.failed += b.failed;
      perQueue.set(b.queue, t);
    }
    const names = [...new Set([...data.queues.map((q) => q.queue), ...perQueue.keys()])].sort();
    const byName = new Map(data.queues.map((q) => [q.queue, q]));
    fill(
      rows,
      names.length === 0
        ? empty('No queues yet: enqueue a job and it shows up here.', 8)
        : names.map((name) => {
            const q = byName.get(name) ?? {
              queue: name,
              available: 0,
              scheduled: 0,
              running: 0,
              failed: 0,
              paused: false,
              unrouted: 0,
            };
            const t = perQueue.get(name) ?? { completed: 0, failed: 0 };
            return h(
              'tr',
              { 'data-queue': name },
              h(
                'td',
                { class: 'key' },
                h('a', { href: route('/jobs', { queue: name }), class: 'queue-name' }, name),
                ' ',
                q.paused ? badge('paused') : null,
                q.unrouted > 0
                  ? h(
                      'span',
                      {
                        class: 'badge badge-unrouted',
                        'data-testid': 'unrouted-badge',
                        title: unrouted
                          .filter((u) => u.queue === name)
                          .map((u) => u.message)
                          .join('; '),
                      },
                      `${num(q.unrouted)} won't run`,
                    )
                  : null,
              ),
              ...STATES.map((st) =>
                h(
                  'td',
                  {
                    class: `num cell-${st}${q[st] === 0 ? ' zero' : ''}`,
                    'data-testid': `${st}`,
                    'data-label': st,
                  },
                  h(
                    'a',
                    {
                      href: st === 'running' ? route('/running') : route('/jobs', { state: st, queue: name }),
                    },
                    num(q[st]),
                  ),
                ),
              ),
              h('td', { class: 'num muted', 'data-label': `done / ${range}` }, num(t.completed)),
              h('td', { class: 'num muted', 'data-label': `failed / ${range}` }, num(t.failed)),
              h('td', { class: 'actions' }, ctx.session.readOnly ? null : queueActions(ctx, q)),
            );
          }),
    );
  }

  return { title: 'Overview', el, load };
}

/** Which due jobs no live worker will run: one line per queue and task, with why. */
function unroutedCard(unrouted: Unrouted[], now: number): HTMLElement {
  return h(
    'section',
    { class: 'card warning', 'data-testid': 'unrouted' },
    h('h2', { class: 'card-title' }, 'Jobs nobody will run'),
    h(
      'ul',
      { class: 'warning-list' },
      ...unrouted.map((u) =>
        h(
          'li',
          { 'data-queue': u.queue, 'data-task': u.task },
          h('strong', null, `${num(u.count)} due job${u.count === 1 ? '' : 's'}`),
          ' of task ',
          h('span', { class: 'mono' }, u.task),
          ' on queue ',
          h('a', { href: route('/jobs', { state: 'available', queue: u.queue, task: u.task }) }, u.queue),
          `: ${u.message}; oldest due ${relative(u.oldestDueAt, now)}.`,
        ),
      ),
    ),
    h(
      'p',
      { class: 'note' },
      'A worker claims jobs of the queues it serves and the tasks it has handlers for. Live workers are those whose database session is open now.',
    ),
  );
}

function queueActions(ctx: PageContext, q: QueueRow): HTMLElement[] {
  const path = `api/queues/${encodeURIComponent(q.queue)}`;
  const buttons = [
    q.paused
      ? actionButton(
          'Resume',
          async () => {
            await act('POST', `${path}/resume`);
            toast(`Queue ${q.queue} resumed`);
            await ctx.refresh();
          },
          { kind: 'primary', testId: 'resume' },
        )
      : actionButton(
          'Pause',
          async () => {
            await act('POST', `${path}/pause`);
            toast(`Queue ${q.queue} paused: workers stop claiming from it`);
            await ctx.refresh();
          },
          { testId: 'pause' },
        ),
  ];
  if (q.failed > 0) {
    buttons.push(
      actionButton(
        'Retry failed',
        async () => {
          const { retried } = await act<{ retried: number }>('POST', 'api/retry-failed', { queue: q.queue });
          toast(`${num(retried)} failed job${retried === 1 ? '' : 's'} in ${q.queue} retried`);
          await ctx.refresh();
        },
        { confirm: `Retry ${num(q.failed)}?`, testId: 'retry-queue' },
      ),
    );
  }
  return buttons;
}
