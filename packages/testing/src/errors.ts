import { QueueError } from '@queue/core';

/** expectEnqueued() or expectNotEnqueued() found other jobs than expected. */
export class EnqueueAssertionError extends QueueError {
  constructor(message: string) {
    super('QUEUE_TESTING_ASSERTION', message);
  }
}

/**
 * drain() stopped before every due job had run: past its `timeout`, or after `maxJobs` runs
 * (a job that keeps enqueueing another). `report` holds what ran until then.
 */
export class DrainIncompleteError extends QueueError {
  readonly report: unknown;
  constructor(message: string, report: unknown) {
    super('QUEUE_DRAIN_INCOMPLETE', message);
    this.report = report;
  }
}
