import type { Job, QueueAdmin, Worker } from '@queue/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DepthReader } from './depth.js';
import { MetricsConfigError } from './errors.js';

export interface QueueMetricsOptions {
  /**
   * The queue to measure. A Queue counts the jobs it enqueues; a QueueAdmin (the standalone
   * dashboard's) has only the database gauges.
   */
  queue: QueueAdmin;
  /**
   * Where the metrics register. Default: a Registry of their own. Pass prom-client's
   * `register` (or your Registry) to serve them with your app's metrics at one endpoint.
   */
  registry?: Registry;
  /** Starts every metric name. Default 'queue_'. */
  prefix?: string;
  /**
   * The database gauges (depth by state, running, paused, unrouted, oldest available job).
   * Default true. They are the same in every process: turn them off in all but a few.
   */
  database?: boolean;
  /**
   * Scrapes within this many ms share one database read, and core's full count is redone at
   * most this often once it gets slow (see DepthReader). Default 5,000; 0 reads on every scrape.
   */
  databaseMaxAgeMs?: number;
  /** Buckets of queue_job_duration_seconds, in seconds. */
  durationBuckets?: number[];
  /** Buckets of queue_job_wait_seconds, in seconds. */
  waitBuckets?: number[];
}

/** 5 ms to 15 min: handlers from a cache write to a report. */
export const DEFAULT_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];
/** 10 ms (a woken worker) to 1 h (a backlog). */
export const DEFAULT_WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** At most this many attempts are timed at once per collector (a lost lock emits no end). */
const MAX_TIMED = 100_000;

type JobLabels = { queue: string; task: string };

/**
 * Prometheus metrics for one queue: counters and histograms from this process's events
 * (`enqueued` on the Queue, `started`/`completed`/`retried`/`failed`/`cancelled`/`error` on each
 * observed Worker), gauges from the database, read when scraped.
 */
export class QueueMetrics {
  readonly registry: Registry;
  private readonly workers = new Map<Worker, () => void>();
  private readonly cleanups: (() => void)[] = [];
  private readonly names: string[] = [];
  /** When each attempt of this process started (performance.now()), by job id. */
  private readonly startedAt = new Map<string, number>();
  private closed = false;
  private readonly queue: QueueAdmin;

  private readonly enqueued: Counter<'queue' | 'task'>;
  private readonly started: Counter<'queue' | 'task'>;
  private readonly completed: Counter<'queue' | 'task'>;
  private readonly retried: Counter<'queue' | 'task'>;
  private readonly failed: Counter<'queue' | 'task'>;
  private readonly cancelled: Counter<'queue' | 'task'>;
  private readonly duration: Histogram<'queue' | 'task' | 'outcome'>;
  private readonly wait: Histogram<'queue' | 'task'>;
  private readonly workerErrors: Counter<'code'>;
  private readonly poolErrors: Counter;
  private readonly databaseErrors: Counter;

