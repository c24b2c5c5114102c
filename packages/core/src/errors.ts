import type { Job } from './types.js';

/** Every error @queue/core throws on purpose is a QueueError with a stable `code`. */
export class QueueError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value (connection, schema name, worker options) is invalid. */
export class ConfigError extends QueueError {
  constructor(message: string) {
    super('QUEUE_CONFIG', message);
  }
}

/** `enqueue` named a task that is not in the queue's task map. */
export class UnknownTaskError extends QueueError {
  readonly task: string;
  constructor(task: string, known: readonly string[]) {
    const list = known.length > 0 ? known.map((k) => JSON.stringify(k)).join(', ') : '(none)';
    super('QUEUE_UNKNOWN_TASK', `unknown task ${JSON.stringify(task)}: known tasks are ${list}`);
    this.task = task;
  }
}

/** A payload cannot be stored losslessly as JSON (not serialisable, \u0000, lone surrogate, too large). */
export class InvalidPayloadError extends QueueError {
  readonly task: string;
  constructor(task: string, reason: string, options?: { cause?: unknown }) {
    super('QUEUE_INVALID_PAYLOAD', `invalid payload for task ${JSON.stringify(task)}: ${reason}`, options);
    this.task = task;
  }
}

/** A payload failed the task's schema (Standard Schema, e.g. zod). */
export class PayloadValidationError extends QueueError {
  readonly task: string;
  readonly issues: readonly { message: string; path?: readonly unknown[] | undefined }[];
  constructor(task: string, issues: readonly { message: string; path?: readonly unknown[] | undefined }[]) {
    const text = issues
      .slice(0, 5)
      .map((i) =>
        i.path && i.path.length > 0 ? `${i.path.map(pathKey).join('.')}: ${i.message}` : i.message,
      )
      .join('; ');
    super('QUEUE_PAYLOAD_VALIDATION', `payload for task ${JSON.stringify(task)} failed validation: ${text}`);
    this.task = task;
    this.issues = issues;
  }
}

/** An enqueue or worker option has a wrong type or value. */
export class InvalidOptionError extends QueueError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('QUEUE_INVALID_OPTION', `invalid option ${option}: ${message}`);
    this.option = option;
  }
}

/** No job with that id exists (it may have completed and been deleted). */
export class JobNotFoundError extends QueueError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('QUEUE_JOB_NOT_FOUND', `no job with id ${jobId}`);
    this.jobId = jobId;
  }
}

/** The job is running on a worker right now, so it cannot be changed or deleted. */
export class JobRunningError extends QueueError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('QUEUE_JOB_RUNNING', `job ${jobId} is running on a worker; try again when it has finished`);
    this.jobId = jobId;
  }
}

/** The job is in a state the call does not apply to (e.g. runNow on a failed job). */
export class JobStateError extends QueueError {
  readonly jobId: string;
  readonly state: string;
  constructor(jobId: string, state: string, hint: string) {
    super('QUEUE_JOB_STATE', `job ${jobId} is ${state}; ${hint}`);
    this.jobId = jobId;
    this.state = state;
  }
}

/** The reason a handler's signal is aborted when the job runs past its timeout. */
export class JobTimeoutError extends QueueError {
  constructor(task: string, timeoutMs: number) {
    super('QUEUE_JOB_TIMEOUT', `task ${JSON.stringify(task)} ran past its timeout of ${timeoutMs} ms`);
  }
}

/** The reason a handler's signal is aborted when its worker stops before it finishes. */
export class WorkerStoppingError extends QueueError {
  constructor() {
    super('QUEUE_WORKER_STOPPING', 'the worker is shutting down; the job will run again');
  }
}

/**
 * The reason a handler's signal is aborted when the worker's locking connection is lost:
 * the job's lock is gone, another worker may take it, and this worker will record nothing for it.
 */
export class LockLostError extends QueueError {
  constructor(cause?: unknown) {
    super('QUEUE_LOCK_LOST', 'the connection holding this job lock was lost; the job will run again', {
      cause,
    });
  }
}

function pathKey(p: unknown): string {
  if (p && typeof p === 'object' && 'key' in p) return String((p as { key: unknown }).key);
  return String(p);
}

