export type { AdapterBehaviour, AdapterWorkerOptions } from '@queue/core';
export { SchemaNotMigratedError, withTransaction } from '@queue/core';
export type {
  ContractTaskDecorator,
  ProcessorOptions,
  ScheduleDecoratorOptions,
  TaskDecoratorOptions,
  TaskMethod,
} from './decorators.js';
export { InjectQueue, InjectWorker, Processor, QUEUE, QUEUE_WORKER, Schedule, Task } from './decorators.js';
export type { ProcessorErrorCode } from './errors.js';
export { DuplicateScheduleError, DuplicateTaskError, ProcessorDefinitionError } from './errors.js';
export { nestLogger } from './logger.js';
export { getQueueToken, NamedQueue } from './named-queue.js';
export type { QueueModuleAsyncOptions, QueueModuleOptions, QueueOptionsFactory } from './options.js';
export { QUEUE_MODULE_OPTIONS } from './options.js';
export { QueueModule } from './queue.module.js';
export type { Register, RegisteredNamedQueue, RegisteredQueue, RegisteredTasks } from './types.js';
