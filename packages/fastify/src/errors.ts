import { QueueError } from '@queue/core';

/**
 * The plugin is registered twice on one instance (a second `fastify.queue` and a second
 * worker). Thrown while Fastify loads plugins, so `ready()`/`listen()` rejects with it. The
 * same error, with the same code, as @queue/express throws for `createQueue` twice on one app.
 */
export class AlreadyAttachedError extends QueueError {
  constructor(message: string) {
    super('QUEUE_ALREADY_ATTACHED', message);
  }
}
