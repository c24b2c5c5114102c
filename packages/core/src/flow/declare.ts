import { InvalidLimitError, UnknownQueueError } from '../errors.js';
import { DEFAULT_QUEUE, show } from '../options.js';
import type { Names } from '../sql/names.js';
import type { TaskSpec } from '../tasks.js';
import type { Queryable } from '../types.js';
import { checkLimits, type LimitsOptions, setLimits } from './limits.js';

/** Limits declared with the queue's task map (`QueueOptions.limits`), by queue name. */
export type LimitsMap = Record<string, LimitsOptions>;

/**
 * Checks `QueueOptions.limits` at construction: each queue must be one a task of the map goes
 * to (a typo would otherwise limit nothing), each value valid limits. Nothing is written here.
 */
export function declareLimits(
  limits: unknown,
  tasks: ReadonlyMap<string, TaskSpec>,
): [string, LimitsOptions][] {
  if (limits === undefined) return [];
  if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) {
    throw new InvalidLimitError('limits', `must be an object of queue names to limits, got ${show(limits)}`);
  }
  const queues = new Set([...tasks.values()].map((t) => t.queue ?? DEFAULT_QUEUE));
  return Object.entries(limits as Record<string, unknown>).map(([queue, value]) => {
    if (!queues.has(queue)) {
      throw new UnknownQueueError(
        queue,
        `no task in this queue's task map goes to it (its tasks go to ${[...queues].map((q) => JSON.stringify(q)).join(', ') || 'no queue'}); ` +
          'set limits for another queue with queue.setLimits() or `queue limits`',
      );
    }
    return [queue, checkLimits(`limits.${queue}`, value)];
  });
}

/** Records declared limits (a worker does when it starts, after its tasks): the last writer wins. */
export async function recordLimits(
  db: Queryable,
  n: Names,
  declared: [string, LimitsOptions][],
): Promise<void> {
  for (const [queue, limits] of declared) await setLimits(db, n, queue, limits);
}