  constructor(options: QueueMetricsOptions) {
    const o = checkOptions(options);
    this.registry = o.registry;
    const p = o.prefix;
    const queue = o.queue;
    this.queue = queue;
    if (this.registry.getSingleMetric(`${p}jobs_enqueued_total`)) {
      throw new MetricsConfigError(
        `the registry has queue metrics named ${p}* already: close() the other QueueMetrics, or give this one another \`prefix\``,
      );
    }
    const registers = [this.registry];
    const add = <M>(metric: M, name: string): M => {
      this.names.push(name);
      return metric;
    };
    const counter = (name: string, help: string) =>
      add(new Counter({ name: p + name, help, labelNames: ['queue', 'task'] as const, registers }), p + name);

    this.enqueued = counter('jobs_enqueued_total', 'Jobs this process enqueued (inserted or replaced).');
    this.started = counter('jobs_started_total', 'Attempts this process started.');
    this.completed = counter('jobs_completed_total', 'Attempts this process completed.');
    this.retried = counter('jobs_retried_total', 'Attempts that failed and will run again.');
    this.failed = counter('jobs_failed_total', 'Jobs that failed for good (kept for inspection or a retry).');
    this.cancelled = counter('jobs_cancelled_total', 'Jobs cancelled while running or on claim.');
    this.duration = add(
      new Histogram({
        name: `${p}job_duration_seconds`,
        help: 'How long each attempt ran, by its outcome (completed, retried, failed, cancelled).',
        labelNames: ['queue', 'task', 'outcome'] as const,
        buckets: o.durationBuckets,
        registers,
      }),
      `${p}job_duration_seconds`,
    );
    this.wait = add(
      new Histogram({
        name: `${p}job_wait_seconds`,
        help: 'From when a job became due (run_at) to when its attempt started, database clock.',
        labelNames: ['queue', 'task'] as const,
        buckets: o.waitBuckets,
        registers,
      }),
      `${p}job_wait_seconds`,
    );
    this.workerErrors = add(
      new Counter({
        name: `${p}worker_errors_total`,
        help: 'Problems a worker recovered from, by error code (QUEUE_LOCK_LOST, QUEUE_SESSION_NOT_PINNED).',
        labelNames: ['code'] as const,
        registers,
      }),
      `${p}worker_errors_total`,
    );
    this.poolErrors = add(
      new Counter({
        name: `${p}pool_errors_total`,
        help: "Idle connections of the queue's pool that failed (the database restarted or the network dropped).",
        registers,
      }),
      `${p}pool_errors_total`,
    );
    this.databaseErrors = add(
      new Counter({
        name: `${p}metrics_database_errors_total`,
        help: 'Scrapes whose database gauges could not be read (they are left out of that scrape).',
        registers,
      }),
      `${p}metrics_database_errors_total`,
    );
    const workers = this.workers;
    add(
      new Gauge({
        name: `${p}worker_active_jobs`,
        help: "Jobs this process's workers are running now.",
        registers,
        collect() {
          let n = 0;
          for (const w of workers.keys()) n += w.activeCount;
          this.set(n);
        },
      }),
      `${p}worker_active_jobs`,
    );
    if (o.database) this.addDatabaseGauges(new DepthReader(queue, o.databaseMaxAgeMs), p);

    const onEnqueued = ({ job }: { job: Job }) => this.enqueued.inc(labels(job));
    // Only a Queue enqueues; a QueueAdmin has no such event (nor the listener API's event name).
    const emitter = queue as unknown as {
      on(e: 'enqueued', l: typeof onEnqueued): void;
      off(e: 'enqueued', l: typeof onEnqueued): void;
    };
    emitter.on('enqueued', onEnqueued);
    this.cleanups.push(() => emitter.off('enqueued', onEnqueued));
    const onPoolError = () => this.poolErrors.inc();
    queue.pool.on('error', onPoolError);
    this.cleanups.push(() => queue.pool.off('error', onPoolError));
  }

  /**
   * Counts what a worker does: attempts started and how they ended, with durations and waits.
   * Returns a function that stops observing it. A worker made by an adapter with a `metrics`
   * endpoint is observed already.
   */
  observe(worker: Worker): () => void {
    if (this.closed) throw new MetricsConfigError('observe(worker): these metrics are closed');
    if (!worker || typeof worker.on !== 'function' || typeof worker.activeCount !== 'number') {
      throw new MetricsConfigError('observe(worker): expected a Worker from @queue/core (queue.worker())');
    }
    const existing = this.workers.get(worker);
    if (existing) return existing;
    const ended = (job: Job, outcome: string, counter: Counter<'queue' | 'task'>, ms?: number) => {
      const l = labels(job);
      counter.inc(l);
      const t0 = this.startedAt.get(job.id);
      this.startedAt.delete(job.id);
      const took = ms ?? (t0 === undefined ? undefined : performance.now() - t0);
      if (took !== undefined) this.duration.observe({ ...l, outcome }, took / 1000);
    };
    const handlers = {
      started: ({ job }: { job: Job }) => {
        const l = labels(job);
        this.started.inc(l);
        if (this.startedAt.size >= MAX_TIMED) this.startedAt.delete(this.startedAt.keys().next().value!);
        this.startedAt.set(job.id, performance.now());
        // Both times are the database's, so clock skew between hosts does not enter.
        if (job.startedAt) {
          this.wait.observe(l, Math.max(0, (job.startedAt.getTime() - job.runAt.getTime()) / 1000));
        }
      },
      completed: ({ job, durationMs }: { job: Job; durationMs: number }) =>
        ended(job, 'completed', this.completed, durationMs),
      retried: ({ job }: { job: Job }) => ended(job, 'retried', this.retried),
      failed: ({ job }: { job: Job }) => ended(job, 'failed', this.failed),
      cancelled: ({ job }: { job: Job }) => ended(job, 'cancelled', this.cancelled),
      error: (error: Error) => {
        const code = (error as { code?: unknown }).code;
        this.workerErrors.inc({ code: typeof code === 'string' ? code : 'UNKNOWN' });
      },
    };
    for (const [event, handler] of Object.entries(handlers))
      worker.on(event as 'error', handler as () => void);
    const stop = () => {
      for (const [event, handler] of Object.entries(handlers))
        worker.off(event as 'error', handler as () => void);
      this.workers.delete(worker);
    };
    this.workers.set(worker, stop);
    return stop;
  }

