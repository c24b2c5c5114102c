import { ApiError, act, getJson } from '../api.js';
import { type BulkAction, bulkBar } from '../bulk.js';
import { isCancelling } from '../cancel.js';
import { fill, h } from '../dom.js';
import { num } from '../format.js';
import {
  COLUMNS,
  headings,
  isHistory,
  type JobSummary,
  jobRow,
  type ListState,
  STATES,
} from '../job-rows.js';
import { type Page, type PageContext, route } from '../page.js';
import { KeyedRows } from '../rows.js';
import { searchProblem } from '../search.js';
import { Selection } from '../select.js';
import { actionButton, card, empty, toast } from '../ui.js';

interface JobPage {
  now: string;
  jobs: JobSummary[];
  /** The next page of older jobs: an id (`before`) for live jobs, a cursor for the history. */
  older: string | null;
  /** The previous page of newer live jobs (`after`); null for the history, which pages forward only. */
  newer: string | null;
}

/** The bulk actions that make sense for a list of jobs in each state. */
const BULK: Record<ListState, BulkAction[]> = {
  all: ['retry', 'cancel', 'delete'],
  available: ['cancel', 'delete'],
  scheduled: ['retry', 'cancel', 'delete'],
  running: ['cancel'],
  failed: ['retry', 'delete'],
  completed: ['retry', 'delete'],
  cancelled: ['retry', 'delete'],
};

/**
 * The jobs list: filtered by state (live, or completed and cancelled from the history), queue,
 * task, tag and a JSON search, newest first, a page at a time; with multi-select and bulk
 * actions; and find by id.
 */
export function jobsPage(ctx: PageContext, fixedState?: 'failed'): Page {
  const p = ctx.params;
  const asked = fixedState ?? (p.get('state') || 'all');
  const state: ListState = (STATES as readonly string[]).includes(asked) ? (asked as ListState) : 'all';
  const history = isHistory(state);
  const base = fixedState ? '/failed' : '/jobs';
  const filters = {
    state: fixedState ? null : state === 'all' ? null : state,
    queue: p.get('queue'),
    task: p.get('task'),
    tag: p.get('tag'),
    search: p.get('search'),
  };
  const link = (extra: Record<string, string | null>) => route(base, { ...filters, ...extra });
  const canAct = !ctx.session.readOnly;

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
  const input = (name: string, placeholder: string, value: string | null, extra = {}) =>
    h('input', {
      type: 'search',
      name,
      placeholder,
      value: value ?? '',
      'aria-label': placeholder,
      'data-testid': `filter-${name}`,
      ...extra,
    });
  const queueInput = input('queue', 'queue', filters.queue);
  const taskInput = input('task', 'task', filters.task);
  const tagInput = input('tag', 'tag', filters.tag);
  const searchInput = input('search', '{"payload or meta": "contains"}', filters.search, {
    class: 'search-json',
    spellcheck: 'false',
    title: 'A JSON object: jobs whose payload or metadata contains it',
  });
  const formError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'search-error' });
  const apply = (e: Event) => {
    e.preventDefault();
    const search = searchInput.value.trim();
    const problem = searchProblem(search);
    formError.textContent = problem ?? '';
    if (problem) return;
    location.hash = route(base, {
      ...filters,
      queue: queueInput.value.trim(),
      task: taskInput.value.trim(),
      tag: tagInput.value.trim(),
      search,
    });
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
  const selection = canAct ? new Selection(() => bar?.update()) : null;
  const bar = selection ? bulkBar(ctx, selection, BULK[state]) : undefined;
  const bulk = h('div', { class: 'bulk' }, bar?.el ?? null);
  // Set at each load: times are relative to the server's clock, and a row is rebuilt when it changes.
  let now = 0;
  const table = new KeyedRows<JobSummary>(
    rows,
    (j) => jobRow(ctx, j, state, now, selection, { state: fixedState ?? filters.state }),
    // A running job this tab has asked to cancel shows 'cancelling' instead of its button.
    (j) => `${JSON.stringify(j)}${isCancelling(j)}`,
  );

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
          tagInput,
          searchInput,
          h('button', { type: 'submit', class: 'btn', 'data-testid': 'filter' }, 'Filter'),
        ),
        h(
          'form',
          { class: 'finder', on: { submit: find } },
          idInput,
          h('button', { type: 'submit', class: 'btn' }, 'Find'),
        ),
      ),
      formError,
      bulk,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'jobs' },
          h('thead', null, h('tr', null, selection ? selection.head() : null, ...headings(state))),
          rows,
        ),
      ),
      pager,
    ),
  );

  if (state === 'failed' && canAct) {
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
    for (const k of ['queue', 'task', 'tag', 'search'] as const) if (filters[k]) q.set(k, filters[k]);
    for (const k of ['before', 'after', 'cursor'] as const) {
      const v = p.get(k);
      if (v) q.set(k, v);
    }
    let data: JobPage;
    try {
      data = await getJson<JobPage>(`api/jobs?${q}`);
    } catch (e) {
      // A filter the server refuses (a tag too long, a stale cursor) is the reader's to fix: say
      // why beside the filters, rather than as a lost connection.
      if (!(e instanceof ApiError) || e.status !== 400) throw e;
      formError.textContent = e.message;
      table.update([], () =>
        empty('No jobs: the filters above were refused.', COLUMNS + (selection ? 1 : 0)),
      );
      selection?.show([]);
      fill(pager);
      return;
    }
    now = new Date(data.now).getTime();
    // Rows are rebuilt when their job changes, and all of them once a minute (relative times).
    const key = JSON.stringify([data.older, data.newer, Math.floor(now / 60_000)]);
    if (key !== last) table.reset();
    last = key;
    table.update(data.jobs, () => empty('No jobs match.', COLUMNS + (selection ? 1 : 0)));
    selection?.show(data.jobs.map((j) => j.id));
    fill(
      pager,
      history
        ? p.get('cursor')
          ? h('a', { class: 'btn', href: link({}), 'data-testid': 'newest' }, '← Newest')
          : h('span')
        : data.newer
          ? h('a', { class: 'btn', href: link({ after: data.newer }), 'data-testid': 'newer' }, '← Newer')
          : h('span'),
      data.older
        ? h(
            'a',
            {
              class: 'btn',
              href: link(history ? { cursor: data.older } : { before: data.older }),
              'data-testid': 'older',
            },
            'Older →',
          )
        : h('span'),
    );
  }

  return {
    title: fixedState ? 'Failed jobs' : history ? `${state[0]!.toUpperCase()}${state.slice(1)} jobs` : 'Jobs',
    el,
    load,
  };
}
