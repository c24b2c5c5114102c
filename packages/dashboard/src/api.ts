import type { QueueAdmin } from '@queue/core';
import { getJob, listJobs, parseId, parseListQuery } from './data/jobs.js';
import { runningJobs } from './data/running.js';
import { loadThroughput } from './data/throughput.js';
import { BadRequestError } from './errors.js';
import { json } from './http.js';
import type { ResolvedOptions } from './options.js';
import type { Route } from './router.js';
import type { Csrf } from './security/csrf.js';

const THROUGHPUT_MINUTES = 60;

/** The JSON API the browser app calls. Reads are GETs; every change is a POST or DELETE action. */
export function apiRoutes(options: ResolvedOptions, csrf: Csrf): Route[] {
  const queue: QueueAdmin = options.queue;

  return [
    {
      method: 'GET',
      route: '/api/session',
      handler: ({ req, access }) => {
        const secure =
          req.headers['x-forwarded-proto'] === 'https' || /^https:/i.test(String(req.headers.origin ?? ''));
        const { token, setCookie } = csrf.issue(req, secure);
        return json(
          200,
          {
            csrfToken: token,
            readOnly: access === 'read-only',
            title: options.title,
            refreshInterval: options.refreshInterval,
          },
          setCookie ? { 'set-cookie': setCookie } : {},
        );
      },
    },
    {
      method: 'GET',
      route: '/api/overview',
      handler: async () => {
        // Core caches the expensive part of the counts (see QueueAdmin.jobCounts).
        const [c, throughput] = await Promise.all([
          queue.jobCounts({ maxAgeMs: options.refreshInterval }),
          loadThroughput(queue, THROUGHPUT_MINUTES),
        ]);
        return json(200, { now: new Date(), ...c, throughput });
      },
    },
    {
      method: 'GET',
      route: '/api/running',
      handler: async () => json(200, { now: new Date(), jobs: await runningJobs(queue) }),
    },
    {
      method: 'GET',
      route: '/api/jobs',
      handler: async ({ req }) =>
        json(200, { now: new Date(), ...(await listJobs(queue, parseListQuery(req.query))) }),
    },
    {
      method: 'GET',
      route: '/api/jobs/:id',
      handler: async ({ params }) => {
        const job = await getJob(queue, parseId(params.id));
        const run =
          job.state === 'running' ? (await runningJobs(queue)).find((r) => r.id === job.id) : undefined;
        // Why a job that waits will not run: no live worker serves its queue or knows its task.
        const waiting = job.state === 'available' || job.state === 'scheduled';
        return json(200, {
          now: new Date(),
          job,
          running: run
            ? {
                backendPid: run.backendPid,
                startedAt: run.startedAt,
                runningMs: run.runningMs,
                worker: run.worker,
              }
            : null,
          unrouted: waiting ? await queue.unroutedReason(job.queue, job.task) : null,
        });
      },
    },
    {
      method: 'POST',
      route: '/api/jobs/:id/retry',
      action: true,
      handler: async ({ params }) => {
        const job = await queue.retryJob(parseId(params.id));
        return json(200, { job });
      },
    },
    {
      method: 'POST',
      route: '/api/jobs/:id/run-now',
      action: true,
      handler: async ({ params }) => {
        // Core keeps the attempts and wakes the workers; a failed job is QUEUE_JOB_STATE (409).
        const job = await queue.runNow(parseId(params.id));
        return json(200, { job });
      },
    },
    {
      method: 'DELETE',
      route: '/api/jobs/:id',
      action: true,
      handler: async ({ params }) => {
        const job = await queue.deleteJob(parseId(params.id));
        return json(200, { job });
      },
    },
    {
      method: 'POST',
      route: '/api/retry-failed',
      action: true,
      handler: async ({ req }) => {
        const filter = filterBody(req.body);
        const retried = await queue.retryFailed(filter);
        return json(200, { retried });
      },
    },
    {
      method: 'POST',
      route: '/api/queues/:name/pause',
      action: true,
      handler: async ({ params }) => {
        await queue.pauseQueue(params.name!);
        return json(200, { queue: params.name, paused: true });
      },
    },
    {
      method: 'POST',
      route: '/api/queues/:name/resume',
      action: true,
      handler: async ({ params }) => {
        await queue.resumeQueue(params.name!);
        return json(200, { queue: params.name, paused: false });
      },
    },
  ];
}

/** `{ queue?, task? }` for retry-all; anything else is a 400 rather than a silent "retry everything". */
function filterBody(body: unknown): { queue?: string; task?: string } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestError('body must be a JSON object');
  const out: { queue?: string; task?: string } = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'queue' && key !== 'task')
      throw new BadRequestError(`unknown field ${JSON.stringify(key)}: expected queue and/or task`);
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 128) {
      throw new BadRequestError(`${key} must be a string of at most 128 characters`);
    }
    out[key] = value;
  }
  return out;
}
