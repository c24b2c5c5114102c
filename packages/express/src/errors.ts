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

/**
 * `req.tx` was read on a request that no `transaction()` opened a transaction for. Reading it
 * throws rather than giving `undefined`, because `enqueue(…, { client: undefined })` is a
 * valid call that enqueues outside any transaction: the job would survive the route's ROLLBACK.
 */
export class NoTransactionError extends QueueError {
  constructor() {
    super(
      'QUEUE_NO_TRANSACTION',
      'req.tx is only set on routes that use transaction(): wrap the handler in it, e.g. ' +
        "app.post('/signup', transaction(async (req, res) => { … })), or add it before the handler, " +
        "app.post('/signup', transaction(), handler)",
    );
  }
}

/**
 * A route or middleware that Express runs before `createQueue`'s middleware: it would see no
 * `req.queue`. Thrown by `createQueue` when the app already has routes, and when a request
 * reads `req.queue` before the middleware set it (a router mounted before `createQueue` that
 * got its routes later, a middleware registered before it).
 */
export class QueueAfterRoutesError extends QueueError {
  constructor(detail: string) {
    super(
      'QUEUE_AFTER_ROUTES',
      `createQueue(app, …) must run before the routes that use req.queue: call it right after express() (${detail})`,
    );
  }
}
