import { ApiError, act, getJson } from '../api.js';
import { cancelButton, cancellingBadge, isCancelling } from '../cancel.js';
import { fill, h } from '../dom.js';
import { absolute, elapsed, pretty, relative, runTime, sessionDetails, workerLabel } from '../format.js';
import { type Page, type PageContext, route } from '../page.js';
import { type Progress, progressView, setProgress } from '../progress.js';
import { tagLinks } from '../tags.js';
import { actionButton, badge, card, toast } from '../ui.js';

interface JobError {
  attempt: number;
  at: string;
  message: string;
  stack?: string;
}

interface JobDetail {
  now: string;
  job: {
    id: string;
    task: string;
    queue: string;
    state: string;
    payload: unknown;
    priority: number;
    runAt: string;
    attempts: number;
    maxAttempts: number;
    errors: JobError[];
    failedAt: string | null;
    createdAt: string;
    /** Start of the current or last attempt; null before the first. */
    startedAt: string | null;
    tags?: string[];
    meta?: Record<string, unknown>;
  };
  running: {
    backendPid: number;
    startedAt: string | null;
    /** How long the attempt has run, by the database clock. */
    runningMs: number | null;
    worker: {
      host: string | null;
      pid: number | null;
      applicationName: string | null;
      clientAddr: string | null;
    };
    /** The handler's last ctx.progress() value; null when it reported none. */
    progress: Progress | null;
    cancelRequestedAt: string | null;
  } | null;
  /** Why no live worker will run this waiting job (its queue is not served, or its task unknown). */
  unrouted: { reason: string; message: string } | null;
  /** A completed or cancelled job, from the history. */
  finished: {
    outcome: 'completed' | 'cancelled';
    finishedAt: string;
    durationMs: number | null;
    result: { text: string; chars: number; truncated: boolean } | null;
    progress: Progress | null;
    worker: { id: string; host: string | null; pid: number | null } | null;
  } | null;
}

/** Jobs a queued-job action applies to, by state. */
const CANCELLABLE = new Set(['available', 'scheduled', 'running']);

