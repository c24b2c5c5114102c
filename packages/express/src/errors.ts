import { QueueError } from '@queue/core';

/**
 * A queue already follows this app or server. One app gets one queue (a second would add a
 * second `req.queue` middleware and a second worker), and one queue follows one server
 * (its worker stops when that server closes).
 */
export class AlreadyAttachedError extends QueueError {
  constructor(message: string) {
    super('QUEUE_EXPRESS_ALREADY_ATTACHED', message);
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

/** The queue was closed before its server listened: from `ready()`, `attach` and `app.listen`. */
export class QueueClosedError extends QueueError {
  constructor() {
    super('QUEUE_EXPRESS_CLOSED', 'the queue was closed before its server started listening');
  }
}
