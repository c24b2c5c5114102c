import pg from 'pg';
import { InsertBatcher } from './batcher.js';
import type { ConnectionConfig } from './connection.js';
import { TypedEmitter } from './emitter.js';
import {
  ConfigError,
  InvalidOptionError,
  JobNotFoundError,
  JobRunningError,
  JobStateError,
  UnknownTaskError,
} from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import { migrateFromPool } from './migrate.js';
import { Notifier } from './notifier.js';
import {
  checkInt,
  checkQueueName,
  checkStartupTimeout,
  checkTaskOptions,
  type JobRow,
  resolveJobOptions,
  show,
} from './options.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodePayload, validatePayload } from './payload.js';
import {
  countJobsSql,
  deleteJobSql,
  getJobSql,
  jobExistsSql,
  listJobsSql,
  retryFailedSql,
  retryJobSql,
  runNowSql,
  runningJobsSql,
  setPausedSql,
} from './sql/admin.js';
import {
  type Inserted,
  insertedJob,
  insertManySql,
  insertManyValues,
  insertOneSql,
  insertOneValues,
  notifyPayload,
  notifySql,
} from './sql/enqueue.js';
import { jobStatsSql } from './sql/finish.js';
import { makeNames, type Names } from './sql/names.js';
import { toJob } from './sql/rows.js';
import { untilReachable } from './startup.js';
import type {
  EnqueueOptions,
  Job,
  JobState,
  PayloadOf,
  Queryable,
  TaskDefinition,
  TaskHandler,
  TaskMap,
} from './types.js';
import { Worker } from './worker.js';
import type { WorkerOptions } from './worker-options.js';

export interface QueueOptions<M extends TaskMap = TaskMap> {
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
  /** The task map: names, handlers, per-task options and schemas. */
  tasks?: M;
  /** Largest payload accepted, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger;
  /**
   * Milliseconds `migrate()` and `worker.start()` retry while Postgres cannot be reached
   * (refused, unknown host, starting up…), then throw DatabaseUnavailableError. Errors
   * Postgres answers with (wrong password, no such database) fail at once. Default 60,000; 0 = no retry.
   */
  startupTimeout?: number;
}

export interface QueueEvents {
  enqueued: (event: { job: Job }) => void;
}

export type EnqueueManyItem<M extends TaskMap> = {
  [K in keyof M & string]: { task: K; payload: PayloadOf<M[K]>; options?: Omit<EnqueueOptions, 'client'> };
}[keyof M & string];

export interface ListJobsOptions {
  state?: JobState;
  queue?: string;
  task?: string;
  /** 'asc' (oldest first, the default) or 'desc' (newest first). */
  order?: 'asc' | 'desc';
  /** Keyset pagination with order 'asc': only jobs with a larger id. */
  after?: string;
  /** Keyset pagination with order 'desc': only jobs with a smaller id. */
  before?: string;
  /** Default 50, at most 1,000. */
  limit?: number;
}

export interface JobStat {
  minute: Date;
  queue: string;
  completed: number;
  /** Failed attempts, retried or final. */
  failed: number;
}

export interface QueueCounts {
  queue: string;
  available: number;
  scheduled: number;
  running: number;
  failed: number;
  /** Workers claim nothing from a paused queue. */
  paused: boolean;
}

/**
 * The entry point: enqueue jobs (also inside your own transactions), inspect and manage
 * them, and create workers.
 */
export class Queue<M extends TaskMap = TaskMap> extends TypedEmitter<QueueEvents> {
  readonly names: Names;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  private readonly ownsPool: boolean;
  private readonly connection: ConnectionConfig;
  private readonly tasks = new Map<string, TaskDefinition>();
  private readonly checksTaskNames: boolean;
  private readonly maxPayloadBytes: number;
  private readonly notifier: Notifier;
  private readonly workers = new Set<Worker>();
  private readonly sql: { one: string; many: string; notify: string };
  private readonly batcher: InsertBatcher;
  private closed = false;
  /** Aborted by close(): ends a migrate() that is waiting for Postgres. */
  private readonly closeSignal = new AbortController();
  readonly startupTimeout: number;

