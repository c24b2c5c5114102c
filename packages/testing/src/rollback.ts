import type { Queue } from '@queue/core';
import type pg from 'pg';

/**
 * Runs `fn` in a transaction on one client of `db` (a pg.Pool, or a Queue's pool) and always
 * rolls it back: whatever `fn` wrote, jobs enqueued with `{ client }` included, is gone
 * afterwards, and workers never saw it (their wake-up is dropped with the rollback). Returns
 * what `fn` returned; rethrows what it threw, after the rollback.
 */
export async function withRollback<T>(
  db: pg.Pool | Queue<any>,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const pool: pg.Pool = 'enqueue' in db ? db.pool : db;
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    return await fn(client);
  } finally {
    try {
      await client.query('ROLLBACK');
    } catch (error) {
      // A client whose session failed goes back destroyed, not to the next test.
      broken = error;
    }
    client.release(broken instanceof Error ? broken : undefined);
  }
}
