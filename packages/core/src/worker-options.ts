import { InvalidOptionError } from './errors.js';
import type { Logger } from './logger.js';
import {
  checkInt,
  checkQueueName,
  checkStartupTimeout,
  DEFAULT_QUEUE,
  MAX_TIMER_MS,
  show,
} from './options.js';
import type { TaskDefinition } from './types.js';

export interface WorkerOptions {
  /**
   * Queues to work and their concurrency: `['emails', 'default']` (each with `concurrency`)
   * or `{ emails: 2, default: 8 }`. Default: every queue named by a task, plus 'default'.
   */
  queues?: readonly string[] | Readonly<Record<string, number>>;
  /** Jobs run at once per queue when `queues` does not say. Default 8. */
  concurrency?: number;
  /**
   * Milliseconds between polls. Notifications wake workers at once; polling finds what
   * they cannot announce, such as jobs freed by a worker that died. Default 500.
   */
  pollInterval?: number;
  /**
   * Milliseconds between two writes of one job's `ctx.progress()`: the first value is written
   * at once, later ones at most once per interval (the latest wins). Default 1,000.
   */
  progressInterval?: number;
  /** Milliseconds stop() waits for running jobs before aborting them. Default 30,000. */
  shutdownTimeout?: number;
  /** Milliseconds stop() waits after aborting, for handlers to return. Default 5,000. */
  abortGrace?: number;
  /**
   * Milliseconds a worker statement may take before its connection is presumed dead
   * (half-open) and dropped; its jobs' handlers are then aborted. Default 8,000: with the
   * 5 s session check a cut-off worker stops its handlers within 13 s, before Postgres frees
   * its jobs for another worker (12-15 s measured with the server's tcp_user_timeout at 5 s,
   * about 25 s with the keepalives core sets; fault scenario 20). With 30 s a job ran on two
   * hosts at once for 15 s. A claim statement takes milliseconds; raise it only for a server
   * that is often that slow to answer.
   */
  queryTimeout?: number;
  /** Milliseconds between checks that the idle LISTEN connection still answers. Default 10,000. */
  heartbeatInterval?: number;
  /**
   * Milliseconds `start()` keeps retrying while Postgres cannot be reached (refused, unknown
   * host, starting up). Default: the queue's `startupTimeout` (60,000); 0 fails at once.
   */
  startupTimeout?: number;
  /**
   * Milliseconds the event loop may go without turning (a paused process, a long GC pause, a
   * suspended VM) before the worker re-verifies its session; if that does not succeed within
   * the same time, every running job's signal is aborted with a WorkerStalledError. A stall
   * only costs one round trip when the session is fine. 0 turns the check off. Default 2,000.
   */
  stallThreshold?: number;
  /**
   * Milliseconds between checks for jobs nobody will run: due for over 30 s on a queue no live
   * worker serves, or of a task no live worker serving its queue knows. One worker in the
   * cluster runs each check and logs a warning per queue and task. 0 turns it off. Default 60,000.
   */
  unroutedCheckInterval?: number;
  /**
   * Largest handler result, in bytes of JSON, stored with the finished job; a larger one fails
   * the attempt with InvalidResultError. Default: the queue's `maxPayloadBytes` (1 MiB).
   */
  maxResultBytes?: number;
  /** Stop gracefully on SIGTERM and SIGINT (a second signal aborts running jobs at once). Default false. */
  handleSignals?: boolean;
  logger?: Logger;
}

export function resolveWorkerOptions(options: WorkerOptions, tasks: ReadonlyMap<string, TaskDefinition>) {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('worker options', `must be an object, got ${show(options)}`);
  }
  const concurrency = checkInt('concurrency', options.concurrency ?? 8, 1, 10_000);
  const queues = new Map<string, number>();
  const given = options.queues;
  if (given === undefined) {
    queues.set(DEFAULT_QUEUE, concurrency);
    for (const def of tasks.values()) if (def.queue) queues.set(def.queue, concurrency);
  } else if (Array.isArray(given)) {
    for (const q of given) queues.set(checkQueueName('queues', q), concurrency);
  } else if (typeof given === 'object') {
    for (const [q, n] of Object.entries(given)) {
      queues.set(checkQueueName('queues', q), checkInt(`queues.${q}`, n, 1, 10_000));
    }
  } else {
    throw new InvalidOptionError(
      'queues',
      `must be an array of names or an object of concurrencies, got ${show(given)}`,
    );
  }
  if (queues.size === 0) throw new InvalidOptionError('queues', 'must name at least one queue');
  return {
    queues,
    pollInterval: checkInt('pollInterval', options.pollInterval ?? 500, 10, MAX_TIMER_MS),
    progressInterval: checkInt('progressInterval', options.progressInterval ?? 1_000, 10, MAX_TIMER_MS),
    shutdownTimeout: checkInt('shutdownTimeout', options.shutdownTimeout ?? 30_000, 0, MAX_TIMER_MS),
    abortGrace: checkInt('abortGrace', options.abortGrace ?? 5_000, 0, MAX_TIMER_MS),
    handleSignals: options.handleSignals ?? false,
    queryTimeout: checkInt('queryTimeout', options.queryTimeout ?? 8_000, 10, MAX_TIMER_MS),
    heartbeatInterval: checkInt('heartbeatInterval', options.heartbeatInterval ?? 10_000, 10, MAX_TIMER_MS),
    startupTimeout: checkStartupTimeout(options.startupTimeout),
    stallThreshold: resolveStallThreshold(options.stallThreshold),
    unroutedCheckInterval: resolveCheckInterval(options.unroutedCheckInterval),
    maxResultBytes: checkInt('maxResultBytes', options.maxResultBytes ?? 1024 * 1024, 1, 2 ** 31 - 1),
  };
}

/**
 * 2 s: longer than ordinary pauses (a major GC of a large heap, a handler blocking the loop
 * for a while), far shorter than the ~25 s after which Postgres itself ends a silent client's
 * session (SESSION_KEEPALIVE_SQL); a restart, failover or pg_terminate_backend can end it at
 * any moment, and the sooner a stall is checked the shorter the window. Erring low is cheap:
 * a stall with a healthy session costs one round trip.
 */
const DEFAULT_STALL_THRESHOLD_MS = 2_000;

function resolveStallThreshold(value: unknown): number {
  if (value === undefined) return DEFAULT_STALL_THRESHOLD_MS;
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 50 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      'stallThreshold',
      `must be 0 (off) or an integer from 50 to ${MAX_TIMER_MS} (milliseconds), got ${show(value)}`,
    );
  }
  return value;
}

function resolveCheckInterval(value: unknown): number {
  if (value === undefined) return 60_000;
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      'unroutedCheckInterval',
      `must be 0 (off) or an integer from 100 to ${MAX_TIMER_MS} (milliseconds), got ${show(value)}`,
    );
  }
  return value;
}
