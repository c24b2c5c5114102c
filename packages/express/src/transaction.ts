import { begin, type CheckedOut, ConfigError, checkPool, endTransaction } from '@queue/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { MissingPoolError } from './errors.js';
import { setOnRequest } from './request-guards.js';

/**
 * The request a `transaction(handler)` handler gets: Express' request, plus `tx`, the client
 * of the request's transaction. Its type parameters are Express' own `Request`'s.
 */
export type TxRequest<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
> = Request<P, ResBody, ReqBody, ReqQuery, Locals> & {
  /**
   * The request's transaction: committed or rolled back with the response. Pass it as
   * `enqueue(…, { client: req.tx })`. Only until the route answers: then it is back in the pool.
   */
  readonly tx: pg.PoolClient;
};

/** A route handler that runs inside the request's transaction (`transaction(handler)`). */
export type TxHandler<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
> = (
  req: TxRequest<P, ResBody, ReqBody, ReqQuery, Locals>,
  res: Response<ResBody, Locals>,
  next: NextFunction,
) => unknown;

/**
 * Opens a transaction for the request and ends it with the response, before the response is
 * sent: a status below 400 commits, 400 and above (including Express' answer to a thrown
 * error) rolls back. If COMMIT fails, or the session was lost while the route ran, the route's
 * answer is replaced by the error, passed to your error handler, so a client never hears
 * "created" for rows that were lost. Without `pool`, it uses `req.queue`'s pool.
 *
 * `transaction(handler)`, the typed form: runs `handler` in the transaction with `req.tx`
 * typed as a `PoolClient`, and passes its rejection or throw to `next` (on Express 4 too).
 *
 * `transaction()`, the middleware form: sets `req.tx` for the handlers after it. Express'
 * route types cannot carry what a middleware adds, so in TypeScript those handlers do not see
 * `req.tx`; use the handler form there.
 */
export function transaction(pool?: pg.Pool): RequestHandler;
export function transaction<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
>(
  handler: TxHandler<P, ResBody, ReqBody, ReqQuery, Locals>,
): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals>;
export function transaction<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
>(
  pool: pg.Pool,
  handler: TxHandler<P, ResBody, ReqBody, ReqQuery, Locals>,
): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals>;
export function transaction(first?: pg.Pool | TxHandler, second?: TxHandler): RequestHandler {
  const pool = typeof first === 'function' ? undefined : first;
  const handler = typeof first === 'function' ? first : second;
  if (pool !== undefined) checkPool(pool, 'transaction(pool)');
  if (typeof first === 'function' && second !== undefined) {
    throw new ConfigError('transaction(handler): the pool comes first, transaction(pool, handler)');
  }
  if (handler !== undefined && typeof handler !== 'function') {
    throw new ConfigError('transaction(pool, handler): handler must be a function (req, res, next) => …');
  }
  return (req, res, next) => {
    const source = pool ?? queuePool(req);
    if (!source) return next(new MissingPoolError());
    begin(source).then((tx) => {
      setOnRequest(req, 'tx', tx.client);
      endWithTransaction(res, tx, next);
      if (!handler) return next();
      try {
        const result = handler(req as TxRequest, res, next);
        if (isThenable(result)) result.then(undefined, next);
      } catch (error) {
        next(error);
      }
    }, next);
  };
}

/** `req.queue`'s pool, or undefined where createQueue's middleware has not set `req.queue`. */
function queuePool(req: Request): pg.Pool | undefined {
  try {
    return req.queue?.pool;
  } catch {
    return undefined; // the req.queue guard: MissingPoolError names the same fix and the other one
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Makes `res.end` wait for COMMIT/ROLLBACK (what express-session does to save a session first). */
function endWithTransaction(res: Response, tx: CheckedOut, next: (error: unknown) => void): void {
  const end = res.end;
  let open = true;
  const finish = () => {
    open = false;
    res.end = end;
  };
  res.end = function (this: Response, ...args: unknown[]) {
    if (!open) return (end as (...a: unknown[]) => Response).apply(this, args);
    finish();
    const send = () => (end as (...a: unknown[]) => Response).apply(res, args);
    // Rolling back never fails the answer: a session that cannot roll back is dropped, which rolls back.
    if (res.statusCode >= 400) {
      void endTransaction(tx, 'ROLLBACK').then(send);
      return res;
    }
    endTransaction(tx, 'COMMIT').then(send, (error: unknown) => {
      if (res.headersSent) {
        // A streamed response is already on its way: cut it off rather than let it look complete.
        res.destroy(error as Error);
        return;
      }
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      next(error);
    });
    return res;
  } as Response['end'];
  // The client went away before the route answered: end the session, which rolls back, and
  // keep the connection out of the pool in case the route is still using it.
  res.once('close', () => {
    if (!open) return;
    finish();
    tx.release(true);
  });
}
