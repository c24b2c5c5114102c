import { fastifyQueue } from './plugin.js';

export { fastifyQueue };
export default fastifyQueue;
export { withTransaction } from './checkout.js';
export { FastifyQueueConfigError } from './errors.js';
export type { FastifyQueueOptions } from './options.js';
export type { FastifyQueueTypes, RegisteredTasks } from './types.js';
