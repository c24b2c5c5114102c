// The same file ships in @queue/express, @queue/fastify and @queue/nest (each adapter stands
// alone and uses only core's public API); test/shared-copies.test.ts in @queue/express keeps
// the three copies identical.
import { ConfigError } from '@queue/core';
import type pg from 'pg';

/**
 * A client checked out of a pool, with an 'error' listener for exactly as long as it is out.
 *
 * pg-pool takes its own listener off a client while the client is checked out. When the
 * session ends in between two queries (Postgres restarts or fails over, `pg_terminate_backend`,
 * an idle-session timeout), pg emits 'error' on the client, and with nobody listening Node
 * ends the process. Here the first such error is kept as `lost`: queries on the client fail
 * from then on (pg marks it unusable), COMMIT is never sent, and `release` destroys the client
 * instead of pooling it.
 */
export interface CheckedOut {
  readonly client: pg.PoolClient;
  /** The error that ended the session while the client was out; undefined while it is sound. */
  readonly lost: Error | undefined;
  /**
   * Gives the client back to the pool and stops listening. It is destroyed instead when
   * `destroy` is true or its session was lost. Calls after the first do nothing.
   */
  release(destroy?: boolean): void;
}

export function checkOut(pool: pg.Pool): Promise<CheckedOut> {
  // The callback form, not `await pool.connect()`: pg-pool takes its idle listener off the
  // client when it hands it out, and the promise form gives us the client only a microtask
  // later. A session ended by a Postgres shutdown often reports 57P01 in the same network read
  // as the previous user's last answer, so the 'error' fired in that gap and killed the
  // process (the storm test saw it in 3 of 3 runs). The callback runs at the handover itself.
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) return reject(error ?? new Error('the pool gave no client'));
      let lost: Error | undefined;
      const onError = (e: Error) => {
        lost ??= e;
      };
      client.on('error', onError);
      let released = false;
      resolve({
        client,
        get lost() {
          return lost;
        },
        release(destroy = false) {
          if (released) return;
          released = true;
          client.off('error', onError);
          // pg-pool ends a client released with a truthy argument rather than pooling it.
          client.release(lost ?? destroy);
        },
      });
    });
  });
}

/** Checks a client out and opens a transaction on it. */
export async function begin(pool: pg.Pool): Promise<CheckedOut> {
  const tx = await checkOut(pool);
  try {
    await tx.client.query('BEGIN');
    return tx;
  } catch (error) {
    tx.release(true);
    throw error;
  }
}

/**
 * Ends the transaction and releases its client. COMMIT rejects when it fails or the session
 * was lost before it (then nothing was committed); ROLLBACK never rejects, since a session
 * that cannot roll back is dropped, and dropping it rolls back. After a failed COMMIT or
 * ROLLBACK the session's state is unknown, so the client is destroyed, not pooled.
 */
export async function endTransaction(tx: CheckedOut, outcome: 'COMMIT' | 'ROLLBACK'): Promise<void> {
  const lost = tx.lost;
  if (lost) {
    tx.release(true);
    if (outcome === 'COMMIT') throw lost;
    return;
  }
  try {
    await tx.client.query(outcome);
  } catch (error) {
    tx.release(true);
    if (outcome === 'COMMIT') throw error;
    return;
  }
  tx.release();
}

/**
 * Runs `fn` in a transaction on a client from `pool`: COMMIT when it resolves, ROLLBACK when
 * it throws (the error is rethrown). Pass the client to `enqueue(…, { client })` and the
 * jobs exist if and only if the rest of the transaction commits. If the session ends while
 * `fn` runs, the promise rejects (with `fn`'s error if it threw, else with the error that
 * ended the session), nothing is committed, and the client is destroyed, not pooled.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  checkPool(pool, 'withTransaction(pool, fn)');
  if (typeof fn !== 'function') throw new ConfigError('withTransaction(pool, fn): fn must be a function');
  const tx = await begin(pool);
  let result: T;
  try {
    result = await fn(tx.client);
  } catch (error) {
    await endTransaction(tx, 'ROLLBACK');
    throw error;
  }
  await endTransaction(tx, 'COMMIT');
  return result;
}

export function checkPool(pool: unknown, where: string): void {
  if (!pool || typeof (pool as pg.Pool).connect !== 'function') {
    throw new ConfigError(`${where}: pool must be a pg.Pool`);
  }
}
