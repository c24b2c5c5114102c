import type pg from 'pg';
import type { Logger } from './logger.js';
import { show } from './options.js';

/** Where the queue's tables are and how to reach them: what every client of the queue needs. */
export interface ConnectionOptions {
  /** Postgres connection string. Give this, `connection`, or `pool`. */
  connectionString?: string;
  /** node-postgres client config, for options a connection string cannot carry. */
  connection?: pg.ClientConfig;
  /**
   * Your own pool, used for enqueue and admin calls (you close it). Workers still open
   * their own two session connections with the pool's settings; they must reach Postgres
   * directly or through a session-mode pooler, never a transaction-mode one.
   */
  pool?: pg.Pool;
  /** Schema holding the queue's tables. Default 'queue'. */
  schema?: string;
  /** 32-bit namespace for the queue's advisory locks, to stay clear of your own. Default 0x71756575. */
  lockNamespace?: number;
  /** pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger;
  /**
   * Milliseconds `migrate()` and `worker.start()` retry while Postgres cannot be reached
   * (refused, unknown host, starting up…), then throw DatabaseUnavailableError. Errors
   * Postgres answers with (wrong password, no such database) fail at once. Default 60,000; 0 = no retry.
   */
  startupTimeout?: number;
}

/** The error for options without a connection, naming an option that was given but empty. */
export function missingConnection(options: ConnectionOptions): string {
  for (const key of ['connectionString', 'connection', 'pool'] as const) {
    if (key in options && !options[key]) {
      return (
        `${key} is ${show(options[key])}: give a Postgres connection string, connection config or pool ` +
        `(is an environment variable such as DATABASE_URL unset?)`
      );
    }
  }
  return 'give connectionString, connection or pool';
}
