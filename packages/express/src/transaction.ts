import { begin, type CheckedOut, checkPool, endTransaction } from '@queue/core';
import type { RequestHandler, Response } from 'express';
import type pg from 'pg';
import { MissingPoolError } from './errors.js';

/**
 * Route middleware that opens a transaction and hands it to the route as `req.tx`. The
 * transaction ends with the response, before it is sent: a status below 400 commits, 400
 * and above (including Express' answer to a thrown error) rolls back. If COMMIT fails, or the
 * session was lost while the route ran, the route's answer is replaced by the error, passed
 * to your error handler, so a client never hears "created" for rows that were lost. Without
 * `pool`, it uses `req.queue`'s pool.
 */
export function transaction(pool?: pg.Pool): RequestHandler {
  if (pool !== undefined) checkPool(pool, 'transaction(pool)');
  return (req, res, next) => {
    const source = pool ?? req.queue?.pool;
    if (!source) return next(new MissingPoolError());
    begin(source).then((tx) => {
      req.tx = tx.client;
      endWithTransaction(res, tx, next);
      next();
    }, next);
  };
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
