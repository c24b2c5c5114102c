/**
 * Attribute names and values, after the OpenTelemetry messaging semantic conventions: the
 * `messaging.*` names are theirs; what only this queue has is under `messaging.queue.*`, the
 * namespace the conventions give a messaging system (`messaging.system` = `queue`).
 */
export const SYSTEM = 'queue';

export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /** The task name (every span). */
  task: 'messaging.queue.task',
  /** This attempt's number, 1 for the first (job spans). */
  attempt: 'messaging.queue.attempt',
  maxAttempts: 'messaging.queue.max_attempts',
  /** completed, retrying, failed or cancelled (job spans). */
  outcome: 'messaging.queue.outcome',
  /** true when the attempt ran past the task's timeout (job spans). */
  timedOut: 'messaging.queue.timed_out',
  /** The enqueue wrote in the caller's transaction (`client` given): it commits with it. */
  transactional: 'messaging.queue.transactional',
  /** What `unique` did: inserted, deduplicated or replaced (enqueue spans with a key). */
  unique: 'messaging.queue.unique.outcome',
  /** For a job a recurring schedule enqueued: the schedule's name and the tick (ISO 8601). */
  schedule: 'messaging.queue.schedule.name',
  scheduledAt: 'messaging.queue.schedule.scheduled_at',
  /** A schedule's job started by hand (`runSchedule`), not by its timing. */
  manual: 'messaging.queue.schedule.manual',
} as const;

/** The outcome of one attempt, as `messaging.queue.outcome` names it. */
export type Outcome = 'completed' | 'retrying' | 'failed' | 'cancelled';
