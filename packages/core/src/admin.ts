import pg from 'pg';
import { deleteFromHistory, deleteJobs, type JobSelection, retryFromHistory, retryJobs } from './bulk.js';
import { type CancelJobsFilter, type CancelResult, cancelJob, cancelJobs } from './cancel.js';
import type { ConnectionConfig } from './connection.js';
import { type ConnectionOptions, missingConnection } from './connection-options.js';
import { CountCache } from './count-cache.js';
import { TypedEmitter } from './emitter.js';
import {
  ConfigError,
  InvalidOptionError,
  JobNotFoundError,
  JobRunningError,
  JobStateError,
  QueueClosedError,
} from './errors.js';
import {
  getLimits,
  type LimitsOptions,
  type LimitUsage,
  limitUsage,
  type QueueLimits,
  setLimits,
} from './flow/limits.js';
import { type JobCounts, overview, type QueueCounts, type ScanRow, scanRows } from './job-counts.js';
import { getJob, type JobList, type ListedJob, type ListJobsOptions, listJobs } from './job-list.js';
import { type JobStat, type JobStatsOptions, jobStats } from './job-stats.js';

export type { ConnectionOptions } from './connection-options.js';
export type { JobCounts, QueueCounts } from './job-counts.js';
export type { JobList, ListedJob, ListJobsOptions } from './job-list.js';
export type { RunningJob } from './running-jobs.js';

import { migrateWithHistory } from './history.js';
import { parseJobId } from './job-id.js';
import { consoleLogger, type Logger } from './logger.js';
import { trackMigration } from './migrate.js';
import { Notifier } from './notifier.js';
import { checkInt, checkQueueName, checkStartupTimeout, show } from './options.js';
import { getRetention, type QueueRetention, type RetentionOptions, setRetention } from './retention.js';
import { type RunningJob, runningJobs } from './running-jobs.js';
import { type ListedSchedule, type ScheduleAdmin, scheduleAdmin } from './schedules/admin.js';
import type { Schedule, ScheduleChanges, ScheduleSpec } from './schedules/spec.js';
import {
  countJobsSql,
  deleteJobSql,
  jobExistsSql,
  pausedQueuesSql,
  retryFailedSql,
  retryJobSql,
  runNowSql,
  scanCountsSql,
  setPausedSql,
} from './sql/admin.js';
import { makeNames, type Names } from './sql/names.js';
import { toJob } from './sql/rows.js';
import { routingSql, workersSql } from './sql/workers.js';
import { untilReachable } from './startup.js';
import type { TaskSpec } from './tasks.js';
import type { Job } from './types.js';
import {
  type LiveWorker,
  toDueGroup,
  toLiveWorker,
  type Unrouted,
  type UnroutedJobs,
  unrouted,
  whyUnrouted,
} from './workers.js';

/**
 * Reads and manages jobs: the admin client the dashboard and the CLI use, and the base of
 * `Queue` (which adds enqueue and workers). It owns the pool (unless given one), the
 * statement names and the coalesced NOTIFY that wakes workers after a management call.
 * Works without any task definitions.
 */
export class QueueAdmin<
  Events extends { [K in keyof Events]: (...args: any[]) => void } = {},
