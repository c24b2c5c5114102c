import type { QueueAdmin } from '@queue/core';
import { BadRequestError } from '../errors.js';
import { parseId } from './list-query.js';

/** Most jobs one bulk action takes: a few pages of the list (a page is at most 200). */
export const MAX_BULK_IDS = 500;

export type BulkAction = 'retry' | 'cancel' | 'delete';

/** A job a bulk cancel could not cancel, and why (core's error code and message). */
export interface BulkRefusal {
  id: string;
  code: string;
  message: string;
}

export interface BulkResult {
  action: BulkAction;
  /** How many ids were given. */
  requested: number;
  /** Retried, deleted, or cancelled at once (queued jobs). */
  done: number;
  /** Cancel only: running jobs whose worker was asked to abort them. */
  cancelling: number;
  /** Cancel only: their ids. */
  cancellingIds: string[];
  /** Cancel only: jobs it could not cancel (finished, failed for good, gone), the first 20. */
  refused: BulkRefusal[];
}

/** `{ ids: [...] }`, each a job id; anything else is a 400 rather than a guess. */
export function parseBulkBody(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('body must be a JSON object { ids: ["1", "2", …] }');
  }
  for (const key of Object.keys(body)) {
    if (key !== 'ids') throw new BadRequestError(`unknown field ${JSON.stringify(key)}: expected ids`);
  }
  const { ids } = body as { ids?: unknown };
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BULK_IDS) {
    throw new BadRequestError(`ids must be an array of 1 to ${MAX_BULK_IDS} job ids`);
  }
  return [...new Set(ids.map((id, i) => parseId(typeof id === 'string' ? id : String(id), `ids[${i}]`)))];
}

/** Retries or deletes the given jobs with core's retryJobs/deleteJobs (running ones are left alone). */
export async function bulkChange(
  queue: QueueAdmin,
  action: 'retry' | 'delete',
  ids: string[],
): Promise<BulkResult> {
  const done = action === 'retry' ? await queue.retryJobs({ ids }) : await queue.deleteJobs({ ids });
  return { action, requested: ids.length, done, cancelling: 0, cancellingIds: [], refused: [] };
}

/** Jobs cancelled at once: each cancelJob() is one short transaction, so a few run side by side. */
const CANCEL_CONCURRENCY = 4;

/**
 * Cancels each job with core's cancelJob(): a queued one is cancelled, a running one's worker
 * is told to abort it. A job that cannot be cancelled (JobFinishedError, JobNotFoundError) is
 * reported, and the others go on.
 */
export async function bulkCancel(queue: QueueAdmin, ids: string[]): Promise<BulkResult> {
  const result: BulkResult = {
    action: 'cancel',
    requested: ids.length,
    done: 0,
    cancelling: 0,
    cancellingIds: [],
    refused: [],
  };
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const r = await queue.cancelJob(id);
        if (r.state === 'cancelled') result.done++;
        else {
          result.cancelling++;
          result.cancellingIds.push(id);
        }
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        // Only core's refusals are per-job news; anything else (an outage) fails the request.
        if (code !== 'QUEUE_JOB_FINISHED' && code !== 'QUEUE_JOB_NOT_FOUND' && code !== 'QUEUE_JOB_RUNNING')
          throw e;
        if (result.refused.length < 20) result.refused.push({ id, code, message: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CANCEL_CONCURRENCY, ids.length) }, lane));
  return result;
}
