import { fastifyQueue } from './plugin.js';

export { fastifyQueue };
export default fastifyQueue;
export type { AdapterBehaviour, AdapterWorkerOptions } from './adapter-options.js';
export { NotMigratedError } from './adapter-options.js';
export { withTransaction } from './checkout.js';
export { AlreadyAttachedError } from './errors.js';
export type { FastifyQueueOptions } from './options.js';
export type { Register, RegisteredQueue, RegisteredTasks } from './types.js';
