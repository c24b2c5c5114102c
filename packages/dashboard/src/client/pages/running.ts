import { getJson } from '../api.js';
import { bulkBar } from '../bulk.js';
import { cancelButton, cancellingBadge, isCancelling } from '../cancel.js';
import { h } from '../dom.js';
import { absolute, elapsed, sessionDetails, workerLabel } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { type Progress, progressView, setProgress } from '../progress.js';
import { KeyedRows } from '../rows.js';
import { Selection } from '../select.js';
import { card, empty, jobCells } from '../ui.js';

interface RunningJob {
  id: string;
  queue: string;
  task: string;
  attempts: number;
  maxAttempts: number;
  payloadPreview: string;
  /** The Postgres backend pid of the session holding the job's lock. */
  backendPid: number;
  /** Host and Node pid from the worker's live row (null if it registered none), and its session. */
  worker: {
    host: string | null;
    pid: number | null;
    applicationName: string | null;
    clientAddr: string | null;
  };
  /** Start of the current attempt (database clock); null for a job claimed before core recorded it. */
  startedAt: string | null;
  /** How long the attempt has run, by the database clock. */
  runningMs: number | null;
  /** The handler's last ctx.progress() value; null when it reported none. */
  progress: Progress | null;
  cancelRequestedAt: string | null;
}

/** Jobs whose advisory lock a worker holds right now, with how long each has run and how far it has got. */
export function runningPage(ctx: PageContext): Page {
  const canAct = !ctx.session.readOnly;
  const rows = h('tbody');
  const selection = new Selection(() => bar?.update());
  const bar = canAct ? bulkBar(ctx, selection, ['cancel']) : undefined;
  const columns = 9;

  const runningFor = (j: RunningJob) => (j.runningMs === null ? '—' : elapsed(j.runningMs));
  const action = (j: RunningJob) =>
    isCancelling(j) ? cancellingBadge() : canAct ? cancelButton(ctx, j.id) : null;

  const table = new KeyedRows<RunningJob>(
    rows,
    (j) =>
      h(
        'tr',
        { 'data-job': j.id },
        canAct ? selection.cell(j.id) : null,
        ...jobCells(j),
        h('td', { class: 'num', 'data-label': 'attempt' }, `${j.attempts} / ${j.maxAttempts}`),
        h(
          'td',
          {
            class: 'num key',
            'data-testid': 'running-for',
            title: j.startedAt ? `started ${absolute(j.startedAt)}` : 'start not recorded',
          },
          runningFor(j),
        ),
        h('td', { 'data-label': 'progress', 'data-cell': 'progress' }, progressView(j.progress)),
        h(
          'td',
          {
            class: 'muted',
            'data-label': 'worker',
            'data-testid': 'worker',
            title: sessionDetails(j.worker, j.backendPid),
          },
          workerLabel(j.worker, j.backendPid),
        ),
        h('td', { class: 'clip mono muted', 'data-label': 'payload' }, j.payloadPreview),
        h('td', { class: 'actions', 'data-cell': 'action' }, action(j)),
      ),
    // What changes while a job runs is written in place, so a half-confirmed Cancel survives a refresh.
    (j) => JSON.stringify({ ...j, runningMs: undefined, progress: undefined, cancel: isCancelling(j) }),
    (row, j) => {
      const cell = row.querySelector('[data-testid="running-for"]');
      if (cell) cell.textContent = runningFor(j);
      const progress = row.querySelector<HTMLElement>('[data-cell="progress"] .progress');
      if (progress) setProgress(progress, j.progress);
    },
  );

  const el = h(
    'div',
    { class: 'page' },
    card(
      'Running now',
      bar?.el ?? null,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'running' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              canAct ? selection.head() : null,
              h('th', null, 'ID'),
              h('th', null, 'Task'),
              h('th', null, 'Queue'),
              h('th', { class: 'num' }, 'Attempt'),
              h('th', { class: 'num' }, 'Running for'),
              h('th', null, 'Progress'),
              h('th', null, 'Worker'),
              h('th', null, 'Payload'),
              h('th', { class: 'actions' }, ''),
            ),
          ),
          rows,
        ),
      ),
      h(
        'p',
        { class: 'note' },
        'A job is running while a worker session holds its lock. "Running for" counts from the start of the current attempt, by the database clock. The worker is named by its host and Node process id. Progress is what the handler last reported with ctx.progress(): a number from 0 to 100 is drawn as a percentage. Cancelling a running job tells its worker to abort the handler.',
      ),
    ),
  );

  async function load() {
    const data = await getJson<{ now: string; jobs: RunningJob[] }>('api/running');
    table.update(data.jobs, () => empty('Nothing is running.', columns + (canAct ? 1 : 0)));
    selection.show(data.jobs.map((j) => j.id));
  }

  return { title: 'Running', el, load };
}
