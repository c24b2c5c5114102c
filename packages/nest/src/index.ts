export { withTransaction } from './checkout.js';
export type { TaskDecoratorOptions } from './decorators.js';
export { InjectQueue, InjectWorker, Processor, QUEUE, QUEUE_WORKER, Task } from './decorators.js';
export type { ProcessorErrorCode } from './errors.js';
export { DuplicateTaskError, ProcessorDefinitionError } from './errors.js';
export { nestLogger } from './logger.js';
export type { QueueModuleAsyncOptions, QueueModuleOptions, QueueOptionsFactory } from './options.js';
export { QUEUE_MODULE_OPTIONS } from './options.js';
export { QueueModule } from './queue.module.js';
