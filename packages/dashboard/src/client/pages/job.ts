import { ApiError, act, getJson } from '../api.js';
import { fill, h } from '../dom.js';
import { absolute, elapsed, pretty, relative, sessionDetails, workerLabel } from '../format.js';
import { type Page, type PageContext, route } from '../page.js';
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
  } | null;
  /** Why no live worker will run this waiting job (its queue is not served, or its task unknown). */
  unrouted: { reason: string; message: string } | null;
}

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
              ? 'This job has left the queue: it completed (completed jobs are removed) or was deleted.'
              : 'No job with this id: it may have completed or been deleted.',
          ),
          h('a', { class: 'btn', href: route('/jobs') }, 'All jobs'),
        ),
      );
      return;
    }
    seen = true;
    // The running time changes on every response; it alone is updated in place, not re-rendered.
    const key = JSON.stringify({
      ...data,
      now: undefined,
      running: data.running && { ...data.running, runningMs: undefined },
    });
    if (key === last) {
      if (data.running) updateRunningFor(data);
      return;
    }
    last = key;
    // Keep open the stack traces the reader opened, across refreshes.
    const open = new Set([...body.querySelectorAll('details[open]')].map((d) => d.getAttribute('data-key')));
    const firstRender = body.childElementCount === 0;
    render(data, open, firstRender);
  }

  function updateRunningFor(data: JobDetail) {
    const cell = body.querySelector('[data-testid="running-for"]');
    if (cell && data.running) cell.textContent = runningFor(data);
  }

  function runningFor(data: JobDetail): string {
    const r = data.running!;
    return `${r.runningMs === null ? '—' : elapsed(r.runningMs)} (${workerLabel(r.worker, r.backendPid)})`;
  }

  function render(data: JobDetail, open: Set<string | null>, firstRender: boolean) {
    const { job } = data;
    const now = new Date(data.now).getTime();
    const actions = h('div', { class: 'actions' });
    if (!ctx.session.readOnly && job.state !== 'running') {
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
      if (job.state === 'failed' || job.state === 'scheduled') {
        actions.append(
          actionButton(
            'Retry',
            async () => {
              await act('POST', `api/jobs/${job.id}/retry`);
              toast(`Job #${job.id} retried`);
              await ctx.refresh();
            },
            { kind: job.state === 'failed' ? 'primary' : 'plain', testId: 'retry' },
          ),
        );
      }
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
    fill(
      head,
      h(
        'div',
        null,
        h('h1', null, `Job #${job.id} `, badge(job.state)),
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
      card('Payload', h('pre', { class: 'code', 'data-testid': 'payload' }, pretty(job.payload))),
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

function time(iso: string, now: number): HTMLElement {
  return h('span', { title: absolute(iso) }, `${relative(iso, now)} · ${absolute(iso)}`);
}
