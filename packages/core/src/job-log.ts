/**
 * What the worker reports about each finished job, in core so that every adapter and the CLI
 * get the same lines: events for code, and log lines for operators, through the worker's
 * logger. A failed attempt that will be retried is a warning, a job that failed for good an
 * error; an attempt interrupted by shutdown is info (it runs again, and the shutdown itself is
 * logged), one whose lock was lost a warning (it runs again, perhaps overlapping).
 */
import type { FailedRow } from './claimer.js';
import type { Logger } from './logger.js';
import { type JobRecord, toJob } from './sql/rows.js';
import { seconds } from './startup.js';
import type { Job } from './types.js';
import type { Outcome, Running, WorkerEvents } from './worker-state.js';

/** Where reports go: the worker's events, its logger, and its timer for the next retry. */
export interface OutcomeSink {
  logger: Logger;
  emit<K extends keyof WorkerEvents>(event: K, ...args: Parameters<WorkerEvents[K]>): void;
  wakeAt(delayMs: number): void;
}

/** The error as a log field: pino's `err` shape, so it reads the same with any pino-shaped logger. */
export function errorFields(error: unknown): { type: string; message: string; stack?: string } & object {
  if (error instanceof Error) {
    const { code, cause } = error as { code?: unknown; cause?: unknown };
    return {
      type: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' ? { code } : {}),
      ...(cause === undefined ? {} : { cause: errorFields(cause) }),
    };
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { type: 'NonError', message: `non-Error thrown: ${message}` };
}

function jobFields(job: Job) {
  return {
    jobId: job.id,
    task: job.task,
    queue: job.queue,
    attempt: job.attempts,
    maxAttempts: job.maxAttempts,
  };
}

const named = (job: Job) => `job ${job.id} (task ${job.task})`;
const delay = (ms: number) => (ms < 1_000 ? `${ms} ms` : seconds(ms));

/** After the statement that recorded a batch of finished jobs: events and log lines per job. */
export function reportOutcomes(batch: Outcome[], failed: FailedRow[], sink: OutcomeSink): void {
  const byId = new Map(failed.map((f) => [f.id, f]));
  for (const o of batch) {
    const job = o.running.job;
    if (o.ok) {
      const result = o.result == null ? undefined : JSON.parse(o.result);
      sink.emit('completed', { job, durationMs: o.durationMs, result });
      continue;
    }
    if (o.cancelled) {
      sink.logger.info(jobFields(job), `${named(job)} was cancelled during attempt ${job.attempts}`);
      sink.emit('cancelled', { job, error: o.error });
      continue;
    }
    const row = byId.get(job.id);
    if (!row) continue; // deleted by an admin while it ran
    const fields = { ...jobFields(job), err: errorFields(o.error) };
    const tries = `attempt ${job.attempts} of ${job.maxAttempts}`;
    if (row.dead) {
      const permanent = o.failure?.permanent === true;
      const why = permanent ? 'not retried: the failure is permanent' : `on ${tries}`;
      sink.logger.error({ ...fields, permanent }, `${named(job)} failed for good (${why})`);
      sink.emit('failed', { job, error: o.error });
    } else {
      if (o.running.stopping) {
        sink.logger.info(fields, `${named(job)}: ${tries} was aborted by shutdown; it will run again`);
      } else {
        sink.logger.warn(
          { ...fields, delayMs: row.delay_ms },
          `${named(job)} failed ${tries}; retrying in ${delay(row.delay_ms)}`,
        );
      }
      sink.emit('retried', { job, error: o.error, delayMs: row.delay_ms });
      sink.wakeAt(row.delay_ms);
    }
  }
}

/** Jobs the claim found with their attempts used up by interrupted runs: now failed for good. */
export function reportExhausted(records: JobRecord[], sink: OutcomeSink): void {
  for (const r of records) {
    const job = toJob(r);
    const error = new Error(job.errors.at(-1)?.message ?? 'attempts used up');
    sink.logger.error(
      { ...jobFields(job), err: errorFields(error) },
      `${named(job)} failed for good: its last attempt (${job.attempts} of ${job.maxAttempts}) was interrupted`,
    );
    sink.emit('failed', { job, error });
  }
}

/** A job whose lock went while it ran: nothing is recorded for it, and it will run again. */
export function logLost(logger: Logger, r: Running, handlerSucceeded: boolean): void {
  const reason: unknown = r.controller.signal.reason;
  logger.warn(
    { ...jobFields(r.job), handlerSucceeded, ...(reason === undefined ? {} : { err: errorFields(reason) }) },
    `${named(r.job)} lost its lock during attempt ${r.job.attempts}; nothing recorded, it will run again`,
  );
}
