import type pg from 'pg';
import { QueueError } from './errors.js';
import { errorFields } from './job-log.js';
import type { Logger } from './logger.js';
import { encodeJson } from './payload.js';
import type { Names } from './sql/names.js';
import { progressSql } from './sql/progress.js';
import type { Job } from './types.js';

/** Largest progress value, in bytes of JSON: it is rewritten in place while the job runs. */
export const MAX_PROGRESS_BYTES = 1024;

/**
 * A handler passed `ctx.progress()` a value that cannot be stored: not a finite number nor
 * JSON, or over MAX_PROGRESS_BYTES. Thrown synchronously by the call; nothing is written and
 * the job goes on unless the handler lets the error escape.
 */
export class InvalidProgressError extends QueueError {
  readonly task: string;
  readonly maxBytes = MAX_PROGRESS_BYTES;
  constructor(task: string, reason: string, options?: { cause?: unknown }) {
    super(
      'QUEUE_INVALID_PROGRESS',
      `invalid progress from task ${JSON.stringify(task)}: ${reason}; ctx.progress() takes a finite ` +
        `number or a JSON value (string, boolean, array, object; null clears it) of at most ` +
        `${MAX_PROGRESS_BYTES} bytes as JSON. Nothing was written`,
      options,
    );
    this.task = task;
  }
}

/**
 * A progress value as the JSON text written to jobs.progress, or null (null clears it).
 * Like payloads (the same encoder), what JSON would change silently (NaN, functions, BigInt,
 * \u0000, lone surrogates) is refused rather than stored as something else.
 */
export function encodeProgress(task: string, value: unknown): string | null {
  if (value === null) return null;
  // The common case, a percentage or a count, without the replacer's per-call overhead.
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidProgressError(task, `it is ${value}`);
    return JSON.stringify(value);
  }
  if (value === undefined) throw new InvalidProgressError(task, 'it is undefined');
  return encodeJson(
    value,
    'it',
    MAX_PROGRESS_BYTES,
    (reason, cause) => new InvalidProgressError(task, reason, cause === undefined ? undefined : { cause }),
  );
}

/** What the writer needs of a running attempt: the job, and its claim count for fencing. */
export interface Attempt {
  job: Job;
  claims: number;
  controller: AbortController;
}

const RESOLVED = Promise.resolve();

/**
 * Each running attempt's progress state, keyed by its AbortController (one per attempt): how
 * `ctx.progress()`, made in run-job.ts, reaches the worker's writer without another parameter
 * on runJob. Weak, so an attempt nobody ended cannot leak.
 */
const attempts = new WeakMap<AbortController, JobProgress>();

/**
 * `ctx.progress(value)`: checks the value at once (a bad one throws InvalidProgressError),
 * then hands it to the attempt's throttle. Outside a worker's attempt it only checks.
 */
export function reportProgress(controller: AbortController, task: string, value: unknown): Promise<void> {
  const json = encodeProgress(task, value);
  return attempts.get(controller)?.report(json) ?? RESOLVED;
}

export interface ProgressWriterOptions {
  /** The worker's pool: writes never go through the claimer session, which must stay free for cycles. */
  pool: pg.Pool | undefined;
  names: Names;
  /** At most one write per job per this many ms (`progressInterval`). */
  intervalMs: number;
  /**
   * Milliseconds a write may wait for its answer once sent (`queryTimeout`); also how long the
   * end of a job waits for its last write, pool checkout included.
   */
  queryTimeout: number;
  logger: Logger;
  /** After each value written: the worker's `progress` event. */
  emit(event: { job: Job; progress: unknown }): void;
}

/**
 * Writes running jobs' progress for one worker, throttled per job: the first value at once,
 * then at most one write per `intervalMs`, always ending with the latest value (a trailing
 * write), and never more than one write of a job in flight. When the job ends, a value still
 * waiting is written before the worker records the outcome, so that the finish (which copies
 * jobs.progress into the history) sees it. That wait is one round trip, normally; it is capped
 * at `queryTimeout`, the worker's bound for any statement, so that a pool with no free
 * connection cannot hold a finished job's slot for long.
 */
export class ProgressWriter {
  private readonly sql: string;
  /** Attempts that have reported and not ended, for close(). */
  private readonly active = new Set<JobProgress>();
  private closed = false;
  private warnedNoPool = false;

  constructor(private readonly o: ProgressWriterOptions) {
    this.sql = progressSql(o.names);
  }

