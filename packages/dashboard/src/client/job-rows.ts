import { cancelButton, cancellingBadge, isCancelling } from './cancel.js';
import { type Child, h } from './dom.js';
import { absolute, relative, runTime } from './format.js';
import type { PageContext } from './page.js';
import type { Selection } from './select.js';
import { tagLinks } from './tags.js';
import { badge, jobCells } from './ui.js';

/** One job of a list, as the API sends it (data/jobs.ts). */
export interface JobSummary {
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
  tags: string[];
  /** Completed and cancelled jobs (from the history). */
  finishedAt?: string;
  durationMs?: number | null;
  worker?: string | null;
  /** "worker web-1 pid 4242" while the worker that ran it is live. */
  workerLabel?: string | null;
  resultPreview?: string | null;
}

/** The list's tabs: every live state, and the history's two outcomes. */
export const STATES = [
  'all',
  'available',
  'scheduled',
  'running',
  'failed',
  'completed',
  'cancelled',
] as const;
export type ListState = (typeof STATES)[number];

export const isHistory = (state: string) => state === 'completed' || state === 'cancelled';

/** Column headings after the selection box, for a list of jobs in `state`. */
export function headings(state: ListState): Child[] {
  const first = [h('th', null, 'ID'), h('th', null, 'Task'), h('th', null, 'Queue'), h('th', null, 'State')];
  const attempts = h('th', { class: 'num' }, 'Attempts');
  if (isHistory(state)) {
    return [
      ...first,
      attempts,
      h('th', { class: 'num' }, 'Duration'),
      h('th', null, 'Finished'),
      h('th', null, 'Worker'),
      h('th', null, 'Tags'),
      h('th', null, state === 'completed' ? 'Result' : 'Payload'),
    ];
  }
  return [
    ...first,
    attempts,
    h('th', null, state === 'failed' ? 'Failed' : 'Runs'),
    h('th', null, 'Created'),
    h('th', null, 'Tags'),
    h('th', null, state === 'failed' ? 'Last error' : 'Payload'),
    h('th', { class: 'actions' }, ''),
  ];
}

/** Columns of every list after the selection box. */
export const COLUMNS = 10;

/** One row of the list; `link` builds the list's URL with a tag filter for the tag chips. */
export function jobRow(
  ctx: PageContext,
  j: JobSummary,
  state: ListState,
  now: number,
  selection: Selection | null,
  tagHref: Record<string, string | null>,
): HTMLElement {
  const tags = h('td', { 'data-label': 'tags' }, j.tags.length ? tagLinks(j.tags, '/jobs', tagHref) : null);
  const head = [
    selection ? selection.cell(j.id) : null,
    ...jobCells(j),
    h('td', { class: 'key' }, badge(j.state), isCancelling(j) ? cancellingBadge() : null),
    h('td', { class: 'num', 'data-label': 'attempts' }, `${j.attempts} / ${j.maxAttempts}`),
  ];
  if (j.finishedAt !== undefined) {
    return h(
      'tr',
      { 'data-job': j.id },
      ...head,
      h(
        'td',
        { class: 'num', 'data-label': 'duration', 'data-testid': 'duration' },
        j.durationMs == null ? '—' : runTime(j.durationMs),
      ),
      h('td', { title: absolute(j.finishedAt), 'data-label': 'finished' }, relative(j.finishedAt, now)),
      h(
        'td',
        {
          class: 'muted clip',
          'data-label': 'worker',
          title: j.worker ? `worker id ${j.worker}` : 'never ran',
        },
        j.workerLabel ?? (j.worker ? `worker ${j.worker}` : '—'),
      ),
      tags,
      h(
        'td',
        {
          class: 'clip mono muted',
          'data-label': j.state === 'completed' ? 'result' : 'payload',
          'data-testid': j.state === 'completed' ? 'result-preview' : 'payload-preview',
        },
        j.state === 'completed' ? (j.resultPreview ?? '—') : j.payloadPreview,
      ),
    );
  }
  const failedList = state === 'failed';
  const cancellable = ['available', 'scheduled', 'running'].includes(j.state) && !isCancelling(j);
  return h(
    'tr',
    { 'data-job': j.id },
    ...head,
    h(
      'td',
      { title: absolute(j.failedAt ?? j.runAt), 'data-label': j.failedAt ? 'failed' : 'runs' },
      relative(j.failedAt ?? j.runAt, now),
    ),
    h('td', { title: absolute(j.createdAt), 'data-label': 'created' }, relative(j.createdAt, now)),
    tags,
    h(
      'td',
      {
        class: j.lastError && failedList ? 'clip error-text' : 'clip mono muted',
        'data-label': failedList ? 'last error' : 'payload',
      },
      failedList ? (j.lastError ?? '') : j.payloadPreview,
    ),
    h('td', { class: 'actions' }, cancellable && !ctx.session.readOnly ? cancelButton(ctx, j.id) : null),
  );
}