/** One job: its payload, attempts, every error with its stack, timestamps, and what can be done to it. */
export function jobPage(ctx: PageContext, id: string): Page {
  const head = h('div', { class: 'job-head' });
  const body = h('div', { class: 'page' });
  const el = h('div', { class: 'page' }, head, body);
  let last = '';
  let seen = false;

  async function load() {
    let data: JobDetail;
    try {
      data = await getJson<JobDetail>(`api/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
      last = '';
      fill(head, h('h1', null, `Job #${id}`));
      fill(
        body,
        card(
          null,
          h(
            'p',
            { class: 'gone', 'data-testid': 'job-gone' },
            seen
              ? 'This job is gone: it was deleted, or it completed or was cancelled and its queue keeps no history of it.'
              : 'No job with this id: it was deleted, or it completed or was cancelled and its queue keeps no history of it.',
          ),
          h('a', { class: 'btn', href: route('/jobs') }, 'All jobs'),
        ),
      );
      return;
    }
    seen = true;
    // The running time and progress change on every response; they are updated in place, not
    // re-rendered, so that a half-confirmed Cancel survives a refresh.
    const key = JSON.stringify({
      ...data,
      now: undefined,
      running: data.running && {
        ...data.running,
        runningMs: undefined,
        progress: undefined,
        cancelling: isCancelling({ id, cancelRequestedAt: data.running.cancelRequestedAt }),
      },
    });
    if (key === last) {
      if (data.running) updateRunning(data);
      return;
    }
    last = key;
    // Keep open the stack traces the reader opened, across refreshes.
    const open = new Set([...body.querySelectorAll('details[open]')].map((d) => d.getAttribute('data-key')));
    const firstRender = body.childElementCount === 0;
    render(data, open, firstRender);
  }

  function updateRunning(data: JobDetail) {
    const cell = body.querySelector('[data-testid="running-for"]');
    if (cell && data.running) cell.textContent = runningFor(data);
    const progress = body.querySelector<HTMLElement>('.facts .progress');
    if (progress && data.running) setProgress(progress, data.running.progress);
  }

  function runningFor(data: JobDetail): string {
    const r = data.running!;
    return `${r.runningMs === null ? '—' : elapsed(r.runningMs)} (${workerLabel(r.worker, r.backendPid)})`;
  }

  function render(data: JobDetail, open: Set<string | null>, firstRender: boolean) {
    const { job } = data;
    const now = new Date(data.now).getTime();
    const actions = h('div', { class: 'actions' });
    const cancelling =
      job.state === 'running' &&
      isCancelling({ id: job.id, cancelRequestedAt: data.running?.cancelRequestedAt ?? null });
    if (!ctx.session.readOnly) {
      if (job.state === 'scheduled') {
        actions.append(
          actionButton(
            'Run now',
            async () => {
              await act('POST', `api/jobs/${job.id}/run-now`);
              toast(`Job #${job.id} is due now`);
              await ctx.refresh();
            },
            { kind: 'primary', testId: 'run-now' },
          ),
        );
      }
      // Failed and scheduled jobs are retried in place; completed and cancelled ones go back
      // in the queue from the history under the same id.
      if (['failed', 'scheduled', 'completed', 'cancelled'].includes(job.state)) {
        actions.append(
          actionButton(
            'Retry',
            async () => {
              await act('POST', `api/jobs/${job.id}/retry`);
              toast(`Job #${job.id} retried`);
              await ctx.refresh();
            },
            { kind: job.state === 'scheduled' ? 'plain' : 'primary', testId: 'retry' },
          ),
        );
      }
      if (CANCELLABLE.has(job.state) && !cancelling) actions.append(cancelButton(ctx, job.id));
      if (job.state !== 'running') {
        actions.append(
          actionButton(
            'Delete',
            async () => {
              await act('DELETE', `api/jobs/${job.id}`);
              toast(`Job #${job.id} deleted`);
              location.hash = route('/jobs');
            },
            { kind: 'danger', confirm: 'Delete for good?', testId: 'delete' },
          ),
        );
      }
    }
    fill(
      head,
      h(
        'div',
        null,
        h('h1', null, `Job #${job.id} `, badge(job.state), cancelling ? cancellingBadge() : null),
        h(
          'p',
          { class: 'muted' },
          h('span', { class: 'mono' }, job.task),
          ' on ',
          h('a', { href: route('/jobs', { queue: job.queue }) }, job.queue),
        ),
      ),
      actions,
    );
    const facts: [string, Node | string][] = [
      ['Queue', job.queue],
      ['Task', job.task],
      ['Priority', String(job.priority)],
      ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
      ['Created', time(job.createdAt, now)],
    ];
    if (job.state !== 'failed')
      facts.push([job.state === 'scheduled' ? 'Runs' : 'Due', time(job.runAt, now)]);
    if (job.startedAt)
      facts.push([
        job.state === 'running' ? 'Attempt started' : 'Last attempt started',
        time(job.startedAt, now),
      ]);
    if (job.failedAt) facts.push(['Failed', time(job.failedAt, now)]);
    const fin = data.finished;
    if (fin) {
      facts.push([fin.outcome === 'completed' ? 'Completed' : 'Cancelled', time(fin.finishedAt, now)]);
      facts.push([
        'Duration',
        h(
          'span',
          { 'data-testid': 'duration', title: 'From the start of the last attempt to the finish' },
          fin.durationMs === null ? 'never ran' : runTime(fin.durationMs),
        ),
      ]);
      facts.push([
        'Worker',
        h(
          'span',
          { 'data-testid': 'finished-worker', class: 'mono', title: fin.worker?.id ?? '' },
          fin.worker === null
            ? '—'
            : fin.worker.host !== null && fin.worker.pid !== null
              ? `worker ${fin.worker.host} pid ${fin.worker.pid}`
              : `worker ${fin.worker.id} (stopped)`,
        ),
      ]);
      if (fin.progress) facts.push(['Last progress', progressView(fin.progress)]);
    }
    if (data.running) facts.push(['Progress', progressView(data.running.progress)]);
    if (job.tags && job.tags.length > 0) facts.push(['Tags', tagLinks(job.tags)]);
    if (data.running)
      facts.push([
        'Running for',
        h(
          'span',
          {
            'data-testid': 'running-for',
            title: sessionDetails(data.running.worker, data.running.backendPid),
          },
          runningFor(data),
        ),
      ]);
    const errors = [...job.errors].reverse();
    fill(
      body,
      data.unrouted
        ? h(
            'section',
            { class: 'card warning', 'data-testid': 'job-unrouted' },
            h(
              'p',
              { class: 'warning-text' },
              job.state === 'scheduled'
                ? `When it is due, this job will not run: ${data.unrouted.message}.`
                : `This job is not running: ${data.unrouted.message}.`,
            ),
            h(
              'p',
              { class: 'note' },
              "A worker runs a job when it claims from the job's queue and has a handler for its task. Start one that does and it takes the job at once.",
            ),
          )
        : null,
      card(
        'Details',
        h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      ),
      fin?.outcome === 'completed' ? resultCard(fin.result) : null,
      card('Payload', h('pre', { class: 'code', 'data-testid': 'payload' }, pretty(job.payload))),
      job.meta && Object.keys(job.meta).length > 0
        ? card('Metadata', h('pre', { class: 'code', 'data-testid': 'meta' }, pretty(job.meta)))
        : null,
      card(
        `Errors (${job.errors.length})`,
        errors.length === 0
          ? h('p', { class: 'muted' }, 'No attempt has failed.')
          : h(
              'ol',
              { class: 'errors', 'data-testid': 'errors' },
              ...errors.map((e, i) => {
                const k = `${e.attempt}/${e.at}`;
                return h(
                  'li',
                  { class: 'error' },
                  h(
                    'div',
                    { class: 'error-head' },
                    h('strong', null, `Attempt ${e.attempt}`),
                    h('span', { class: 'muted', title: absolute(e.at) }, relative(e.at, now)),
                  ),
                  h('p', { class: 'error-text' }, e.message),
                  e.stack
                    ? h(
                        'details',
                        { 'data-key': k, open: open.has(k) || (firstRender && i === 0) },
                        h('summary', null, 'Stack trace'),
                        h('pre', { class: 'code' }, e.stack),
                      )
                    : null,
                );
              }),
            ),
      ),
    );
  }

  return { title: `Job #${id}`, el, load };
}

/** A completed job's result: the handler's return value as pretty JSON, the start of it when long. */
function resultCard(result: NonNullable<JobDetail['finished']>['result']): HTMLElement {
  if (result === null) return card('Result', h('p', { class: 'muted' }, 'The handler returned nothing.'));
  return card(
    'Result',
    h('pre', { class: 'code', 'data-testid': 'result' }, result.text),
    result.truncated
      ? h(
          'p',
          { class: 'note', 'data-testid': 'result-truncated' },
          `Showing the first ${result.text.length.toLocaleString('en')} of ${result.chars.toLocaleString('en')} characters.`,
        )
      : null,
  );
}

function time(iso: string, now: number): HTMLElement {
  return h('span', { title: absolute(iso) }, `${relative(iso, now)} · ${absolute(iso)}`);
}
