export { Queue, defineTasks, task } from './queue.js';
export type { QueueOptions, QueueEvents, EnqueueManyItem, ListJobsOptions, QueueCounts, JobStat } from './queue.js';
export { Worker } from './worker.js';
export type { WorkerEvents } from './worker.js';
export type { WorkerOptions } from './worker-options.js';
export * from './errors.js';
export type {
  Backoff,
  EnqueueOptions,
  Job,
  JobContext,
  JobError,
  JobState,
  PayloadOf,
  Queryable,
  TaskDefinition,
  TaskHandler,
  TaskMap,
  TaskOptions,
  Tasks,
} from './types.js';
export type { Logger, LogLevel } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { DEFAULT_LOCK_NAMESPACE } from './sql/names.js';
export { loadMigrations } from './migrate.js';
