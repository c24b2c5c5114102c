import type { Job } from './types.js';

/**
 * The id of the transaction that enqueued a job, on the Job an enqueue given `client` returns
 * (a non-enumerable property, so it stays out of JSON and equality checks). waitFor() uses it
 * to tell a job whose transaction has not committed yet from one whose transaction rolled back:
 * neither is visible to another session, but pg_xact_status() tells them apart.
 */
export const ENQUEUE_XID: unique symbol = Symbol.for('@queue/core.enqueueXid');

export function setEnqueueXid(job: Job, xid: string): Job {
  Object.defineProperty(job, ENQUEUE_XID, { value: xid, enumerable: false });
  return job;
}

export function enqueueXidOf(job: Job): string | undefined {
  return (job as { [ENQUEUE_XID]?: string })[ENQUEUE_XID];
}
