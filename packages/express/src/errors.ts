import { QueueError } from '@queue/core';

/**
 * A queue already follows this app or server. One app gets one queue (a second would add a
 * second `req.queue` middleware and a second worker), and one queue follows one server
 * (its worker stops when that server closes). @queue/fastify throws the same error, with the
 * same code, for a plugin registered twice on one instance.
 */
export class AlreadyAttachedError extends QueueError {
  constructor(message: string) {
    super('QUEUE_ALREADY_ATTACHED', message);
  }
}

/** `transaction()` was given no pool and the request carries no `req.queue` to borrow one from. */
export class MissingPoolError extends QueueError {
  constructor() {
    super(
      'QUEUE_EXPRESS_NO_POOL',
      'transaction() has no pool: pass one, transaction(pool), or call createQueue(app, …) before ' +
        'registering this route so that req.queue is set',
    );
  }
}
