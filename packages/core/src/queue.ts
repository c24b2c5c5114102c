import { type ConnectionOptions, QueueAdmin } from './admin.js';
import { InsertBatcher } from './batcher.js';
import { Coalescer } from './coalescer.js';
import { ConfigError, InvalidLimitError, InvalidOptionError, UnknownTaskError } from './errors.js';
import { declareLimits, type LimitsMap, recordLimits } from './flow/declare.js';
import { concurrencyKeyOf, type KeyedRow, keyedInsert } from './flow/enqueue.js';
import type { LimitsOptions } from './flow/limits.js';
import {
  addMeta,
  checkInstrumentation,
  EXTRA_META,
  type Instrumentation,
  instrumentTasks,
  type WithExtraMeta,
} from './instrumentation.js';
import { type JobRow, resolveJobOptions, show } from './options.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodePayload, validatePayload } from './payload.js';
import { declareSchedules } from './schedules/declare.js';
import type { ScheduleDef, ScheduleMap } from './schedules/spec.js';
import {
  type Insert,
  type Inserted,
  insertedJob,
  insertedQueue,
  jobInserts,
  notifyPayload,
  notifySql,
} from './sql/enqueue.js';
import { registerTasksSql, registerTasksValues } from './sql/tasks.js';
import {
  ConflictGuess,
  insertUniqueSql,
  isUniqueRace,
  settleOneSql,
  settleOneValues,
  settlesAlone,
  type UniqueConflict,
  type UniqueRecord,
  uniqueInsert,
  uniqueJob,
} from './sql/unique.js';
import { checkTags, encodeMeta } from './tags-meta.js';
import { normalizeTasks, type TaskSpec, taskRegistrations, workerTasks } from './tasks.js';
import type {
  EnqueueOptions,
  Job,
  PayloadOf,
  Queryable,
  ResultOf,
  TaskDefinition,
  TaskMap,
} from './types.js';
import { checkUnique } from './unique.js';
import { type WaitOptions, Waits } from './wait.js';
import { Worker } from './worker.js';
import type { WorkerOptions } from './worker-options.js';
import { setEnqueueXid } from './xid.js';

export interface QueueOptions<M extends TaskMap = TaskMap> extends ConnectionOptions {
  /**
   * The task map: names, handlers, per-task options and schemas. A contract from
   * `defineTask()` (no handler) lets this queue enqueue a task that workers elsewhere run.
   */
  tasks?: M;
  /** Largest payload accepted, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Recurring jobs by schedule name, checked here and recorded by each worker when it starts
   * (the last writer wins; a schedule whose timing did not change keeps its next tick). See
   * the README's "Recurring jobs".
   */
  schedules?: ScheduleMap<M>;
  /**
   * Hooks around every enqueue and every job run, for tracing: `queueInstrumentation()` from
   * @queue/otel. None by default, and then they cost nothing. See instrumentation.ts.
   */
  instrumentation?: Instrumentation;
  /**
   * Flow limits by queue name (README "Flow control"), each a queue a task of the map goes to;
   * recorded by each worker when it starts (the last writer wins; fields not given stay).
   */
  limits?: LimitsMap;
}

export interface QueueEvents {
  enqueued: (event: { job: Job }) => void;
}

export type EnqueueManyItem<M extends TaskMap> = {
  [K in keyof M & string]: { task: K; payload: PayloadOf<M[K]>; options?: Omit<EnqueueOptions, 'client'> };
}[keyof M & string];

/**
 * The entry point: enqueue jobs (also inside your own transactions) and create workers. Every
 * read and management call comes from QueueAdmin, which it extends.
 */
export class Queue<M extends TaskMap = TaskMap> extends QueueAdmin<QueueEvents> {
  private readonly tasks: Map<string, TaskSpec>;
  /** With a task map, every job has its definition's options; without, the database fills them. */
  private readonly checksTaskNames: boolean;
  private readonly maxPayloadBytes: number;
  /** Workers made by worker(), stopped by close(). */
  private readonly ownWorkers = new Set<Worker>();
  private readonly sql: { notify: string; register: string; unique: string[]; settle: string[] };
  private readonly inserts: ReturnType<typeof jobInserts>;
  private readonly batcher: InsertBatcher;
  /** Coalesces single enqueues with a key in the default mode (see coalescer.ts). */
  private readonly uniqueBatcher: Coalescer<JobRow, Job>;
  /** For keyed enqueueMany batches on the pool (see ConflictGuess). */
  private readonly conflictGuess = new ConflictGuess();
  /** The schedules this queue declares, checked. */
  private readonly declared: ScheduleDef[];
  private readonly instrumentation: Instrumentation | undefined;
  /** The flow limits this queue declares, checked. */
  private readonly declaredLimits: [string, LimitsOptions][];

