/**
 * Exit codes scripts can rely on. Documented in the README and in `queue --help`.
 */
export const EXIT = {
  OK: 0,
  /** Something unexpected failed (a bug, or an error from a task module). */
  ERROR: 1,
  /** Bad command line: unknown command or flag, missing argument, bad value, no DATABASE_URL. */
  USAGE: 2,
  /** The database cannot be used: bad connection string, unreachable, auth failed, schema missing. */
  DATABASE: 3,
  /** A job named on the command line does not exist. */
  NOT_FOUND: 4,
  /**
   * A job named on the command line cannot be changed in its state: it is running on a worker
   * (retry, delete), or it has already finished (cancel).
   */
  CONFLICT: 5,
  /** `queue wait`: the job failed for good. */
  JOB_FAILED: 6,
  /** `queue wait`: the job was cancelled. */
  JOB_CANCELLED: 7,
  /** `queue wait`: the job did not finish within --timeout (it goes on). */
  WAIT_TIMEOUT: 8,
} as const;

/** An error the CLI reports in one line and turns into its exit code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super('CLI_USAGE', EXIT.USAGE, message);
  }
}

export class DatabaseError extends CliError {
  constructor(message: string) {
    super('CLI_DATABASE', EXIT.DATABASE, message);
  }
}