/**
 * The worker's locking connection does not keep one Postgres session to itself, as behind
 * PgBouncer in transaction mode: session advisory locks would not protect its jobs.
 */
export class SessionNotPinnedError extends QueueError {
  constructor(detail: string) {
    super(
      'QUEUE_SESSION_NOT_PINNED',
      `the worker's connection does not keep a Postgres session of its own (${detail}); ` +
        'is it going through a pooler in transaction mode? Connect workers directly to Postgres ' +
        'or through a session-mode pooler; enqueueing may go through any pooler.',
    );
  }
}

/** A call on a Queue (or QueueAdmin) after its close() began. */
export class QueueClosedError extends QueueError {
  constructor(call: string) {
    super(
      'QUEUE_CLOSED',
      `${call} was called after close(): create a new Queue, or make the call before closing this one`,
    );
  }
}

/** What a DatabaseUnavailableError reports about the wait that ended. */
export interface DatabaseWait {
  /** `host:port` as node-postgres resolved it (never the user or password). */
  address: string;
  /** Connection attempts made. */
  attempts: number;
  /** Milliseconds spent from the first attempt to giving up. */
  waitedMs: number;
  /** The `startupTimeout` in force. */
  timeoutMs: number;
  /** What was waiting: 'migrate()' or 'worker.start()'. */
  operation: string;
  /** True when stop()/close() ended the wait, false when the time ran out. */
  stopped: boolean;
}

/**
 * Postgres could not be reached (refused, unknown host, timed out, starting up or shutting
 * down) for as long as `startupTimeout` allows, or stop()/close() ended the wait first.
 * `cause` is the last connection error.
 */
export class DatabaseUnavailableError extends QueueError implements DatabaseWait {
  readonly address: string;
  readonly attempts: number;
  readonly waitedMs: number;
  readonly timeoutMs: number;
  readonly operation: string;
  readonly stopped: boolean;
  constructor(wait: DatabaseWait, cause: unknown) {
    const last = (cause as { message?: unknown })?.message ?? String(cause);
    const tries = `${wait.attempts} attempt${wait.attempts === 1 ? '' : 's'}`;
    const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;
    let message: string;
    if (wait.stopped) {
      message =
        `${wait.operation} stopped waiting for Postgres at ${wait.address} after ${secs(wait.waitedMs)} ` +
        `(${tries}; last error: ${last}): the queue or worker is shutting down`;
    } else if (wait.timeoutMs === 0) {
      message =
        `${wait.operation}: Postgres at ${wait.address} is not reachable (${last}); not retried because ` +
        'startupTimeout is 0. Set startupTimeout (milliseconds) to wait for it at startup';
    } else {
      message =
        `${wait.operation}: Postgres at ${wait.address} is not reachable; gave up after ` +
        `${secs(wait.waitedMs)} and ${tries} (last error: ${last}). Check that it is running and ` +
        `reachable from here, or change how long startup waits with the startupTimeout option ` +
        `(milliseconds; now ${wait.timeoutMs}, 0 fails at once)`;
    }
    super('QUEUE_DATABASE_UNAVAILABLE', message, { cause });
    this.address = wait.address;
    this.attempts = wait.attempts;
    this.waitedMs = wait.waitedMs;
    this.timeoutMs = wait.timeoutMs;
    this.operation = wait.operation;
    this.stopped = wait.stopped;
  }
}

/**
 * The reason a handler's signal is aborted when the worker's event loop stalled (a paused
 * process, a long GC pause, a suspended VM) for longer than `stallThreshold`, and its session
 * could not then be re-verified within `stallThreshold`: its locks may be gone, and another
 * worker may be running the job.
 */
export class WorkerStalledError extends QueueError {
  readonly stalledMs: number;
  constructor(stalledMs: number, cause?: unknown) {
    super(
      'QUEUE_WORKER_STALLED',
      `the worker's event loop stalled for ${stalledMs} ms and its session could not be re-verified ` +
        'afterwards, so it can no longer guarantee that it owns this job; the job will run again',
      { cause },
    );
    this.stalledMs = stalledMs;
  }
}

/** A migration, by number and name, as a SchemaNotMigratedError lists it. */
export interface MigrationName {
  id: number;
  name: string;
}

/**
 * `worker.start()` found the queue's schema missing, or lacking migrations this version of
 * the package needs: running would fail on every statement, so it refuses to start.
 */
