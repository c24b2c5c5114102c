import { fastifyQueue } from './plugin.js';

export { fastifyQueue };
export default fastifyQueue;
export { FastifyQueueConfigError } from './errors.js';
export type { FastifyQueueOptions } from './options.js';
export type { FastifyQueueTypes, RegisteredTasks } from './types.js';