  /** The exposition, for a route of your own: `res.type(contentType).send(body)`. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops observing the queue and workers and removes these metrics from the registry. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.workers.values()]) stop();
    for (const c of this.cleanups) c();
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }

  private addDatabaseGauges(reader: DepthReader, p: string): void {
    const registers = [this.registry];
    const errors = this.databaseErrors;
    const logger = this.queue.logger;
    // One read per scrape, shared by the gauges below (each one's collect awaits the same promise).
    const read = async () => {
      try {
        return await reader.read();
      } catch (error) {
        errors.inc();
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'metrics: reading the queue depth failed',
        );
        return undefined;
      }
    };
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (
        set: (labels: Record<L, string>, value: number) => void,
        s: NonNullable<Awaited<ReturnType<typeof read>>>,
      ) => void,
    ) => {
      this.names.push(p + name);
      new Gauge({
        name: p + name,
        help,
        labelNames,
        registers,
        async collect() {
          const s = await read();
          this.reset();
          if (s) fill((l, v) => this.set(l as never, v), s);
        },
      });
    };
    gauge(
      'jobs',
      'Jobs in the queue by state (available, scheduled, running, failed), cluster-wide, from the database.',
      ['queue', 'state'] as const,
      (set, s) => {
        for (const q of s.counts.queues)
          for (const state of ['available', 'scheduled', 'running', 'failed'] as const)
            set({ queue: q.queue, state }, q[state]);
      },
    );
    gauge(
      'paused',
      '1 while the queue is paused (workers claim nothing from it).',
      ['queue'] as const,
      (set, s) => {
        for (const q of s.counts.queues) set({ queue: q.queue }, q.paused ? 1 : 0);
      },
    );
    gauge(
      'unrouted_jobs',
      'Due jobs no live worker will run (no worker serves the queue, or none knows the task).',
      ['queue'] as const,
      (set, s) => {
        for (const q of s.counts.queues) set({ queue: q.queue }, q.unrouted);
      },
    );
    gauge(
      'oldest_available_job_age_seconds',
      'How long the first-enqueued available job has been due; 0 when none is available.',
      ['queue'] as const,
      (set, s) => {
        for (const q of s.counts.queues) set({ queue: q.queue }, s.oldestAvailableAge.get(q.queue) ?? 0);
      },
    );
    gauge(
      'counts_age_seconds',
      'How old the cached count behind queue_jobs{state="available"|"scheduled"|"failed"} is.',
      [] as const,
      (set, s) => set({}, Math.max(0, (Date.now() - s.counts.countedAt.getTime()) / 1000)),
    );
  }
}

/** Creates the metrics for a queue (see QueueMetricsOptions); call `observe(worker)` for each worker. */
export function createQueueMetrics(options: QueueMetricsOptions): QueueMetrics {
  return new QueueMetrics(options);
}

function labels(job: Job): JobLabels {
  return { queue: job.queue, task: job.task };
}

function checkOptions(options: QueueMetricsOptions) {
  if (options === null || typeof options !== 'object') {
    throw new MetricsConfigError('createQueueMetrics(options): options must be an object with `queue`');
  }
  const { queue } = options;
  if (!queue || typeof queue.jobCounts !== 'function' || typeof queue.listJobs !== 'function') {
    throw new MetricsConfigError('`queue` must be a Queue or QueueAdmin from @queue/core');
  }
  const registry = options.registry ?? new Registry();
  if (typeof registry.registerMetric !== 'function' || typeof registry.metrics !== 'function') {
    throw new MetricsConfigError('`registry` must be a prom-client Registry (or prom-client’s `register`)');
  }
  const prefix = options.prefix ?? 'queue_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new MetricsConfigError(
      `\`prefix\` must start a Prometheus metric name (letters, digits, _ and :, not a digit first), got ${JSON.stringify(prefix)}`,
    );
  }
  const maxAge = options.databaseMaxAgeMs ?? 5_000;
  if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > 3_600_000) {
    throw new MetricsConfigError(
      `\`databaseMaxAgeMs\` must be an integer from 0 to 3600000, got ${JSON.stringify(maxAge)}`,
    );
  }
  const buckets = (name: string, value: number[] | undefined, fallback: number[]) => {
    if (value === undefined) return fallback;
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.some((v, i) => !(v > 0) || (i > 0 && v <= value[i - 1]!))
    ) {
      throw new MetricsConfigError(
        `\`${name}\` must be increasing positive numbers of seconds, e.g. [0.1, 1, 10]`,
      );
    }
    return value;
  };
  const database = options.database ?? true;
  if (typeof database !== 'boolean') {
    throw new MetricsConfigError(`\`database\` must be true or false, got ${typeof database}`);
  }
  return {
    queue,
    registry,
    prefix,
    database,
    databaseMaxAgeMs: maxAge,
    durationBuckets: buckets('durationBuckets', options.durationBuckets, DEFAULT_DURATION_BUCKETS),
    waitBuckets: buckets('waitBuckets', options.waitBuckets, DEFAULT_WAIT_BUCKETS),
  };
}
