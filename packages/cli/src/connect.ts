import { consoleLogger, Queue, QueueAdmin, type TaskMap } from '@queue/core';
import { CliError, DatabaseError, EXIT, UsageError } from './errors.js';

export interface GlobalOptions {
  databaseUrl?: string;
  schema?: string;
}

/** The connection string from --database-url or DATABASE_URL, checked before any connection is tried. */
export function connectionString(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  const value = opts.databaseUrl ?? env.DATABASE_URL;
  if (!value)
    throw new UsageError('no database: set DATABASE_URL or pass --database-url postgres://user@host:5432/db');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DatabaseError(
      'the connection string is not a URL: expected postgres://user:password@host:5432/database',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new DatabaseError(
      `the connection string must start with postgres:// or postgresql://, not ${url.protocol}//`,
    );
  }
  return value;
}

/** Where we tried to connect, without the password. */
function where(value: string): string {
  const url = new URL(value);
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
}

/** How the CLI connects: its own application name, a 10 s connect timeout, warnings only on stderr. */
function clientOptions(opts: GlobalOptions, cs: string) {
  return {
    connection: { connectionString: cs, connectionTimeoutMillis: 10_000, application_name: 'queue-cli' },
    ...(opts.schema ? { schema: opts.schema } : {}),
    // Warnings and errors only, on stderr: stdout stays for the command's own output.
    logger: consoleLogger('warn'),
    // A command fails at once with exit code 3 when Postgres is unreachable, rather than
    // waiting for it as an app's boot does: the caller (a shell, a deploy step, a process
    // manager) decides whether to try again.
    startupTimeout: 0,
  };
}

/** Checks the connection at once, so a bad one fails with a clear message before any work. */
async function checked<A extends QueueAdmin<any>>(admin: A, cs: string): Promise<A> {
  listenWhileCheckedOut(admin.pool);
  try {
    await admin.ping();
  } catch (error) {
    await admin.close().catch(() => {});
    throw toCliError(error, cs);
  }
  return admin;
}

/** An admin client (reads and management, no tasks): every command that neither enqueues nor works. */
export function openAdmin(opts: GlobalOptions, env: NodeJS.ProcessEnv): Promise<QueueAdmin> {
  const cs = connectionString(opts, env);
  return checked(new QueueAdmin(clientOptions(opts, cs)), cs);
}

/**
 * A queue, for `enqueue` (without tasks: core applies its defaults to options not given)
 * and `worker` (with the task module's tasks).
 */
export function openQueue<M extends TaskMap>(
  opts: GlobalOptions,
  env: NodeJS.ProcessEnv,
  tasks?: M,
): Promise<Queue<M>> {
  const cs = connectionString(opts, env);
  return checked(new Queue<M>({ ...clientOptions(opts, cs), ...(tasks ? { tasks } : {}) }), cs);
}

/**
 * Gives every client checked out of the CLI's pool an 'error' listener for as long as it is
 * out. pg-pool takes its own listener off a checked-out client, and core's migrate() checks
 * one out: a session ended mid-migration (pg_terminate_backend, a restart, a reset) made pg
 * emit 'error' with nobody listening, and the process died with a stack trace and exit code
 * 1. Listening is enough: the query in flight, or the next one, still fails with the cause,
 * and the command reports that through toCliError (exit code 3).
 */
function listenWhileCheckedOut(pool: QueueAdmin['pool']): void {
  const ignore = () => {};
  pool.on('acquire', (client) => client.on('error', ignore));
  pool.on('release', (_error, client) => client.off('error', ignore));
}

/** Turns what Postgres, node-postgres and core throw into one-line errors with stable exit codes. */
export function toCliError(error: unknown, cs?: string): Error {
  if (error instanceof CliError) return error;
  const e = error as { code?: string; message?: string };
  const at = cs ? ` (${where(cs)})` : '';
  switch (e?.code) {
    case 'QUEUE_JOB_NOT_FOUND':
      return new CliError(e.code, EXIT.NOT_FOUND, e.message ?? 'no such job');
    case 'QUEUE_JOB_RUNNING':
      return new CliError(e.code, EXIT.CONFLICT, e.message ?? 'the job is running');
    case 'QUEUE_JOB_FINISHED':
    case 'QUEUE_JOB_STATE':
      // The job exists, but its state rules the change out (cancelling a finished job).
      return new CliError(e.code, EXIT.CONFLICT, e.message ?? 'the job cannot be changed in its state');
    case 'QUEUE_DATABASE_UNAVAILABLE': {
      // Core's message advises its startupTimeout option, which the CLI sets to 0 on purpose:
      // say what the connection error itself was instead.
      const cause = (error as { cause?: unknown }).cause;
      const mapped = cause === undefined ? undefined : toCliError(cause, cs);
      return mapped instanceof DatabaseError
        ? mapped
        : new DatabaseError(`database unavailable: ${e.message}`);
    }
    case 'QUEUE_SCHEDULE_NOT_FOUND':
      return new CliError(
        e.code,
        EXIT.NOT_FOUND,
        `no schedule named ${JSON.stringify((error as { schedule?: string }).schedule)}; 'queue schedules' lists them`,
      );
    case 'QUEUE_SCHEDULE_EXISTS': {
      // Like a job that cannot change in its state: the name is taken, so nothing was written.
      const name = (error as { schedule?: string }).schedule ?? '';
      return new CliError(
        e.code,
        EXIT.CONFLICT,
        `a schedule named ${JSON.stringify(name)} exists already: change it with 'queue schedule update ${name} ...', or delete it first`,
      );
    }
    case 'QUEUE_INVALID_SCHEDULE':
    case 'QUEUE_INVALID_OPTION':
    case 'QUEUE_INVALID_PAYLOAD':
    case 'QUEUE_PAYLOAD_VALIDATION':
    case 'QUEUE_UNKNOWN_TASK':
    case 'QUEUE_CONFIG':
    case 'DASHBOARD_CONFIG':
      return new UsageError(e.message ?? 'invalid option');
    case 'ECONNREFUSED':
      return new DatabaseError(`cannot connect to the database${at}: connection refused`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DatabaseError(`cannot connect to the database${at}: host not found`);
    case 'ETIMEDOUT':
      return new DatabaseError(`cannot connect to the database${at}: timed out`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new DatabaseError(`lost the connection to the database${at}: ${e.message}`);
    case '28P01':
    case '28000':
      return new DatabaseError(`the database refused the login${at}: ${e.message}`);
    case '3D000':
      return new DatabaseError(`${e.message}${at}`);
    case '42P01':
    case '3F000':
      return new DatabaseError(`the queue's tables are missing: run \`queue migrate\` first (${e.message})`);
  }
  if (typeof e?.code === 'string' && /^(08|57P|53)/.test(e.code))
    return new DatabaseError(`database unavailable: ${e.message}`);
  if (/timeout/i.test(e?.message ?? ''))
    return new DatabaseError(`cannot connect to the database${at}: ${e.message}`);
  // What node-postgres throws, without a code, once a session has ended under it.
  if (/^Connection terminated|is not queryable/.test(e?.message ?? ''))
    return new DatabaseError(`lost the connection to the database${at}: ${e.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
