import { act, getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { absolute, num, relative } from '../format.js';
import { type Page, type PageContext, route } from '../page.js';
import { actionButton, badge, card, empty, jobCells, toast } from '../ui.js';

interface JobSummary {
  id: string;
  queue: string;
  task: string;
  state: string;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  failedAt: string | null;
  createdAt: string;
  payloadPreview: string;
  lastError: string | null;
}

interface JobPage {
  now: string;
  jobs: JobSummary[];
  older: string | null;
  newer: string | null;
}

const STATES = ['all', 'available', 'scheduled', 'running', 'failed'] as const;

/** The jobs list: filtered by state, queue and task, newest first, a page at a time; and find by id. */
export function jobsPage(ctx: PageContext, fixedState?: 'failed'): Page {
  const p = ctx.params;
  const state = fixedState ?? (p.get('state') || 'all');
  const base = fixedState ? '/failed' : '/jobs';
  const filters = {
    state: fixedState ? null : state === 'all' ? null : state,
    queue: p.get('queue'),
    task: p.get('task'),
  };
  const link = (extra: Record<string, string | null>) => route(base, { ...filters, ...extra });

  const tabs = fixedState
    ? null
    : h(
        'nav',
        { class: 'tabs' },
        ...STATES.map((st) =>
          h(
            'a',
            {
              href: route(base, { ...filters, state: st === 'all' ? null : st }),
              class: st === state ? 'tab tab-active' : 'tab',
              'data-testid': `tab-${st}`,
            },
            st,
          ),
        ),
      );
  const queueInput = h('input', {
    type: 'search',
    name: 'queue',
    placeholder: 'queue',
    value: filters.queue ?? '',
    'aria-label': 'Queue',
  });
  const taskInput = h('input', {
    type: 'search',
    name: 'task',
    placeholder: 'task',
    value: filters.task ?? '',
    'aria-label': 'Task',
  });
  const apply = (e: Event) => {
    e.preventDefault();
    location.hash = route(base, { ...filters, queue: queueInput.value.trim(), task: taskInput.value.trim() });
  };
  const idInput = h('input', {
    type: 'search',
    name: 'id',
    placeholder: 'job id',
    inputmode: 'numeric',
    'aria-label': 'Job id',
    'data-testid': 'find-id',
  });
  const find = (e: Event) => {
    e.preventDefault();
    const id = idInput.value.trim().replace(/^#/, '');
    if (/^[1-9][0-9]{0,18}$/.test(id)) location.hash = route(`/jobs/${id}`);
    else toast('A job id is a positive whole number', 'error');
  };
  const rows = h('tbody');
  const pager = h('div', { class: 'pager' });
  const bulk = h('div', { class: 'bulk' });
  const el = h(
    'div',
    { class: 'page' },
    card(
      null,
      h(
        'div',
        { class: 'toolbar' },
        tabs,
        h(
          'form',
          { class: 'filters', on: { submit: apply } },
          queueInput,
          taskInput,
          h('button', { type: 'submit', class: 'btn' }, 'Filter'),
        ),
        h(
          'form',
          { class: 'finder', on: { submit: find } },
          idInput,
          h('button', { type: 'submit', class: 'btn' }, 'Find'),
        ),
      ),
      bulk,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'jobs' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'ID'),
              h('th', null, 'Task'),
              h('th', null, 'Queue'),
              h('th', null, 'State'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', null, state === 'failed' ? 'Failed' : 'Runs'),
              h('th', null, 'Created'),
              h('th', null, state === 'failed' ? 'Last error' : 'Payload'),
            ),
          ),
          rows,
        ),
      ),
      pager,
    ),
  );

  if (state === 'failed' && !ctx.session.readOnly) {
    const scope = [filters.queue && `queue ${filters.queue}`, filters.task && `task ${filters.task}`]
      .filter(Boolean)
      .join(', ');
    bulk.append(
      actionButton(
        scope ? `Retry all failed (${scope})` : 'Retry all failed',
        async () => {
          const { retried } = await act<{ retried: number }>('POST', 'api/retry-failed', {
            queue: filters.queue,
            task: filters.task,
          });
          toast(`${num(retried)} job${retried === 1 ? '' : 's'} retried`);
          await ctx.refresh();
        },
        { confirm: 'Click again to retry them all', kind: 'primary', testId: 'retry-all' },
      ),
    );
  }

  let last = '';
  async function load() {
    const q = new URLSearchParams();
    if (state !== 'all') q.set('state', state);
    for (const k of ['queue', 'task', 'before', 'after'] as const) {
      const v = k === 'queue' || k === 'task' ? filters[k] : p.get(k);
      if (v) q.set(k, v);
    }
    const data = await getJson<JobPage>(`api/jobs?${q}`);
    const key = JSON.stringify(data.jobs) + data.older + data.newer;
    if (key === last) return;
    last = key;
    const now = new Date(data.now).getTime();
    fill(
      rows,
      data.jobs.length === 0
        ? empty('No jobs match.', 8)
        : data.jobs.map((j) =>
            h(
              'tr',
              { 'data-job': j.id },
              ...jobCells(j),
              h('td', { class: 'key' }, badge(j.state)),
              h('td', { class: 'num', 'data-label': 'attempts' }, `${j.attempts} / ${j.maxAttempts}`),
              h(
                'td',
                { title: absolute(j.failedAt ?? j.runAt), 'data-label': j.failedAt ? 'failed' : 'runs' },
                relative(j.failedAt ?? j.runAt, now),
              ),
              h('td', { title: absolute(j.createdAt), 'data-label': 'created' }, relative(j.createdAt, now)),
              h(
                'td',
                {
                  class: j.lastError && state === 'failed' ? 'clip error-text' : 'clip mono muted',
                  'data-label': state === 'failed' ? 'last error' : 'payload',
                },
                state === 'failed' ? (j.lastError ?? '') : j.payloadPreview,
              ),
            ),
          ),
    );
    fill(
      pager,
      data.newer
        ? h('a', { class: 'btn', href: link({ after: data.newer }), 'data-testid': 'newer' }, '← Newer')
        : h('span'),
      data.older
        ? h('a', { class: 'btn', href: link({ before: data.older }), 'data-testid': 'older' }, 'Older →')
        : h('span'),
    );
  }

  return { title: fixedState ? 'Failed jobs' : 'Jobs', el, load };
}