> extends TypedEmitter<Events> {
  /** The pool enqueue and admin calls use: yours if you gave one, else the queue's own. */
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** @internal */
  protected readonly names: Names;
  /** @internal How workers open their own session connections. */
  protected readonly connection: ConnectionConfig;
  /** @internal */
  protected readonly notifier: Notifier;
  private readonly ownsPool: boolean;
  private readonly counts: CountCache<ScanRow>;
  private closing: Promise<void> | undefined;
  /** Aborted by close(): ends a migrate() that is waiting for Postgres. */
  private readonly closeSignal = new AbortController();
  /** How long migrate() and worker.start() wait for an unreachable Postgres (see the option). */
  readonly startupTimeout: number;

  constructor(options: ConnectionOptions) {
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
      throw new ConfigError(missingConnection(options));
    }
    // An idle connection dropping is not the app's problem; once we are closing, it is expected.
    this.pool.on('error', (error) => {
      if (!this.closing) this.logger.warn({ err: error.message }, 'idle pool connection failed');
    });
    this.notifier = new Notifier(this.pool, this.names, this.logger);
    this.counts = new CountCache(async () =>
      scanRows((await this.pool.query(scanCountsSql(this.names))).rows),
    );
  }

  /** True once close() has begun: every call after it throws QueueClosedError. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal Throws QueueClosedError after close(). */
  protected assertOpen(call: string): void {
    if (this.closing) throw new QueueClosedError(call);
  }

  /**
   * Creates or updates the queue's schema. Safe when many processes call it at once. While
   * Postgres cannot be reached it retries for `startupTimeout` (the queue's, unless given
   * here), then throws DatabaseUnavailableError; close() ends the wait.
   */
  async migrate(options: { startupTimeout?: number } = {}): Promise<number[]> {
    this.assertOpen('migrate()');
    const run = untilReachable(() => migrateWithHistory(this.pool, this.names, this.logger), {
      operation: 'migrate()',
      config: this.connection,
      timeoutMs: checkStartupTimeout(options?.startupTimeout, this.startupTimeout),
      logger: this.logger,
      signal: this.closeSignal.signal,
    });
    // This queue's workers starting meanwhile check the schema once it is done.
    return trackMigration(this.names, run);
  }

  /**
   * A job by id: from the live table, else (completed or cancelled, while its queue's retention
   * keeps it) from the history, as a FinishedJob with `state` 'completed' or 'cancelled'. Null
   * when neither has it.
   */
  async getJob(id: string | bigint): Promise<ListedJob | null> {
    this.assertOpen('getJob()');
    return getJob(this.pool, this.names, id);
  }

  /**
   * One page of jobs, filtered (see ListJobsOptions), keyset-paged: the result is an array that
   * also carries `cursor` for the next page (null on the last).
   */
  async listJobs(options: ListJobsOptions = {}): Promise<JobList> {
    this.assertOpen('listJobs()');
    return listJobs(this.pool, this.names, options);
  }

  /** Running jobs (their lock is held), longest-running first, with the worker's session. */
  async runningJobs(options: { limit?: number } = {}): Promise<RunningJob[]> {
    this.assertOpen('runningJobs()');
    return runningJobs(this.pool, this.names, options);
  }

  /** Exact counts per queue and state, in one statement (a full scan joined with the lock table). */
  async countJobs(): Promise<QueueCounts[]> {
    this.assertOpen('countJobs()');
    const { rows } = await this.pool.query(countJobsSql(this.names));
    return rows;
  }

  /**
   * Counts for dashboards and metrics, cheap at any table size: running jobs and pauses are
   * read fresh; available, scheduled and failed come from a scan that is redone on every
   * call while it takes under 50 ms, otherwise at most every max(`maxAgeMs`, 20 × its
   * duration), in the background. Default `maxAgeMs` 2,000.
   */
  async jobCounts(options: { maxAgeMs?: number } = {}): Promise<JobCounts> {
    this.assertOpen('jobCounts()');
    const maxAge = checkInt('maxAgeMs', options.maxAgeMs ?? 2_000, 0, 86_400_000);
    const [scan, paused, running, workers] = await Promise.all([
      this.counts.get(maxAge),
      this.pool.query(pausedQueuesSql(this.names)),
      this.runningJobs({ limit: 10_000 }),
      this.workers(),
    ]);
    return overview(scan, paused.rows, running, workers);
  }

  /**
   * The workers running now, cluster-wide. A worker registers a row when its claimer session
   * connects; the row is live while that session holds its marker lock, so a worker that was
   * killed or lost its connection is gone from this list the moment Postgres ends its session.
   */
  async workers(): Promise<LiveWorker[]> {
    this.assertOpen('workers()');
    const { rows } = await this.pool.query(workersSql(this.names));
    return rows.map(toLiveWorker);
  }

  /**
   * Due jobs that no live worker will run, per queue and task, with why: no live worker
   * serves the queue, or none of those that do knows the task. Only groups whose oldest job
   * has been due for `graceMs` (default 0) or longer. One statement: a scan of the jobs
   * table (~110 ms per 1,000,000 jobs here) and the live workers, in one snapshot.
   */
  async unroutedJobs(options: { graceMs?: number } = {}): Promise<UnroutedJobs[]> {
    this.assertOpen('unroutedJobs()');
    const grace = checkInt('graceMs', options.graceMs ?? 0, 0, 86_400_000 * 365);
    const { rows } = await this.pool.query(routingSql(this.names));
    return unrouted(rows[0].due.map(toDueGroup), rows[0].workers.map(toLiveWorker), grace);
  }

  /**
   * Why no live worker would run a job of `task` on `queue` now, or null when one would
   * (cheap: the workers table and the lock table only, no scan of jobs).
   */
  async unroutedReason(queue: string, task: string): Promise<Unrouted | null> {
    this.assertOpen('unroutedReason()');
    return whyUnrouted(await this.workers(), checkQueueName('queue', queue), checkName('task', task));
  }

  /** Makes a scheduled or retrying job due now, keeping its attempts, and wakes workers. */
  async runNow(id: string | bigint): Promise<Job> {
    this.assertOpen('runNow()');
    const key = parseJobId(id);
    const { rows } = await this.pool.query(runNowSql(this.names), [key]);
    if (!rows[0]) throw await this.whyNot(key, 'runNow');
    this.changed(rows[0].queue);
    return toJob(rows[0]);
  }

  /**
   * Makes a failed or scheduled job available now, with its attempts reset; a completed or
   * cancelled job still in the history goes back in the queue under the same id.
   */
  async retryJob(id: string | bigint): Promise<Job> {
    this.assertOpen('retryJob()');
    const key = parseJobId(id);
    const { rows } = await this.pool.query(retryJobSql(this.names), [key]);
    const job = rows[0]
      ? toJob(rows[0])
      : (await retryFromHistory(this.pool, this.names, [[key], null, null, null]))[0];
    if (!job) throw await this.whyNot(key);
    this.changed(job.queue);
    return job;
  }

  /** Retries the selected jobs that are not running (see JobSelection); returns how many. */
  async retryJobs(selection: JobSelection): Promise<number> {
    this.assertOpen('retryJobs()');
    const touched = await retryJobs(this.pool, this.names, selection);
    for (const q of new Set(touched.map((t) => t.queue))) this.changed(q);
    return touched.length;
  }

  /** Deletes the selected jobs that are not running, live or in the history; returns how many. */
  async deleteJobs(selection: JobSelection): Promise<number> {
    this.assertOpen('deleteJobs()');
    const ids = await deleteJobs(this.pool, this.names, selection);
    this.counts.invalidate();
    return ids.length;
  }

  /** Makes every failed job (of a queue and/or task) available again; returns how many. */
  async retryFailed(filter: { queue?: string; task?: string } = {}): Promise<number> {
    this.assertOpen('retryFailed()');
    const { rows } = await this.pool.query(retryFailedSql(this.names), [
      filter.queue ?? null,
      filter.task ?? null,
    ]);
    for (const q of new Set(rows.map((r: { queue: string }) => r.queue))) this.changed(q);
    return rows.length;
  }

  /**
   * Deletes a job that is not running, without a trace (cancelJob() records a 'cancelled'
   * outcome instead), or a finished job's history row.
   */
  async deleteJob(id: string | bigint): Promise<Job> {
    this.assertOpen('deleteJob()');
    const key = parseJobId(id);
    const { rows } = await this.pool.query(deleteJobSql(this.names), [key]);
    const job = rows[0]
      ? toJob(rows[0])
      : (await deleteFromHistory(this.pool, this.names, [[key], null, null, null]))[0];
    if (!job) throw await this.whyNot(key);
    this.counts.invalidate();
    return job;
  }

  /**
   * Completed jobs, failed attempts and run-time percentiles per minute (or wider bucket) and
   * queue, for the last `minutes` (default 60, at most 7 days).
   */
  async jobStats(options: JobStatsOptions = {}): Promise<JobStat[]> {
    this.assertOpen('jobStats()');
    return jobStats(this.pool, this.names, options);
  }

  /** Stops every worker, cluster-wide, from claiming from this queue; running jobs finish. */
  async pauseQueue(queue: string): Promise<void> {
    this.assertOpen('pauseQueue()');
    await this.pool.query(setPausedSql(this.names), [checkQueueName('queue', queue), true]);
  }

  /** Lets workers claim from this queue again, and wakes them. */
  async resumeQueue(queue: string): Promise<void> {
    this.assertOpen('resumeQueue()');
    await this.pool.query(setPausedSql(this.names), [checkQueueName('queue', queue), false]);
    this.notifier.nudge(queue, 0);
  }

  /** Checks that the database answers (one `SELECT 1` through the pool). */
  async ping(): Promise<void> {
    this.assertOpen('ping()');
    await this.pool.query('SELECT 1');
  }

  /**
   * Sends pending wake-ups and closes the pool if it made it. Safe twice; every call
   * after it throws QueueClosedError.
   */
  close(): Promise<void> {
    this.closeSignal.abort();
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** @internal What closing involves; `Queue` stops its workers and enqueues first. */
  protected async shutdown(): Promise<void> {
    await this.notifier.close();
    if (this.ownsPool) await this.pool.end();
  }

  private changed(queue: string): void {
    this.counts.invalidate();
    this.notifier.nudge(queue, 0);
  }

  /** Why a single-job change matched no row: gone, failed (for runNow), or running. */
  private async whyNot(id: string, op?: 'runNow'): Promise<Error> {
    const { rows } = await this.pool.query(jobExistsSql(this.names), [id]);
    if (rows.length === 0) return new JobNotFoundError(id);
    if (op === 'runNow' && rows[0].failed) return new JobStateError(id, 'failed', 'retry it with retryJob()');
    return new JobRunningError(id);
  }

  /** Cancels a job: removes it if queued, else has its worker abort it (README: "Cancelling"). */
  async cancelJob(id: string | bigint): Promise<CancelResult> {
    this.assertOpen('cancelJob()');
    return cancelJob(this.pool, this.names, id).finally(() => this.counts.invalidate());
  }

  /** Cancels the queued jobs of a queue and/or task, not running ones; returns how many. */
  async cancelJobs(filter: CancelJobsFilter = {}): Promise<number> {
    this.assertOpen('cancelJobs()');
    return cancelJobs(this.pool, this.names, filter).finally(() => this.counts.invalidate());
  }

  // ---- schedules: recurring jobs (src/schedules/admin.ts; the README's "Recurring jobs") ----
  /** Stores a new schedule; ScheduleExistsError if the name is taken. */
  createSchedule(name: string, spec: ScheduleSpec): Promise<Schedule> {
    return this.schedules('createSchedule()').create(name, spec);
  }
  /** Changes fields of a schedule; a new cron, every or timeZone restarts it from the next tick. */
  updateSchedule(name: string, changes: ScheduleChanges): Promise<Schedule> {
    return this.schedules('updateSchedule()').update(name, changes);
  }
  /** Stops firing the schedule's ticks, cluster-wide, until resumeSchedule(). */
  pauseSchedule(name: string): Promise<Schedule> {
    return this.schedules('pauseSchedule()').pause(name);
  }
  /** Fires ticks again from the first one after now (ticks in the pause are not caught up). */
  resumeSchedule(name: string): Promise<Schedule> {
    return this.schedules('resumeSchedule()').resume(name);
  }
  /** Deletes a schedule; the jobs it enqueued stay. */
  deleteSchedule(name: string): Promise<Schedule> {
    return this.schedules('deleteSchedule()').delete(name);
  }
  getSchedule(name: string): Promise<Schedule | null> {
    return this.schedules('getSchedule()').get(name);
  }
  /** Every schedule, with the queue its jobs go to and whether a live worker would run them. */
  listSchedules(): Promise<ListedSchedule[]> {
    return this.schedules('listSchedules()').list();
  }
  /** Enqueues the schedule's job now (meta.manual), leaving its ticks as they are. */
  runScheduleNow(name: string): Promise<Job> {
    return this.schedules('runScheduleNow()').runNow(name);
  }
  /** @internal The schedule calls; a Queue checks them against its task map. */
  protected schedules(call: string, tasks?: ReadonlyMap<string, TaskSpec>, maxBytes?: number): ScheduleAdmin {
    this.assertOpen(call);
    return scheduleAdmin(this.pool, this.names, () => this.workers(), tasks, maxBytes);
  }

  /** Sets a queue's retention of finished and failed jobs (README: History and retention). */
  async setRetention(queue: string, options: RetentionOptions): Promise<QueueRetention> {
    this.assertOpen('setRetention()');
    return setRetention(this.pool, this.names, queue, options);
  }

  /** Sets a queue's flow limits; fields not given stay, null removes one (README: Flow control). */
  async setLimits(queue: string, limits: LimitsOptions): Promise<QueueLimits> {
    this.assertOpen('setLimits()');
    return setLimits(this.pool, this.names, queue, limits);
  }

  /** One queue's flow limits, or those of every queue that has any. */
  getLimits(): Promise<QueueLimits[]>;
  getLimits(queue: string): Promise<QueueLimits>;
  async getLimits(queue?: string): Promise<QueueLimits | QueueLimits[]> {
    this.assertOpen('getLimits()');
    return getLimits(this.pool, this.names, queue);
  }

  /** A queue's limits and their use now: slots in use, recent starts, waiting and running by key. */
  async limitUsage(queue: string, options: { maxKeys?: number } = {}): Promise<LimitUsage> {
    this.assertOpen('limitUsage()');
    return limitUsage(this.pool, this.names, queue, options);
  }

  /** One queue's retention in force, or that of every queue with settings of its own. */
  getRetention(): Promise<QueueRetention[]>;
  getRetention(queue: string): Promise<QueueRetention>;
  async getRetention(queue?: string): Promise<QueueRetention | QueueRetention[]> {
    this.assertOpen('getRetention()');
    return getRetention(this.pool, this.names, queue);
  }
}

function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new InvalidOptionError(option, `must be a name of 1 to 128 characters, got ${show(value)}`);
  }
  return value;
}