  constructor(options: QueueOptions<M>) {
    super(options);
    this.instrumentation = checkInstrumentation(options.instrumentation);
    const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(max) || max < 1)
      throw new ConfigError(`maxPayloadBytes must be a positive integer, got ${show(max)}`);
    this.maxPayloadBytes = max;
    this.checksTaskNames = options.tasks !== undefined;
    this.tasks = normalizeTasks(options.tasks);
    this.declared = declareSchedules(options.schedules, { tasks: this.taskMap(), maxPayloadBytes: max });
    this.declaredLimits = declareLimits(options.limits, this.tasks);
    // Every job of a queue with a task map carries its definition's options, so its inserts
    // skip the tasks table altogether; a queue without one lets the database fill them.
    const resolving = !this.checksTaskNames;
    this.inserts = jobInserts(this.names, resolving);
    this.sql = {
      notify: notifySql(this.names),
      register: registerTasksSql(this.names),
      // [on the pool, given `client` (with the transaction's id)]
      unique: [insertUniqueSql(this.names, false), insertUniqueSql(this.names, true)],
      settle: [settleOneSql(this.names, false), settleOneSql(this.names, true)],
    };
    // At most half the pool's connections carry coalesced enqueues, leaving room for the rest.
    const poolMax = (this.pool.options as { max?: number }).max ?? 10;
    this.batcher = new InsertBatcher(
      async (rows) => (await this.insert(this.pool, this.inserts.many(rows, false))).rows,
      Math.max(1, Math.floor(poolMax / 2)),
    );
    // A quarter of the pool for them: with the plain batcher's half, room is left for the rest.
    this.uniqueBatcher = new Coalescer(
      (rows) => this.enqueueUnique(rows, undefined),
      Math.max(1, Math.floor(poolMax / 4)),
    );
  }

  /**
   * Stores one job. Resolves once it is committed, or, with `options.client`, once it is
   * written in that client's transaction. Bad input throws before anything is written. With
   * `options.unique`, the Job may be an existing one (its `unique` says what happened).
   */
  async enqueue<K extends keyof M & string>(
    task: K,
    payload: PayloadOf<M[K]>,
    options: EnqueueOptions = {},
  ): Promise<Job<PayloadOf<M[K]>, K>> {
    this.assertOpen('enqueue()');
    // With a hook, this call comes back through the hook with its meta (EXTRA_META).
    if (this.instrumentation !== undefined && !(EXTRA_META in options)) {
      return this.traced(task, options, (extra) => this.enqueue(task, payload, extra)) as never;
    }
    const row = await this.prepare(task, payload, options, 'unique', (options as WithExtraMeta)[EXTRA_META]);
    if (row.unique) {
      // The locking modes go alone: a batch would hold every caller's key lock until it commits.
      const job =
        options.client || row.unique.mode !== 'queued'
          ? (await this.enqueueUnique([row], options.client))[0]
          : await this.uniqueBatcher.add(row);
      return job as Job<PayloadOf<M[K]>, K>;
    }
    const record: Inserted = (row as KeyedRow).concurrencyKey
      ? (await this.insert(options.client ?? this.pool, keyedInsert(this.names, [row], !!options.client)))
          .rows[0]
      : options.client
        ? (await this.insert(options.client, this.inserts.one(row, true))).rows[0]
        : await this.batcher.add(row);
    await this.announce(options.client, [{ queue: insertedQueue(row, record), delay_ms: record.delay_ms }]);
    const job = withXid(insertedJob(row, record), record) as Job<PayloadOf<M[K]>, K>;
    this.emit('enqueued', { job });
    return job;
  }

  /**
   * Stores many jobs in one statement (one transaction): all or none. Items with a unique key
   * are settled in input order; of items with the same key, the first wins.
   */
  async enqueueMany(
    items: readonly EnqueueManyItem<M>[],
    options: { client?: Queryable } = {},
  ): Promise<Job[]> {
    this.assertOpen('enqueueMany()');
    if (!Array.isArray(items)) throw new InvalidOptionError('items', `must be an array, got ${show(items)}`);
    if (items.length === 0) return [];
    if (this.instrumentation !== undefined && !(EXTRA_META in options)) {
      return this.traced(items, options, (extra) => this.enqueueMany(items, extra));
    }
    const extraMeta = (options as WithExtraMeta)[EXTRA_META];
    const rows: JobRow[] = [];
    for (const [i, item] of items.entries()) {
      if (item === null || typeof item !== 'object') {
        throw new InvalidOptionError(
          'items',
          `each item must be { task, payload, options? }, got ${show(item)}`,
        );
      }
      rows.push(
        await this.prepare(
          item.task,
          item.payload,
          item.options ?? {},
          `items[${i}].options.unique`,
          extraMeta,
        ),
      );
    }
    // Given `client`, the Jobs carry the enqueuing transaction's id (xid.ts); on the pool, not.
    const { client } = options;
    if (rows.some((r) => r.unique))
      return this.enqueueUnique(rows, client, client ? undefined : this.conflictGuess);
    const keyed = rows.some((r) => (r as KeyedRow).concurrencyKey);
    const insert = keyed ? keyedInsert(this.names, rows, !!client) : this.inserts.many(rows, !!client);
    const { rows: records } = (await this.insert(client ?? this.pool, insert)) as {
      rows: Inserted[];
    };
    // RETURNING gives no order guarantee; ids were assigned in input order.
    records.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    await this.announce(
      options.client,
      records.map((r, i) => ({ queue: insertedQueue(rows[i]!, r), delay_ms: r.delay_ms })),
    );
    const jobs = records.map((r, i) => withXid(insertedJob(rows[i]!, r), r));
    if (this.listenerCount('enqueued') > 0) for (const job of jobs) this.emit('enqueued', { job });
    return jobs;
  }

  /**
   * An enqueue call through the instrumentation hook, which calls back with the meta to add
   * (in the options, under EXTRA_META). Kept apart so that without a hook the enqueue paths
   * make no closure or object for it. A bad item is refused by name in the call back.
   */
  private async traced<O extends { client?: Queryable }, R>(
    what: string | readonly EnqueueManyItem<M>[],
    options: O,
    call: (options: O & WithExtraMeta) => Promise<R>,
  ): Promise<R> {
    const many = typeof what !== 'string';
    const operation = {
      operation: many ? 'enqueueMany' : 'enqueue',
      tasks: many ? what.map((item) => String((item as { task?: unknown } | null)?.task)) : [what],
      transactional: !!options.client,
    } as const;
    const jobs = await this.instrumentation!.enqueue(operation, async (meta) => {
      const result = await call({ ...options, [EXTRA_META]: meta });
      return (many ? result : [result]) as Job[];
    });
    return (many ? jobs : jobs[0]) as R;
  }

  /**
   * Jobs of which at least one has a unique key, in one call of insert_unique_jobs() (see
   * sql/unique.ts): one statement, so a batch is still all or none. Single enqueues in the
   * default mode come here coalesced (uniqueBatcher); those in the locking modes alone, since
   * they hold their keys' locks until the statement's transaction ends and one caller's wait
   * must not hold up another's. Wakes workers for the jobs inserted or replaced; `enqueued` is
   * emitted for those, not for deduplicated ones (nothing was written). `guess`: enqueueMany on
   * the pool, which may first try the cheaper statements that fail on a conflict (see
   * UniqueConflict), then sends the batch again as 'settle'.
   */
  private async enqueueUnique(
    rows: JobRow[],
    client: Queryable | undefined,
    guess?: ConflictGuess,
  ): Promise<Job[]> {
    const statement = (conflict: UniqueConflict) =>
      rows.length === 1 && settlesAlone(rows[0]!)
        ? settleOneValues(this.names, rows[0]!, this.sql.settle[Number(!!client)]!)
        : uniqueInsert(this.names, rows, this.sql.unique[Number(!!client)]!, conflict);
    const db = client ?? this.pool;
    const conflict = guess?.next() ?? 'settle';
    const { rows: records } = (await this.insert(db, statement(conflict)).then(
      (result) => {
        // A batch sent as 'raise' met no job of its keys (it would have failed): its deduplicated rows repeat a key of the batch.
        guess?.note(conflict === 'look' && result.rows.some((r) => r.outcome === 'deduplicated'));
        return result;
      },
      (error) => {
        if (!guess || !isUniqueRace(error)) throw error;
        guess.note(true);
        return this.insert(db, statement('settle'));
      },
    )) as { rows: UniqueRecord[] };
    const byOrd: UniqueRecord[] = [];
    for (const r of records) byOrd[r.ord - 1] = r;
    const jobs = rows.map((row, i) => {
      const record = byOrd[i];
      if (!record)
        throw new Error(`insert_unique_jobs() returned no row for item ${i}: a bug in @queue/core`);
      return withXid(uniqueJob(row, record), record) as Job;
    });
    // The Job's queue: a record's is NULL for a row inserted with its queue given.
    const written: { queue: string; delay_ms: number }[] = [];
    for (const [i, job] of jobs.entries())
      if (byOrd[i]!.outcome !== 'deduplicated')
        written.push({ queue: job.queue, delay_ms: byOrd[i]!.delay_ms });
    await this.announce(client, written);
    if (this.listenerCount('enqueued') > 0) {
      for (const [i, job] of jobs.entries())
        if (byOrd[i]!.outcome !== 'deduplicated') this.emit('enqueued', { job });
    }
    return jobs;
  }

  /** Runs an INSERT, naming an outdated schema (the cause of a missing table or function). */
  private async insert(db: Queryable, { text, values }: Insert) {
    try {
      return await db.query(text, values);
    } catch (error) {
      throw this.outdated(error, 'enqueue');
    }
  }

  /**
   * A missing table or function (42P01 undefined_table, 42883 undefined_function) means a
   * schema this version of the package has not migrated: say so, and how to fix it.
   */
  private outdated(error: unknown, call: string): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== '42P01' && code !== '42883') return error;
    return new ConfigError(
      `${call}: ${(error as Error).message}: the queue's schema ${this.names.q} is missing or older than ` +
        'this version of @queue/core. Run queue.migrate() (or `queue migrate`) first',
    );
  }

  /** `uniqueOption` names the `unique` option in errors (`unique`, `items[2].options.unique`). */
  private async prepare(
    task: string,
    payload: unknown,
    options: EnqueueOptions,
    uniqueOption: string,
    extraMeta?: Record<string, unknown>,
  ): Promise<JobRow> {
    if (typeof task !== 'string' || task.length === 0 || task.length > 128) {
      throw new InvalidOptionError('task', `must be a task name of 1 to 128 characters, got ${show(task)}`);
    }
    const def = this.tasks.get(task);
    if (!def && this.checksTaskNames) throw new UnknownTaskError(task, [...this.tasks.keys()]);
    const resolved = resolveJobOptions(options, def);
    const tags = checkTags(task, options.tags);
    const meta = addMeta(encodeMeta(task, options.meta), extraMeta);
    const unique =
      options.unique === undefined ? undefined : checkUnique(task, payload, options, uniqueOption);
    if (def?.schema) await validatePayload(task, def.schema, payload);
    // The payload is stored as given, not as the schema's output: the worker validates it
    // again and hands the handler the output.
    const row: JobRow = {
      task,
      payload: encodePayload(task, payload, this.maxPayloadBytes),
      ...resolved,
      tags,
      meta,
    };
    if (unique) row.unique = unique;
    const key = concurrencyKeyOf(task, payload, options.concurrencyKey, def?.concurrencyKey);
    if (key !== undefined) {
      if (unique) throw new InvalidLimitError('concurrencyKey', 'cannot be combined with `unique` yet');
      (row as KeyedRow).concurrencyKey = key;
    }
    return row;
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

  /**
   * Records the enqueue options (queue, priority, maxAttempts) of every task in this queue's
   * task map in the database's tasks table, in one statement, for producers that enqueue the
   * tasks without their definitions (SQL `enqueue()`, other languages, `Queue<Tasks<…>>`).
   * Workers call it when they start and `migrate()` after migrating; the last writer wins.
   */
  async registerTasks(): Promise<void> {
    this.assertOpen('registerTasks()');
    await this.recordTasks(this.tasks);
  }

  /** Migrates (see QueueAdmin.migrate), then records this queue's task options (registerTasks). */
  override async migrate(options: { startupTimeout?: number } = {}): Promise<number[]> {
    const applied = await super.migrate(options);
    await this.recordTasks(this.tasks);
    return applied;
  }

  private async recordTasks(tasks: ReadonlyMap<string, TaskSpec>): Promise<void> {
    if (tasks.size === 0) return;
    try {
      await this.pool.query(this.sql.register, registerTasksValues(taskRegistrations(tasks)));
    } catch (error) {
      throw this.outdated(error, 'recording task options');
    }
  }

  /** Creates a worker for this queue's tasks. Call `start()` on it. */
  worker(options: WorkerOptions = {}): Worker {
    this.assertOpen('worker()');
    if (this.tasks.size === 0) throw new ConfigError('a worker needs tasks: pass `tasks` to the Queue');
    const tasks: ReadonlyMap<string, TaskDefinition> = instrumentTasks(
      workerTasks(this.tasks),
      this.instrumentation,
    );
    const worker = new Worker(
      this.connection,
      this.names,
      tasks,
      // A non-object is left for resolveWorkerOptions to refuse by name.
      options !== null && typeof options === 'object'
        ? {
            ...options,
            startupTimeout: options.startupTimeout ?? this.startupTimeout,
            maxResultBytes: options.maxResultBytes ?? this.maxPayloadBytes,
          }
        : options,
      options.logger ?? this.logger,
      this.pool,
      async () => {
        await this.recordTasks(tasks);
        await this.schedules('worker.start()').register(this.declared);
        await recordLimits(this.pool, this.names, this.declaredLimits);
      },
    );
    this.ownWorkers.add(worker);
    return worker;
  }

  /** @internal Schedule calls check task names and payload schemas against the task map. */
  protected override schedules(call: string) {
    return super.schedules(call, this.taskMap(), this.maxPayloadBytes);
  }

  private taskMap(): ReadonlyMap<string, TaskSpec> | undefined {
    return this.checksTaskNames ? this.tasks : undefined;
  }

  /**
   * Stops this queue's workers (see Worker.stop), waits for enqueues in flight, sends
   * pending wake-ups and closes the pool if it made it. Safe twice.
   */
  protected override async shutdown(): Promise<void> {
    await Promise.all([...this.ownWorkers].map((w) => w.stop()));
    await Promise.all([this.batcher.close(), this.uniqueBatcher.close()]);
    await super.shutdown();
  }

  /** The waits of waitFor(), made by the first one. */
  private waits: Waits | undefined;

  /**
   * Resolves with job's result once it has completed; rejects with JobFailedError once it has
   * failed for good, JobCancelledError once cancelled, WaitTimeoutError after `timeout` ms, the
   * signal's reason when `signal` aborts. Give the Job an enqueue with `client` returned to wait
   * through its transaction's commit (JobRolledBackError if it rolls back). README: "Waiting for a job".
   */
  async waitFor<K extends keyof M & string>(job: Job<any, K>, options?: WaitOptions): Promise<ResultOf<M[K]>>;
  async waitFor<R = unknown>(job: string | bigint | Job, options?: WaitOptions): Promise<R>;
  async waitFor<R = unknown>(job: string | bigint | Job, options: WaitOptions = {}): Promise<R> {
    this.assertOpen('waitFor()');
    this.waits ??= new Waits(this.pool, this.connection, this.names, this.logger);
    return this.waits.wait<R>(job, options);
  }

  /** Rejects pending waits (WaitClosedError) and closes their connection, then as QueueAdmin.close. */
  override close(): Promise<void> {
    const waits = this.waits?.close();
    return super.close().then(() => waits);
  }
}

/** The Job with its enqueuing transaction's id, when the INSERT returned one (given `client`). */
function withXid(job: Job, record: Inserted): Job {
  return record.xid === undefined ? job : setEnqueueXid(job, record.xid);
}

/** Identity helper that keeps each task's payload type for `enqueue`. */
export function defineTasks<M extends TaskMap>(tasks: M): M {
  return tasks;
}

/** Defines one task with options; with a schema, the handler receives the schema's output type. */
export function task<In, Out = In, Result = unknown>(
  definition: TaskDefinition<In, Out, Result>,
): TaskDefinition<In, Out, Result> {
  return definition;
}
