export type {
  AdapterBehaviour,
  AdapterOptions,
  AdapterWorkerOptions,
  QueueFor,
  QueueSource,
  ResolvedAdapterOptions,
} from './adapter-options.js';
export { resolveAdapterOptions } from './adapter-options.js';
export type {
  ConnectionOptions,
  JobCounts,
  JobList,
  ListedJob,
  ListJobsOptions,
  QueueCounts,
  RunningJob,
} from './admin.js';
export { QueueAdmin } from './admin.js';
export type { JobSelection } from './bulk.js';
export type { CancelJobsFilter, CancelResult } from './cancel.js';
export type { DrainScope } from './drain.js';
export { drainScope, queueTables } from './drain.js';
export * from './errors.js';
export type { ConcurrencyKeyOption } from './flow/enqueue.js';
export type { FlowLimits, LimitsOptions, LimitUsage, QueueLimits, RateLimit } from './flow/limits.js';
export type { AttemptOutcome, EnqueueOperation, Instrumentation } from './instrumentation.js';
export { parseJobId } from './job-id.js';
export type { JobStat, JobStatsOptions } from './job-stats.js';
export type { Logger, LogLevel } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';
export type { MetricsHandler, MetricsMount, MetricsRequest, MetricsResponse } from './metrics-mount.js';
export { checkMetricsMount } from './metrics-mount.js';
export { loadMigrations } from './migrate.js';
export { DEFAULT_STARTUP_TIMEOUT } from './options.js';
export { InvalidProgressError, MAX_PROGRESS_BYTES } from './progress.js';
export type { EnqueueManyItem, QueueEvents, QueueOptions } from './queue.js';
export { defineTasks, Queue, task } from './queue.js';
export type { QueueRetention, RetentionOptions, RetentionSettings } from './retention.js';
export { RETENTION_DEFAULTS } from './retention.js';
export type { ListedSchedule } from './schedules/admin.js';
export type { CatchUp, Schedule, ScheduleChanges, ScheduleMap, ScheduleSpec } from './schedules/spec.js';
export type { ShutdownParticipant, ShutdownPhase } from './shutdown.js';
export { onShutdownSignal, shutdownInProgress } from './shutdown.js';
export { DEFAULT_LOCK_NAMESPACE } from './sql/names.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { defineTask } from './tasks.js';
export type { CheckedOut } from './transaction.js';
export { begin, checkOut, checkPool, endTransaction, withTransaction } from './transaction.js';
export type {
  Backoff,
  EnqueueOptions,
  FinishedJob,
  Job,
  JobContext,
  JobError,
  JobOutcome,
  JobState,
  PayloadOf,
  Queryable,
  ResultOf,
  TaskContract,
  TaskDefinition,
  TaskHandler,
  TaskMap,
  TaskOptions,
  Tasks,
} from './types.js';
export type { UniqueMode, UniqueOptions, UniqueOutcome, UniqueResult } from './unique.js';
export type { WaitOptions } from './wait.js';
export type { WorkerEvents } from './worker.js';
export { Worker } from './worker.js';
export type { WorkerOptions } from './worker-options.js';
export type { LiveWorker, Unrouted, UnroutedJobs, UnroutedReason } from './workers.js';