  get intervalMs(): number {
    return this.o.intervalMs;
  }

  /** Connects an attempt's `ctx.progress()` to this writer; before its handler runs. */
  track(attempt: Attempt): void {
    attempts.set(attempt.controller, new JobProgress(this, attempt));
  }

  /**
   * The attempt's handler has returned: later calls write nothing. Resolves once its last
   * value is written (or after `queryTimeout`, whichever comes first); undefined when there is
   * nothing to wait for, which is every job that never reported progress.
   */
  end(attempt: Attempt): Promise<void> | undefined {
    const p = attempts.get(attempt.controller);
    if (!p) return undefined;
    attempts.delete(attempt.controller);
    this.active.delete(p);
    const last = p.end();
    if (!last) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.o.queryTimeout);
      timer.unref();
    });
    return Promise.race([last, capped]).finally(() => clearTimeout(timer));
  }

  /** The worker has stopped: handlers still running (abandoned past abortGrace) write nothing more. */
  close(): void {
    this.closed = true;
    for (const p of this.active) p.end();
    this.active.clear();
  }

  /** @internal */
  started(p: JobProgress): void {
    this.active.add(p);
  }

  /** One fenced UPDATE; never rejects. A failure is logged once per attempt and the job goes on. */
  async write(p: JobProgress, json: string | null): Promise<void> {
    if (this.closed) return;
    const { job, claims } = p.attempt;
    if (!this.o.pool) {
      if (!this.warnedNoPool) {
        this.warnedNoPool = true;
        this.o.logger.warn({ jobId: job.id, task: job.task }, 'progress not written: the worker has no pool');
      }
      return;
    }
    try {
      const query = { text: this.sql, values: [job.id, json, claims], query_timeout: this.o.queryTimeout };
      const { rowCount } = await this.o.pool.query(query);
      // 0 rows: the job was claimed again elsewhere (this attempt is stale) or has left the table.
      if (rowCount === 1) this.o.emit({ job, progress: json === null ? null : JSON.parse(json) });
    } catch (error) {
      if (p.warned) return;
      p.warned = true;
      this.o.logger.warn(
        { jobId: job.id, task: job.task, queue: job.queue, attempt: job.attempts, err: errorFields(error) },
        `job ${job.id} (task ${job.task}): could not write its progress (${(error as Error).message}); ` +
          'the job goes on, and later values are still tried (logged once per attempt)',
      );
    }
  }
}

/** One attempt's throttle. */
class JobProgress {
  /** When the last write was sent (performance.now()); the next may go `intervalMs` later. */
  private lastSent = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The latest value not yet sent; undefined when there is none (null is a value: it clears). */
  private pending: string | null | undefined;
  private ended = false;
  private used = false;
  /** A failed write has been logged for this attempt. */
  warned = false;

  constructor(
    private readonly writer: ProgressWriter,
    readonly attempt: Attempt,
  ) {}

  /**
   * Sends the value at once when the interval allows (the promise resolves once it is written
   * or has failed), else keeps it as the value to send next, replacing any older one, and
   * resolves at once: awaiting every call in a loop costs a round trip once per interval.
   */
  report(json: string | null): Promise<void> {
    if (this.ended) return RESOLVED;
    if (!this.used) {
      this.used = true;
      this.writer.started(this);
    }
    if (!this.inflight && !this.timer && performance.now() - this.lastSent >= this.writer.intervalMs) {
      return this.send(json);
    }
    this.pending = json;
    if (!this.inflight && !this.timer) this.schedule();
    return RESOLVED;
  }

  /** Stops the throttle; returns the write to wait for before the finish, if any. */
  end(): Promise<void> | undefined {
    this.ended = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const json = this.pending;
    this.pending = undefined;
    if (json === undefined) return this.inflight;
    // After the write in flight, so that the latest value is the one that stays.
    return (this.inflight ?? RESOLVED).then(() => this.writer.write(this, json));
  }

  private schedule(): void {
    const wait = Math.max(0, this.lastSent + this.writer.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const json = this.pending;
      this.pending = undefined;
      if (json !== undefined && !this.ended) void this.send(json);
    }, wait);
    // A trailing write must not keep a process alive on its own.
    this.timer.unref();
  }

  private send(json: string | null): Promise<void> {
    this.lastSent = performance.now();
    const write = this.writer.write(this, json).finally(() => {
      this.inflight = undefined;
      if (this.pending !== undefined && !this.ended) this.schedule();
    });
    this.inflight = write;
    return write;
  }
}
