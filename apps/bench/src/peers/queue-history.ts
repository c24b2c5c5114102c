import type pg from 'pg';

/** @queue's history switch for the bench: retention on the bench's queue, and the partitions history goes to. */

export const SCHEMA = 'queue';
/** @queue's default queue, where the bench's jobs go. */
export const QUEUE = 'default';
/** History partitions made ahead: the current UTC hour and the next ones (a full run takes ~10 min). */
const HOURS_AHEAD = 3;

/**
 * Hourly history partitions for the current UTC hour and the next few, named as the
 * maintenance run names them (job_history_pYYYYMMDDHH). Until core's maintenance module
 * makes them, every history row would land in the DEFAULT partition; the bench makes them
 * itself so the history drain measures the layout a running system has. Idempotent; an
 * hour already covered by a partition under another name (a newer core's maintenance) is
 * left to it.
 */
export const PARTITIONS_SQL = `DO $$
  DECLARE h timestamptz;
  BEGIN
    FOR i IN 0..${HOURS_AHEAD} LOOP
      h := date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + i * interval '1 hour';
      BEGIN
        EXECUTE format('CREATE TABLE IF NOT EXISTS ${SCHEMA}.%I PARTITION OF ${SCHEMA}.job_history FOR VALUES FROM (%L) TO (%L)',
          'job_history_p' || to_char(h AT TIME ZONE 'UTC', 'YYYYMMDDHH24'), h, h + interval '1 hour');
      EXCEPTION WHEN invalid_object_definition THEN NULL; -- overlaps a partition named otherwise
      END;
    END LOOP;
  END $$`;

/**
 * History on: the queue's retention back to the default (keep NULL: a day). Off: keep '0',
 * the finish writes no history row: "history off", the state every workload but `history`
 * runs in, so their figures compare with those from before job history and with
 * graphile-worker, which deletes completed jobs.
 */
export async function keepHistory(db: pg.Pool | pg.Client, on: boolean): Promise<void> {
  if (on) await db.query(PARTITIONS_SQL);
  await db.query(
    `INSERT INTO ${SCHEMA}.queues (name, keep) VALUES ($1, $2::interval)
     ON CONFLICT (name) DO UPDATE SET keep = excluded.keep`,
    [QUEUE, on ? null : '0'],
  );
}
