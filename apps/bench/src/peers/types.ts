import type { TracingMode } from './queue-tracing.js';
/**
 * The one small interface every system under test implements, so each workload is written
 * once. A peer module is imported lazily and on its own in the worker process, so that the
 * worker's memory holds only that peer's library.
 */

/** Where one peer's round runs: its own fresh database (and a Redis key prefix for Redis peers). */
export interface Target {
  databaseUrl: string;
  redisUrl: string;
  /** Unique per peer and round: Redis keys, queue names. */
  prefix: string;
}

/** Every job carries the producer's clock when its enqueue began and a sequence number. */
export interface JobPayload {
  /** Milliseconds, the producer's `now()` (see clock.ts); 0 for seeded jobs. */
  t: number;
  i: number;
}

export interface SeedSpec {
  /** Jobs due now. */
  available: number;
  /** Jobs due in a day: dead weight in the table. */
  scheduled: number;
  /** Jobs failed for good: dead weight in the table. */
  failed: number;
}

/** Producer-side handle on one peer's round: enqueue, inspect, reset. Lives in the bench process. */
export interface PeerClient {
  /** One job, resolved once the peer reports it stored. */
  enqueueOne(payload: JobPayload): Promise<void>;
  /** Many jobs through the peer's own bulk API. */
  enqueueBulk(payloads: JobPayload[]): Promise<void>;
  /** Jobs due now and not finished (available, locked or running). */
  pending(): Promise<number>;
  /** Empties the peer's job storage between workloads (TRUNCATE: new empty files, no bloat carried over). */
  reset(): Promise<void>;
  /**
   * Fills the table fast for the scale workload, straight into the peer's own tables with
   * INSERT … SELECT generate_series, rows shaped as the peer's own enqueue writes them.
   * Absent for peers without a table (Redis).
   */
  seed?(spec: SeedSpec): Promise<void>;
  /** The peer's record of finished jobs, where it is a setting (`Peer.historySwitch`). */
  history?: HistorySwitch;
  close(): Promise<void>;
}

/**
 * Turns a peer's record of finished jobs on and off. Off is the state every workload but
 * `history` runs in, set by the peer's `setup`; the history workload turns it on for its
 * drain and off again.
 */
export interface HistorySwitch {
  /** On: the peer's default retention. Off: nothing of a finished job is kept. */
  keep(on: boolean): Promise<void>;
  /** Finished jobs recorded, and how many of them went to a catch-all (DEFAULT) partition. */
  rows(): Promise<{ total: number; inDefault: number }>;
}

/** A worker that has been built and connected but does not consume yet. */
export interface PreparedWorker {
  /** Starts consuming; the drain clock starts just before this call. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** With tracing: the spans exported so far (after a flush). */
  spans?(): Promise<number>;
}

export interface Peer {
  /** CLI name: queue, graphile, pgboss, bullmq, bullmq-redis. */
  name: string;
  /** Library and version. */
  label: string;
  backend: 'postgres' | 'redis';
  /** The settings used, printed with the results. */
  settings: string;
  /** Whether an acknowledged enqueue survives a crash. */
  durable: boolean;
  /** What the peer keeps of a finished job, by default and as configured here: printed with the settings. */
  keeps: string;
  /** Its record of finished jobs is a setting the bench can switch (`PeerClient.history`): the history workload runs. */
  historySwitch?: boolean;
  /** Installs the peer's schema in the fresh database (or nothing, for Redis). */
  setup(target: Target): Promise<void>;
  client(target: Target): Promise<PeerClient>;
  /**
   * Runs in the worker process: builds the peer's worker with a no-op handler that calls
   * `onJob` with each job's payload as the handler starts.
   */
  prepareWorker(
    target: Target,
    onJob: (payload: JobPayload) => void,
    options?: { tracing?: TracingMode },
  ): Promise<PreparedWorker>;
}

/** Connections each producer side may open: 16 concurrent producers need 16. */
export const PRODUCER_POOL = 16;
export const QUEUE_NAME = 'bench';
export const TASK = 'noop';