export class SchemaNotMigratedError extends QueueError {
  readonly schema: string;
  /** The package's migrations the schema has not had, in order. */
  readonly missing: readonly MigrationName[];
  constructor(schema: string, missing: readonly MigrationName[], absent: boolean) {
    const list = missing.map((m) => `${String(m.id).padStart(4, '0')}_${m.name}`).join(', ');
    const s = JSON.stringify(schema);
    const state = absent
      ? `schema ${s} has no queue tables (no ${s}.migrations table); this version of @queue/core needs ${list}`
      : `schema ${s} lacks ${missing.length === 1 ? 'migration' : 'migrations'} ${list}, which this ` +
        'version of @queue/core needs';
    super(
      'QUEUE_SCHEMA_NOT_MIGRATED',
      `worker.start(): ${state}. Run the migrations first: ` +
        'call `await queue.migrate()` before starting workers, run ' +
        `\`npx queue migrate${schema === 'queue' ? '' : ` --schema ${s}`}\` (@queue/cli) in a ` +
        'deploy step, or pass `migrate: true` to the adapter (@queue/express, @queue/fastify, @queue/nest)',
    );
    this.schema = schema;
    this.missing = missing;
  }
}

/**
 * A job was cancelled (`cancelJob`): the reason its handler's signal is aborted with when it
 * was running. A handler that then throws is recorded 'cancelled' and not retried.
 */
export class JobCancelledError extends QueueError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('QUEUE_JOB_CANCELLED', `job ${jobId} was cancelled`);
    this.jobId = jobId;
  }
}

/**
 * A handler's return value cannot be stored as the job's result (not JSON-serialisable, or
 * over the size limit): the attempt fails with this error and is retried per the task's policy.
 */
export class InvalidResultError extends QueueError {
  readonly task: string;
  constructor(task: string, reason: string, options?: { cause?: unknown }) {
    super('QUEUE_INVALID_RESULT', `invalid result from task ${JSON.stringify(task)}: ${reason}`, options);
    this.task = task;
  }
}

/** How a finished job ended, as cancelJob() reports it: the history's outcomes, or failed for good. */
export type FinalOutcome = 'completed' | 'cancelled' | 'failed';

/** cancelJob() on a job that has already finished: completed, cancelled, or failed for good. */
export class JobFinishedError extends QueueError {
  readonly jobId: string;
  readonly outcome: FinalOutcome;
  constructor(jobId: string, outcome: FinalOutcome) {
    const what =
      outcome === 'failed'
        ? 'failed for good; delete it with deleteJob(), or run it again with retryJob()'
        : `was already ${outcome}; nothing is left to cancel`;
    super('QUEUE_JOB_FINISHED', `cannot cancel job ${jobId}: it ${what}`);
    this.jobId = jobId;
    this.outcome = outcome;
  }
}

/**
 * waitFor(): the job failed for good (its last attempt failed with no attempts left, or
 * permanently). `job` is the failed job as it stands, with every attempt's error.
 */
export class JobFailedError extends QueueError {
  readonly jobId: string;
  readonly job: Job;
  /** The last attempt's error message. */
  readonly lastError: string;
  constructor(job: Job) {
    const lastError = job.errors.at(-1)?.message ?? '(no error recorded)';
    super(
      'QUEUE_JOB_FAILED',
      `job ${job.id} (task ${JSON.stringify(job.task)}) failed for good after ${job.attempts} ` +
        `attempt${job.attempts === 1 ? '' : 's'}: ${lastError}; run it again with retryJob() and wait again`,
    );
    this.jobId = job.id;
    this.job = job;
    this.lastError = lastError;
  }
}

