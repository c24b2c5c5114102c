import type { QueueAdmin } from '@queue/core';
import { bulkCancel, bulkChange, parseBulkBody } from './data/bulk.js';
import { parseId } from './data/list-query.js';
import { parseScheduleName } from './data/schedules.js';
import { BadRequestError } from './errors.js';
import { json } from './http.js';
import type { Route } from './router.js';

/**
 * Every route that changes something: each is an `action`, so the dashboard checks its CSRF
 * token and write access before the handler runs (Dashboard.handle).
 */
export function actionRoutes(queue: QueueAdmin): Route[] {
  return [
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
    {
      method: 'POST',
      route: '/api/jobs/:id/cancel',
      action: true,
      handler: async ({ params }) => {
        // Queued: { state: 'cancelled' }. Running: { state: 'cancelling' }, its worker aborts it.
        // Finished or failed for good: QUEUE_JOB_FINISHED (409); unknown: QUEUE_JOB_NOT_FOUND (404).
        const { state, job } = await queue.cancelJob(parseId(params.id));
        return json(200, { state, job });
      },
    },
    // Schedules: an unknown name is QUEUE_SCHEDULE_NOT_FOUND (404).
    {
      method: 'POST',
      route: '/api/schedules/:name/pause',
      action: true,
      handler: async ({ params }) => {
        const schedule = await queue.pauseSchedule(parseScheduleName(params.name));
        return json(200, { schedule });
      },
    },
    {
      method: 'POST',
      route: '/api/schedules/:name/resume',
      action: true,
      handler: async ({ params }) => {
        // Core goes on from the first tick after now: ticks that fell in the pause are not caught up.
        const schedule = await queue.resumeSchedule(parseScheduleName(params.name));
        return json(200, { schedule });
      },
    },
    {
      method: 'POST',
      route: '/api/schedules/:name/run-now',
      action: true,
      handler: async ({ params }) => {
        // One job now (meta.manual), paused or not; the schedule's ticks stay as they are.
        const job = await queue.runScheduleNow(parseScheduleName(params.name));
        return json(200, { job });
      },
    },
    {
      method: 'POST',
      route: '/api/bulk/retry',
      action: true,
      handler: async ({ req }) => json(200, await bulkChange(queue, 'retry', parseBulkBody(req.body))),
    },
    {
      method: 'POST',
      route: '/api/bulk/delete',
      action: true,
      handler: async ({ req }) => json(200, await bulkChange(queue, 'delete', parseBulkBody(req.body))),
    },
    {
      method: 'POST',
      route: '/api/bulk/cancel',
      action: true,
      handler: async ({ req }) => json(200, await bulkCancel(queue, parseBulkBody(req.body))),
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
