import type { LimitUsage, QueueAdmin } from '@queue/core';
import { json } from './http.js';
import type { Route } from './router.js';

/**
 * The waiting-by-key list shown per queue: the keys with the most waiting jobs. Bounded so a
 * queue with 100,000 tenants answers with a page-sized list (core sorts and cuts it in SQL).
 */
export const MAX_KEYS = 10;

/**
 * Flow limits (core README "Flow control"): what each limited queue uses now, and the action
 * that changes them. getLimits() lists only queues with limits, so limitUsage() (which reads
 * every live job of its queue) runs for those alone, never for the others.
 */
export function limitRoutes(queue: QueueAdmin): Route[] {
  return [
    {
      method: 'GET',
      route: '/api/limits',
      handler: async () => {
        const limited = await queue.getLimits();
        const queues: LimitUsage[] = await Promise.all(
          limited.map((l) => queue.limitUsage(l.queue, { maxKeys: MAX_KEYS })),
        );
        return json(200, { now: new Date(), maxKeys: MAX_KEYS, queues });
      },
    },
    {
      method: 'POST',
      route: '/api/queues/:name/limits',
      action: true,
      handler: async ({ params, req }) => {
        // The body goes to core as it came: core checks it (QUEUE_INVALID_LIMIT, 400; an unknown
        // queue is QUEUE_UNKNOWN_QUEUE, 404) before anything is written, and its message, which
        // names the field and the allowed range, is what the page shows beside the form.
        const limits = await queue.setLimits(params.name!, req.body as never);
        return json(200, { limits });
      },
    },
  ];
}