/** waitFor(): the job did not finish within `timeout`. The job itself carries on. */
export class WaitTimeoutError extends QueueError {
  readonly jobId: string;
  readonly timeoutMs: number;
  constructor(jobId: string, timeoutMs: number) {
    super(
      'QUEUE_WAIT_TIMEOUT',
      `waitFor(): job ${jobId} did not finish within ${timeoutMs} ms; it was not cancelled and may ` +
        'still finish: wait again, or give a longer timeout',
    );
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * waitFor() on a job enqueued with `client` inside a transaction that then rolled back: the
 * job was never stored, and never will run.
 */
export class JobRolledBackError extends QueueError {
  readonly jobId: string;
  /** The enqueuing transaction's id (`pg_current_xact_id()`). */
  readonly xid: string;
  constructor(jobId: string, xid: string) {
    super(
      'QUEUE_JOB_ROLLED_BACK',
      `the transaction that enqueued job ${jobId} (xid ${xid}) rolled back, so the job does not exist ` +
        'and will not run; enqueue it again in a transaction that commits',
    );
    this.jobId = jobId;
    this.xid = xid;
  }
}

/** queue.close() ended a waitFor() that was still waiting. The job itself is not affected. */
export class WaitClosedError extends QueueClosedError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('waitFor()');
    this.message = `waitFor(): the queue was closed while waiting for job ${jobId}; the job itself is not affected`;
    this.jobId = jobId;
  }
}

/**
 * A schedule's definition is refused before anything is written: an invalid cron expression,
 * an unknown time zone, an interval that is not a positive number of milliseconds, an unknown
 * catch-up policy, a task the queue's task map does not have, and the like. `option` names the
 * field, `value` is what was given.
 */
export class InvalidScheduleError extends QueueError {
  readonly schedule: string;
  readonly option: string;
  readonly value: unknown;
  /** `shown`: the value as the message quotes it ('' for a missing one). */
  constructor(schedule: string, option: string, value: unknown, shown: string, problem: string) {
    const what = shown ? `${option} ${shown}` : option;
    super('QUEUE_INVALID_SCHEDULE', `schedule ${JSON.stringify(schedule)}: ${what} ${problem}`);
    this.schedule = schedule;
    this.option = option;
    this.value = value;
  }
}

/** No schedule with that name exists (it may have been deleted). */
export class ScheduleNotFoundError extends QueueError {
  readonly schedule: string;
  constructor(schedule: string) {
    super(
      'QUEUE_SCHEDULE_NOT_FOUND',
      `no schedule named ${JSON.stringify(schedule)}; listSchedules() shows the ones there are`,
    );
    this.schedule = schedule;
  }
}

/** createSchedule() named a schedule that exists already. */
export class ScheduleExistsError extends QueueError {
  readonly schedule: string;
  constructor(schedule: string) {
    super(
      'QUEUE_SCHEDULE_EXISTS',
      `a schedule named ${JSON.stringify(schedule)} exists already: change it with updateSchedule(), ` +
        'or delete it first with deleteSchedule()',
    );
    this.schedule = schedule;
  }
}

/**
 * An enqueue's `unique` option is refused before anything is written: conflicting options
 * (`key` with `by`, two of `mode`/`period`/`debounce`/`throttle`, `maxWait` without `debounce`,
 * `runAt` with `debounce`, …), a period that is not a positive whole number of milliseconds, a
 * key over 256 characters, `by` naming a field the payload does not have, an unknown property.
 * `option` names the property (`unique.period`, or `items[2].options.unique.by` in enqueueMany),
 * `value` is what was given, and the message quotes it.
 */
export class InvalidUniqueError extends QueueError {
  readonly task: string;
  readonly option: string;
  readonly value: unknown;
  /** `shown`: the value as the message quotes it ('' for a missing one). */
  constructor(task: string, option: string, value: unknown, shown: string, problem: string) {
    const what = shown ? `${option} ${shown}` : option;
    super('QUEUE_INVALID_UNIQUE', `enqueue of task ${JSON.stringify(task)}: ${what} ${problem}`);
    this.task = task;
    this.option = option;
    this.value = value;
  }
}

/**
 * A flow-control setting (setLimits(), a queue's `limits`, a task's `concurrencyKey`, an enqueue's
 * `concurrencyKey`) is invalid: refused before anything is written. `option` names it.
 */
export class InvalidLimitError extends QueueError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('QUEUE_INVALID_LIMIT', `invalid ${option}: ${message}`);
    this.option = option;
  }
}

/** Limits were set for a queue no task, job, worker or queue setting names. */
export class UnknownQueueError extends QueueError {
  readonly queue: string;
  constructor(queue: string, hint: string) {
    super('QUEUE_UNKNOWN_QUEUE', `unknown queue ${JSON.stringify(queue)}: ${hint}`);
    this.queue = queue;
  }
}
