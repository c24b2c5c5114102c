import { getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { absolute, elapsed, sessionDetails, workerLabel } from '../format.js';
import type { Page } from '../page.js';
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
}

/** Jobs whose advisory lock a worker holds right now, with how long each has run. */
export function runningPage(): Page {
  const rows = h('tbody');
  const el = h(
    'div',
    { class: 'page' },
    card(
      'Running now',
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
              h('th', null, 'ID'),
              h('th', null, 'Task'),
              h('th', null, 'Queue'),
              h('th', { class: 'num' }, 'Attempt'),
              h('th', { class: 'num' }, 'Running for'),
              h('th', null, 'Worker'),
              h('th', null, 'Payload'),
            ),
          ),
          rows,
        ),
      ),
      h(
        'p',
        { class: 'note' },
        'A job is running while a worker session holds its lock. "Running for" counts from the start of the current attempt, by the database clock. The worker is named by its host and Node process id.',
      ),
    ),
  );

  async function load() {
    const data = await getJson<{ now: string; jobs: RunningJob[] }>('api/running');
    fill(
      rows,
      data.jobs.length === 0
        ? empty('Nothing is running.', 7)
        : data.jobs.map((j) =>
            h(
              'tr',
              { 'data-job': j.id },
              ...jobCells(j),
              h('td', { class: 'num', 'data-label': 'attempt' }, `${j.attempts} / ${j.maxAttempts}`),
              h(
                'td',
                {
                  class: 'num key',
                  'data-testid': 'running-for',
                  title: j.startedAt ? `started ${absolute(j.startedAt)}` : 'start not recorded',
                },
                j.runningMs === null ? '—' : elapsed(j.runningMs),
              ),
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
            ),
          ),
    );
  }

  return { title: 'Running', el, load };
}
