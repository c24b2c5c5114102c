import { QueueError } from '@queue/core';

export type ProcessorErrorCode =
  | 'QUEUE_NEST_TASK_NOT_METHOD'
  | 'QUEUE_NEST_TASK_WITHOUT_PROCESSOR'
  | 'QUEUE_NEST_SCOPED_PROCESSOR'
  | 'QUEUE_NEST_NO_TASKS'
  | 'QUEUE_NEST_BAD_CONCURRENCY'
  | 'QUEUE_NEST_CONFLICTING_CONCURRENCY'
  | 'QUEUE_NEST_CONTRACT_QUEUE_MISMATCH'
  | 'QUEUE_NEST_BAD_QUEUE_NAME'
  | 'QUEUE_NEST_SCHEDULE_NOT_METHOD'
  | 'QUEUE_NEST_BAD_SCHEDULE'
  | 'QUEUE_NEST_SCHEDULE_WITHOUT_TASK';

/**
 * A @Processor()/@Task() class, or the module's task setup, is wired wrong. Thrown when the
 * class is defined or while the app starts, so a misconfiguration never reaches a running worker.
 */
export class ProcessorDefinitionError extends QueueError {
  declare readonly code: ProcessorErrorCode;
  constructor(code: ProcessorErrorCode, message: string) {
    super(code, message);
  }
}

/** Two handlers claim one task name. Names are global to the queue, so the second would silently win. */
export class DuplicateTaskError extends QueueError {
  readonly task: string;
  constructor(task: string, first: string, second: string) {
    super(
      'QUEUE_NEST_DUPLICATE_TASK',
      `task ${JSON.stringify(task)} is defined twice, by ${first} and by ${second}: task names must be unique across the app`,
    );
    this.task = task;
  }
}

/**
 * Two declarations claim one schedule name (two @Schedule(), or one and the `schedules`
 * option). Schedules are stored by name, so one would silently replace the other.
 */
export class DuplicateScheduleError extends QueueError {
  readonly schedule: string;
  constructor(schedule: string, first: string, second: string) {
    super(
      'QUEUE_NEST_DUPLICATE_SCHEDULE',
      `schedule ${JSON.stringify(schedule)} is declared twice, by ${first} and by ${second}: schedule names must be unique across the app`,
    );
    this.schedule = schedule;
  }
}