  constructor(options: QueueOptions<M>) {
    super();
    if (options === null || typeof options !== 'object')
      throw new ConfigError('Queue options must be an object');
    this.names = makeNames(options.schema, options.lockNamespace);
    this.logger = options.logger ?? consoleLogger();
    this.startupTimeout = checkStartupTimeout(options.startupTimeout);
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
      this.connection = { ...(options.pool.options as pg.ClientConfig) };
    } else if (options.connectionString || options.connection) {
      this.connection = options.connection ?? (options.connectionString as string);
      const config =
        typeof this.connection === 'string' ? { connectionString: this.connection } : this.connection;
      this.pool = new pg.Pool({ ...config, application_name: config.application_name ?? 'queue' });
      this.ownsPool = true;
    } else {
      throw new ConfigError('give connectionString, connection or pool');
    }
    // An idle connection dropping is not the app's problem; once we are closing, it is expected.
    this.pool.on('error', (error) => {
      if (!this.closed) this.logger.warn({ err: error.message }, 'idle pool connection failed');
    });
    const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(max) || max < 1)
      throw new ConfigError(`maxPayloadBytes must be a positive integer, got ${show(max)}`);
    this.maxPayloadBytes = max;
    this.checksTaskNames = options.tasks !== undefined;
    for (const [name, value] of Object.entries(options.tasks ?? {})) {
      const def: TaskDefinition =
        typeof value === 'function' ? { handler: value as TaskHandler } : (value as TaskDefinition);
      if (!def || typeof def.handler !== 'function') {
        throw new ConfigError(`task ${JSON.stringify(name)} needs a handler function`);
      }
      checkTaskOptions(name, def);
      this.tasks.set(name, def);
    }
    this.notifier = new Notifier(this.pool, this.names, this.logger);
    this.sql = {
      one: insertOneSql(this.names),
      many: insertManySql(this.names),
      notify: notifySql(this.names),
    };
    // At most half the pool's connections carry coalesced enqueues, leaving room for the rest.
    const poolMax = (this.pool.options as { max?: number }).max ?? 10;
    this.batcher = new InsertBatcher(
      async (rows) => (await this.pool.query(this.sql.many, insertManyValues(rows))).rows,
      Math.max(1, Math.floor(poolMax / 2)),
    );
  }

  /**
   * Creates or updates the queue's schema. Safe when many processes call it at once. While
   * Postgres cannot be reached it retries for `startupTimeout` (the queue's, unless given
   * here), then throws DatabaseUnavailableError; close() ends the wait.
   */
  async migrate(options: { startupTimeout?: number } = {}): Promise<number[]> {
    return untilReachable(() => migrateFromPool(this.pool, this.names), {
      operation: 'migrate()',
      config: this.connection,
      timeoutMs: checkStartupTimeout(options?.startupTimeout, this.startupTimeout),
      logger: this.logger,
      signal: this.closeSignal.signal,
    });
  }

  /**
   * Stores one job. Resolves once it is committed, or, with `options.client`, once it is
   * written in that client's transaction. Bad input throws before anything is written.
   */
  async enqueue<K extends keyof M & string>(
    task: K,
    payload: PayloadOf<M[K]>,
    options: EnqueueOptions = {},
  ): Promise<Job<PayloadOf<M[K]>, K>> {
    const row = await this.prepare(task, payload, options);
    const record: Inserted = options.client
      ? (await options.client.query(this.sql.one, insertOneValues(row))).rows[0]
      : await this.batcher.add(row);
    await this.announce(options.client, [{ queue: row.queue, delay_ms: record.delay_ms }]);
    const job = insertedJob(row, record) as Job<PayloadOf<M[K]>, K>;
    this.emit('enqueued', { job });
    return job;
  }

  /** Stores many jobs in one statement (one transaction): all or none. */
  async enqueueMany(
    items: readonly EnqueueManyItem<M>[],
    options: { client?: Queryable } = {},
  ): Promise<Job[]> {
    if (!Array.isArray(items)) throw new InvalidOptionError('items', `must be an array, got ${show(items)}`);
    if (items.length === 0) return [];
    const rows: JobRow[] = [];
    for (const item of items) {
      if (item === null || typeof item !== 'object') {
        throw new InvalidOptionError(
          'items',
          `each item must be { task, payload, options? }, got ${show(item)}`,
        );
      }
      rows.push(await this.prepare(item.task, item.payload, item.options ?? {}));
    }
    const db = options.client ?? this.pool;
    const { rows: records } = (await db.query(this.sql.many, insertManyValues(rows))) as { rows: Inserted[] };
    // RETURNING gives no order guarantee; ids were assigned in input order.
    records.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    await this.announce(
      options.client,
      records.map((r, i) => ({ queue: rows[i]!.queue, delay_ms: r.delay_ms })),
    );
    const jobs = records.map((r, i) => insertedJob(rows[i]!, r));
    if (this.listenerCount('enqueued') > 0) for (const job of jobs) this.emit('enqueued', { job });
    return jobs;
  }

  private async prepare(task: string, payload: unknown, options: EnqueueOptions): Promise<JobRow> {
    if (typeof task !== 'string' || task.length === 0 || task.length > 128) {
      throw new InvalidOptionError('task', `must be a task name of 1 to 128 characters, got ${show(task)}`);
    }
    const def = this.tasks.get(task);
    if (!def && this.checksTaskNames) throw new UnknownTaskError(task, [...this.tasks.keys()]);
    const resolved = resolveJobOptions(options, def);
    if (def?.schema) await validatePayload(task, def.schema, payload);
    // The payload is stored as given, not as the schema's output: the worker validates it
    // again and hands the handler the output.
    return { task, payload: encodePayload(task, payload, this.maxPayloadBytes), ...resolved };
  }

  /**
   * Wakes workers for new jobs. Inside the caller's transaction the NOTIFY is queued there
   * and delivered at its COMMIT (and dropped on ROLLBACK); on our pool the job is already
   * committed, so a coalesced NOTIFY follows.
   */
  private async announce(client: Queryable | undefined, records: { queue: string; delay_ms: number }[]) {
    const soonest = new Map<string, number>();
    for (const r of records) soonest.set(r.queue, Math.min(r.delay_ms, soonest.get(r.queue) ?? Infinity));
    if (client) {
      await client.query(this.sql.notify, [[...soonest].map(([q, d]) => notifyPayload(q, d))]);
    } else {
      for (const [q, d] of soonest) this.notifier.nudge(q, d);
    }
  }

  /** Creates a worker for this queue's tasks. Call `start()` on it. */
  worker(options: WorkerOptions = {}): Worker {
    if (this.tasks.size === 0) throw new ConfigError('a worker needs tasks: pass `tasks` to the Queue');
    const worker = new Worker(
      this.connection,
      this.names,
      this.tasks,
      // A non-object is left for resolveWorkerOptions to refuse by name.
      options !== null && typeof options === 'object'
        ? { ...options, startupTimeout: options.startupTimeout ?? this.startupTimeout }
        : options,
      options.logger ?? this.logger,
    );
    this.workers.add(worker);
    return worker;
  }

  // ---- admin ------------------------------------------------------------------------------

  async getJob(id: string | bigint): Promise<(Job & { state: JobState }) | null> {
    const { rows } = await this.pool.query(getJobSql(this.names), [jobId(id)]);
    return rows[0] ? { ...toJob(rows[0]), state: rows[0].state } : null;
  }

  async listJobs(options: ListJobsOptions = {}): Promise<(Job & { state: JobState })[]> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InvalidOptionError('limit', `must be an integer from 1 to 1000, got ${show(limit)}`);
    }
    const desc = options.order === 'desc';
    if (options.order !== undefined && options.order !== 'asc' && !desc) {
      throw new InvalidOptionError('order', `must be 'asc' or 'desc', got ${show(options.order)}`);
    }
    if (options.state !== undefined && !STATES.includes(options.state)) {
      throw new InvalidOptionError(
        'state',
        `must be one of ${STATES.join(', ')}, got ${show(options.state)}`,
      );
    }
    const cursor = desc ? options.before : options.after;
    if ((desc ? options.after : options.before) !== undefined) {
      throw new InvalidOptionError(
        desc ? 'after' : 'before',
        `does not go with order '${desc ? 'desc' : 'asc'}'`,
      );
    }
    const { rows } = await this.pool.query(listJobsSql(this.names), [
      options.state ?? null,
      options.queue ?? null,
      options.task ?? null,
      cursor === undefined ? null : jobId(cursor),
      limit,
      desc,
    ]);
    return rows.map((r) => ({ ...toJob(r), state: r.state }));
  }

  /** Running jobs (their lock is held), longest-running first, with the worker's backend pid. */
  async runningJobs(
    options: { limit?: number } = {},
  ): Promise<(Job & { pid: number; runningMs: number | null })[]> {
    const limit = checkInt('limit', options.limit ?? 100, 1, 10_000);
    const { rows } = await this.pool.query(runningJobsSql(this.names), [limit]);
    return rows.map((r) => ({
      ...toJob(r),
      pid: r.pid,
      runningMs: r.running_ms === null ? null : Number(r.running_ms),
    }));
  }

  /** Makes a scheduled or retrying job due now, keeping its attempts, and wakes workers. */
  async runNow(id: string | bigint): Promise<Job> {
    const key = jobId(id);
    const { rows } = await this.pool.query(runNowSql(this.names), [key]);
    if (!rows[0]) throw await this.whyNot(key, 'runNow');
    this.notifier.nudge(rows[0].queue, 0);
    return toJob(rows[0]);
  }

  async countJobs(): Promise<QueueCounts[]> {
    const { rows } = await this.pool.query(countJobsSql(this.names));
    return rows;
  }

  /** Makes a failed or scheduled job available now, with its attempts reset. */
  async retryJob(id: string | bigint): Promise<Job> {
    const key = jobId(id);
    const { rows } = await this.pool.query(retryJobSql(this.names), [key]);
    if (!rows[0]) throw await this.whyNot(key);
    this.notifier.nudge(rows[0].queue, 0);
    return toJob(rows[0]);
  }

  /** Makes every failed job (of a queue and/or task) available again; returns how many. */
  async retryFailed(filter: { queue?: string; task?: string } = {}): Promise<number> {
    const { rows } = await this.pool.query(retryFailedSql(this.names), [
      filter.queue ?? null,
      filter.task ?? null,
    ]);
    for (const q of new Set(rows.map((r: { queue: string }) => r.queue))) this.notifier.nudge(q, 0);
    return rows.length;
  }

  /** Deletes a job that is not running (cancelling it if it had not started). */
  async deleteJob(id: string | bigint): Promise<Job> {
    const key = jobId(id);
    const { rows } = await this.pool.query(deleteJobSql(this.names), [key]);
    if (!rows[0]) throw await this.whyNot(key);
    return toJob(rows[0]);
  }

  /** Completed jobs and failed attempts per minute and queue, for the last `minutes` (default 60). */
  async jobStats(options: { minutes?: number } = {}): Promise<JobStat[]> {
    const minutes = checkInt('minutes', options.minutes ?? 60, 1, 1440);
    const { rows } = await this.pool.query(jobStatsSql(this.names), [minutes]);
    return rows;
  }

  /** Stops every worker, cluster-wide, from claiming from this queue; running jobs finish. */
  async pauseQueue(queue: string): Promise<void> {
    await this.pool.query(setPausedSql(this.names), [checkQueueName('queue', queue), true]);
  }

  /** Lets workers claim from this queue again, and wakes them. */
  async resumeQueue(queue: string): Promise<void> {
    await this.pool.query(setPausedSql(this.names), [checkQueueName('queue', queue), false]);
    this.notifier.nudge(queue, 0);
  }

  /** Why a single-job change matched no row: gone, failed (for runNow), or running. */
  private async whyNot(id: string, op?: 'runNow'): Promise<Error> {
    const { rows } = await this.pool.query(jobExistsSql(this.names), [id]);
    if (rows.length === 0) return new JobNotFoundError(id);
    if (op === 'runNow' && rows[0].failed) return new JobStateError(id, 'failed', 'retry it with retryJob()');
    return new JobRunningError(id);
  }

  /** Stops this queue's workers, sends pending notifications and closes the pool if it made it. */
  async close(): Promise<void> {
    this.closed = true;
    this.closeSignal.abort();
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.notifier.flush();
    if (this.ownsPool) await this.pool.end();
  }
}

const STATES: readonly JobState[] = ['available', 'scheduled', 'running', 'failed'];

function jobId(id: unknown): string {
  if (typeof id === 'bigint' && id > 0n) return id.toString();
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === 'string' && /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= 9223372036854775807n)
    return id;
  throw new InvalidOptionError(
    'id',
    `must be a positive bigint job id (string, bigint or safe integer), got ${show(id)}`,
  );
}

/** Identity helper that keeps each task's payload type for `enqueue`. */
export function defineTasks<M extends TaskMap>(tasks: M): M {
  return tasks;
}

/** Defines one task with options; with a schema, the handler receives the schema's output type. */
export function task<In, Out = In>(definition: TaskDefinition<In, Out>): TaskDefinition<In, Out> {
  return definition;
}
