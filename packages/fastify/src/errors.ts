import { QueueError } from '@queue/core';

/**
 * The plugin was registered with options that cannot work together. Thrown while Fastify
 * loads plugins, so `ready()`/`listen()` rejects with it before any request is served.
 */
export class FastifyQueueConfigError extends QueueError {
  constructor(message: string) {
    super('QUEUE_FASTIFY_CONFIG', `@queue/fastify: ${message}`);
  }
}
