/**
 * Waiting for Postgres at startup. A replacement instance often boots while its database is
 * still down or restarting (a deploy, a failover, a laptop waking up); `migrate()` and
 * `worker.start()` then retry what failed for reachability, with the same backoff as the
 * worker's reconnect loops, and give up after `startupTimeout` with one named error.
 */
import pg from 'pg';
import { type ConnectionConfig, reconnectDelay, sleep } from './connection.js';
import { DatabaseUnavailableError, QueueError } from './errors.js';
import type { Logger } from './logger.js';

/** Socket errors that mean "nothing answered there (yet)", not "it answered no". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
]);

/**
 * SQLSTATEs of a server that is there but not serving sessions now: 57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, in recovery).
 * Class 08 (connection_exception) is matched by its prefix.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03']);

/**
 * What node-postgres and pg-pool say, without a code, when a connection ends or never
 * completes: the server went away mid-handshake, or `connectionTimeoutMillis` ran out.
 */
const DROPPED =
  /^(Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout expired|timeout exceeded when trying to connect)$/;

/**
 * True when the error says Postgres could not be reached or is not accepting sessions yet,
 * which waiting may fix. Authentication failures, a missing database, SQL errors and our
 * own errors (a session behind a transaction pooler, bad options) are answers: false.
 */
export function isUnreachable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  if (error instanceof QueueError) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    // Any other SQLSTATE is Postgres answering: not a reachability problem.
    if (error instanceof pg.DatabaseError) return false;
  }
  if (typeof message === 'string' && DROPPED.test(message)) return true;
  // Happy-eyeballs connects (a host name with IPv4 and IPv6 addresses) fail with an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.every((e) => isUnreachable(e, depth + 1));
  }
  return isUnreachable(cause, depth + 1);
}

/**
 * `host:port` as node-postgres resolves it (connection string, config object, PG* environment
 * variables, defaults), never with the user or password. Building a Client connects nothing.
 */
export function describeAddress(config: ConnectionConfig): string {
  try {
    const c = new pg.Client(
      typeof config === 'string' ? { connectionString: config } : config,
    ) as unknown as {
      host?: string;
      port?: number;
    };
    const host = c.host ?? 'localhost';
    return `${host.includes(':') ? `[${host}]` : host}:${c.port ?? 5432}`;
  } catch {
    return 'the configured address';
  }
}

export interface StartupWait {
  /** What is waiting, for the log and the error: 'migrate()' or 'worker.start()'. */
  operation: string;
  config: ConnectionConfig;
  /** Milliseconds to keep retrying; 0 fails at the first unreachable error. */
  timeoutMs: number;
  logger: Logger;
  /** Ends the wait (stop() or close()); the attempt in flight, if any, finishes first. */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds. An error that is not about reachability is thrown at
 * once; reachability errors are retried with backoff and jitter (reconnectDelay: 0.1 s
 * doubling up to 5 s), with a warning per failed attempt, until `timeoutMs` has passed,
 * then a DatabaseUnavailableError is thrown. No attempt starts after the deadline or after
 * `signal` aborts; an abort throws a DatabaseUnavailableError with `stopped` set.
 */
export async function untilReachable<T>(attempt: () => Promise<T>, wait: StartupWait): Promise<T> {
  const started = performance.now();
  const deadline = started + wait.timeoutMs;
  let address: string | undefined;
  for (let attempts = 1; ; attempts++) {
    try {
      const result = await attempt();
      if (attempts > 1) {
        wait.logger.info(
          { operation: wait.operation, address, attempts, waitedMs: Math.round(performance.now() - started) },
          `Postgres reachable at ${address} after ${attempts} attempts (${seconds(performance.now() - started)})`,
        );
      }
      return result;
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      address ??= describeAddress(wait.config);
      const now = performance.now();
      const facts = {
        address,
        attempts,
        waitedMs: Math.round(now - started),
        timeoutMs: wait.timeoutMs,
        operation: wait.operation,
      };
      if (wait.signal?.aborted) throw new DatabaseUnavailableError({ ...facts, stopped: true }, error);
      if (now >= deadline) throw new DatabaseUnavailableError({ ...facts, stopped: false }, error);
      const delay = Math.min(reconnectDelay(attempts - 1), deadline - now);
      wait.logger.warn(
        {
          operation: wait.operation,
          address,
          code: errorCode(error),
          err: (error as Error)?.message,
          attempt: attempts,
          retryInMs: Math.round(delay),
          giveUpInMs: Math.round(deadline - now),
        },
        `Postgres not reachable at ${address} (${reason(error)}); retrying in ${seconds(delay)} ` +
          `(attempt ${attempts}, giving up in ${seconds(deadline - now)})`,
      );
      await sleep(delay, wait.signal);
      if (wait.signal?.aborted) {
        throw new DatabaseUnavailableError(
          { ...facts, waitedMs: Math.round(performance.now() - started), stopped: true },
          error,
        );
      }
    }
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

/** `ECONNREFUSED`, `57P03: the database system is starting up`, or the bare message. */
function reason(error: unknown): string {
  const code = errorCode(error);
  const message = (error as { message?: unknown })?.message;
  if (code && error instanceof pg.DatabaseError) return `${code}: ${String(message)}`;
  return code ?? String(message ?? error);
}

/** 1.6 s below ten seconds, 54 s above. */
export function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}
