import type pg from 'pg';

/**
 * @queue's history switch for the bench: retention on the bench's queue. The hourly partitions
 * history goes to are made by core's migrate() and its maintenance, as in a running system.
 */

export const SCHEMA = 'queue';
/** @queue's default queue, where the bench's jobs go. */
export const QUEUE = 'default';
/**
 * History on: the queue's retention back to the default (keep NULL: a day). Off: keep '0',
 * the finish writes no history row: "history off", the state every workload but `history`
 * runs in, so their figures compare with those from before job history and with
 * graphile-worker, which deletes completed jobs.
 */
export async function keepHistory(db: pg.Pool | pg.Client, on: boolean): Promise<void> {
  await db.query(
    `INSERT INTO ${SCHEMA}.queues (name, keep) VALUES ($1, $2::interval)
     ON CONFLICT (name) DO UPDATE SET keep = excluded.keep`,
    [QUEUE, on ? null : '0'],
  );
}
