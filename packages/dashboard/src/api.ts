import type { QueueAdmin } from '@queue/core';
import { actionRoutes } from './actions.js';
import { finishedView, isFinished } from './data/finished.js';
import { getJob, listJobs } from './data/jobs.js';
import { parseId, parseListQuery } from './data/list-query.js';
import { runningJobs } from './data/running.js';
import { scheduleSource } from './data/schedules.js';
import { parseRange, throughputSource } from './data/throughput.js';
import { json } from './http.js';
import { limitRoutes } from './limits.js';
import type { ResolvedOptions } from './options.js';
import type { Route } from './router.js';
import type { Csrf } from './security/csrf.js';

/** The JSON API the browser app calls. Reads are GETs; every change is a POST or DELETE action (actions.ts). */
export function apiRoutes(options: ResolvedOptions, csrf: Csrf): Route[] {
  const queue: QueueAdmin = options.queue;
  const throughput = throughputSource(queue);
  const schedules = scheduleSource(queue);

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
      handler: async ({ req }) => {
        const range = parseRange(req.query.get('range'));
        // Core caches the expensive part of the counts (see QueueAdmin.jobCounts).
        const [c, stats] = await Promise.all([
          queue.jobCounts({ maxAgeMs: options.refreshInterval }),
          throughput(range, options.refreshInterval),
        ]);
        return json(200, { now: new Date(), ...c, throughput: stats });
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
        const found = await getJob(queue, parseId(params.id));
        const finished = isFinished(found) ? await finishedView(queue, found) : null;
        // The result goes out once, cut to a page (finishedView); the full value can be 1 MiB.
        const { result: _result, ...job } = found as typeof found & { result?: unknown };
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
                progress: run.progress,
                cancelRequestedAt: run.cancelRequestedAt,
              }
            : null,
          unrouted: waiting ? await queue.unroutedReason(job.queue, job.task) : null,
          finished,
        });
      },
    },
    {
      method: 'GET',
      route: '/api/schedules',
      handler: async () => json(200, { now: new Date(), schedules: await schedules() }),
    },
    ...limitRoutes(queue),
    ...actionRoutes(queue),
  ];
}
