import { act, getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { absolute, interval, inZone, relative } from '../format.js';
import { type Page, type PageContext, route } from '../page.js';
import { KeyedRows } from '../rows.js';
import { actionButton, badge, card, empty, toast } from '../ui.js';

interface ScheduleRow {
  id: string;
  name: string;
  task: string;
  queue: string;
  queueOverride: boolean;
  cron: string | null;
  every: number | null;
  timeZone: string;
  pausedAt: string | null;
  nextRunAt: string;
  lastRunAt: string | null;
  lastJob: { id: string; state: string } | null;
  unrouted: string | null;
}

/** Jobs this tab enqueued with Run now, by schedule: core keeps only the last tick's job. */
const manualRuns = new Map<string, string>();

/**
 * Every schedule: its timing, its next tick as a wall clock in its own zone, its last tick and
 * the state of that tick's job, whether it is paused, and a warning when no live worker would
 * run its jobs. Pause, Resume and Run now act on one schedule.
 */
export function schedulesPage(ctx: PageContext): Page {
  const canAct = !ctx.session.readOnly;
  const rows = h('tbody');
  let serverNow = Date.now();
  const columns = 8;

  const nextRun = (s: ScheduleRow) => (s.pausedAt ? 'paused' : relative(s.nextRunAt, serverNow));
  const lastRun = (s: ScheduleRow) => (s.lastRunAt ? relative(s.lastRunAt, serverNow) : 'never');

  const table = new KeyedRows<ScheduleRow>(
    rows,
    (s) =>
      h(
        'tr',
        { 'data-schedule': s.name },
        h('td', { class: 'key mono', 'data-testid': 'name' }, s.name),
        h('td', { class: 'key mono clip task', title: s.task }, s.task),
        h(
          'td',
          { 'data-label': 'queue' },
          h('a', { href: route('/jobs', { queue: s.queue }) }, s.queue),
          s.queueOverride ? null : h('span', { class: 'muted', title: "The task's queue" }, ' (task)'),
          s.unrouted
            ? [
                ' ',
                h(
                  'span',
                  { class: 'badge badge-unrouted', 'data-testid': 'unrouted', title: s.unrouted },
                  'unrouted',
                ),
              ]
            : null,
        ),
        h('td', { class: 'mono', 'data-label': 'timing', 'data-testid': 'timing' }, timing(s)),
        h(
          'td',
          { 'data-label': 'next', 'data-testid': 'next-run', title: absolute(s.nextRunAt) },
          s.pausedAt ? null : h('span', null, inZone(s.nextRunAt, s.timeZone), ' '),
          h('span', { class: 'muted', 'data-cell': 'next-relative' }, nextRun(s)),
        ),
        h(
          'td',
          { 'data-label': 'last', 'data-testid': 'last-run', title: absolute(s.lastRunAt) },
          h('span', { 'data-cell': 'last-relative' }, lastRun(s)),
          s.lastJob ? [' ', lastJobLink(s.lastJob)] : null,
          manualRuns.has(s.name) ? [' ', manualLink(manualRuns.get(s.name)!)] : null,
        ),
        h(
          'td',
          { 'data-label': 'state', 'data-testid': 'state' },
          s.pausedAt ? badge('paused') : badge('active'),
        ),
        h('td', { class: 'actions' }, canAct ? actions(s) : null),
      ),
    // Relative times change on every refresh and are written in place, so a half-confirmed
    // button survives it.
    (s) => JSON.stringify({ ...s, manual: manualRuns.get(s.name) ?? null }),
    (row, s) => {
      const next = row.querySelector('[data-cell="next-relative"]');
      if (next) next.textContent = nextRun(s);
      const last = row.querySelector('[data-cell="last-relative"]');
      if (last) last.textContent = lastRun(s);
    },
  );

  function actions(s: ScheduleRow): HTMLElement[] {
    const path = `api/schedules/${encodeURIComponent(s.name)}`;
    const toggle = s.pausedAt
      ? actionButton(
          'Resume',
          async () => {
            await act('POST', `${path}/resume`);
            toast(`Schedule ${s.name} resumed: it runs from its next tick`);
            await ctx.refresh();
          },
          { kind: 'primary', testId: 'resume' },
        )
      : actionButton(
          'Pause',
          async () => {
            await act('POST', `${path}/pause`);
            toast(`Schedule ${s.name} paused`);
            await ctx.refresh();
          },
          { confirm: 'Pause its ticks?', testId: 'pause' },
        );
    const runNow = actionButton(
      'Run now',
      async () => {
        const { job } = await act<{ job: { id: string } }>('POST', `${path}/run-now`);
        manualRuns.set(s.name, job.id);
        toast(`Schedule ${s.name}: job #${job.id} enqueued`);
        await ctx.refresh();
      },
      { confirm: 'Enqueue a job now?', testId: 'run-now' },
    );
    return [toggle, runNow];
  }

  // Schedules whose jobs no live worker would run, named above the table.
  const warnings = h('div', { class: 'warning-slot', 'data-testid': 'schedules-unrouted' });
  const el = h(
    'div',
    { class: 'page' },
    warnings,
    card(
      'Schedules',
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'schedules' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Name'),
              h('th', null, 'Task'),
              h('th', null, 'Queue'),
              h('th', null, 'Timing'),
              h('th', null, 'Next run'),
              h('th', null, 'Last run'),
              h('th', null, 'State'),
              h('th', { class: 'actions' }, ''),
            ),
          ),
          rows,
        ),
      ),
      h(
        'p',
        { class: 'note' },
        "The next run is shown as a wall clock in the schedule's own time zone. The last run is the latest tick fired, with the state of the job it enqueued (live, or its outcome from the history; gone once deleted or past retention). A paused schedule fires no ticks; resuming goes on from the next tick after now, without catching up the ticks in the pause. Run now enqueues one job at once, also while paused, and leaves the ticks as they are. Unrouted: no live worker serves the queue or knows the task, so its jobs would wait.",
      ),
    ),
  );

  async function load() {
    const data = await getJson<{ now: string; schedules: ScheduleRow[] }>('api/schedules');
    serverNow = new Date(data.now).getTime();
    table.update(data.schedules, () => empty('No schedules.', columns));
    const unrouted = data.schedules.filter((s) => s.unrouted);
    fill(
      warnings,
      unrouted.length === 0
        ? null
        : h(
            'section',
            { class: 'card warning' },
            h('h2', { class: 'card-title' }, 'Nobody would run these jobs'),
            h(
              'ul',
              { class: 'warning-list' },
              ...unrouted.map((s) => h('li', null, h('span', { class: 'mono' }, s.name), `: ${s.unrouted}.`)),
            ),
          ),
    );
  }

  return { title: 'Schedules', el, load };
}

function timing(s: ScheduleRow): string {
  if (s.cron !== null) return `${s.cron} (${s.timeZone})`;
  return s.every === null ? '—' : `every ${interval(s.every)}`;
}

function lastJobLink(job: { id: string; state: string }): (HTMLElement | string)[] {
  if (job.state === 'gone')
    return [
      h('span', { class: 'muted', title: 'Deleted, or past the history retention' }, `#${job.id} gone`),
    ];
  return [
    h('a', { href: route(`/jobs/${job.id}`), class: 'mono', 'data-testid': 'last-job' }, `#${job.id}`),
    ' ',
    badge(job.state),
  ];
}

function manualLink(id: string): HTMLElement {
  return h(
    'span',
    { class: 'muted' },
    'run now: ',
    h('a', { href: route(`/jobs/${id}`), class: 'mono', 'data-testid': 'manual-job' }, `#${id}`),
  );
}
