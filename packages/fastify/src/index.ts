import { fastifyQueue } from './plugin.js';

export { fastifyQueue };
export default fastifyQueue;
export type { AdapterBehaviour, AdapterWorkerOptions } from '@queue/core';
export { SchemaNotMigratedError, withTransaction } from '@queue/core';
export { AlreadyAttachedError } from './errors.js';
export type { FastifyQueueOptions } from './options.js';
export type { Register, RegisteredQueue, RegisteredTasks } from './types.js';
