import { ConfigError } from '@queue/core';
import type { RequestHandler, Response } from 'express';
import type pg from 'pg';
import { MissingPoolError } from './errors.js';

/**
 * Runs `fn` in a transaction on a client from `pool`: COMMIT when it resolves, ROLLBACK when
 * it throws (the error is rethrown). Pass the client to `enqueue(…, { client })` and the
 * jobs exist if and only if the rest of the transaction commits.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  checkPool(pool, 'withTransaction(pool, fn)');
  if (typeof fn !== 'function') throw new ConfigError('withTransaction(pool, fn): fn must be a function');
  const client = await begin(pool);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // After a failed ROLLBACK (or COMMIT) the session's state is unknown: drop it, don't pool it.
    const clean = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(!clean);
    throw error;
  }
}

/**
 * Route middleware that opens a transaction and hands it to the route as `req.tx`. The
 * transaction ends with the response, before it is sent: a status below 400 commits, 400
 * and above (including Express' answer to a thrown error) rolls back. If COMMIT fails the
 * route's answer is replaced by the error, passed to your error handler, so a client never
 * hears "created" for rows that were lost. Without `pool`, it uses `req.queue`'s pool.
 */
export function transaction(pool?: pg.Pool): RequestHandler {
  if (pool !== undefined) checkPool(pool, 'transaction(pool)');
  return (req, res, next) => {
    const source = pool ?? req.queue?.pool;
    if (!source) return next(new MissingPoolError());
    begin(source).then((client) => {
      req.tx = client;
      endWithTransaction(res, client, next);
      next();
    }, next);
  };
}

/** Makes `res.end` wait for COMMIT/ROLLBACK (what express-session does to save a session first). */
function endWithTransaction(res: Response, client: pg.PoolClient, next: (error: unknown) => void): void {
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
    const commit = res.statusCode < 400;
    client.query(commit ? 'COMMIT' : 'ROLLBACK').then(
      () => {
        client.release();
        send();
      },
      (error: unknown) => {
        // A session whose COMMIT or ROLLBACK failed is in an unknown state: drop it.
        client.release(true);
        // Dropping the session rolls back too, so a failed ROLLBACK loses nothing.
        if (!commit) return send();
        if (res.headersSent) {
          // A streamed response is already on its way: cut it off rather than let it look complete.
          res.destroy(error as Error);
          return;
        }
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        next(error);
      },
    );
    return res;
  } as Response['end'];
  // The client went away before the route answered: end the session, which rolls back, and
  // keep the connection out of the pool in case the route is still using it.
  res.once('close', () => {
    if (!open) return;
    finish();
    client.release(true);
  });
}

async function begin(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    return client;
  } catch (error) {
    client.release(true);
    throw error;
  }
}

function checkPool(pool: unknown, where: string): void {
  if (!pool || typeof (pool as pg.Pool).connect !== 'function') {
    throw new ConfigError(`${where}: pool must be a pg.Pool`);
  }
}
