import { claimCtes } from './claim.js';
import { finishCtes, unlockAfter } from './finish.js';
import type { Names } from './names.js';

/**
 * One worker cycle, in one statement and so one transaction and one commit: record the
 * outcomes of finished jobs and release their locks ($1..$11 and $17..$19, see finishCtes),
 * and claim the next jobs of one queue ($12..$16, see claimCtes; a NULL queue claims nothing). Halving the
 * round trips and commits per batch is most of the worker's throughput.
 *
 * One row per claimed job, or a single row of NULL job columns when none was claimed;
 * the first row carries the finish's results and every id the claim locked (`locked_ids`:
 * those not claimed were completed or rescheduled meanwhile, and the caller unlocks them);
 * every row says how many candidates the claim saw (`scanned`: below the scan limit means
 * it saw every due job of the queue). The locked ids come back as one array rather than joined to the claimed
 * rows: the planner estimates one row per CTE, and the nested-loop join it picks cost
 * O(batch^2) comparisons, 45 of 48 ms for a batch of 500.
 */
export function cycleSql(n: Names): string {
  return `WITH ${finishCtes(n)}, ${claimCtes(n, 12)}
    SELECT sc.scanned, c.*, pg_backend_pid() AS backend_pid,
      ${unlockAfter(n, ['done', 'kept', 'failed', 'notified'])} AS unlocked,
      -- The arrays go out on the first row only: repeated on every row, the client would
      -- parse them once per claimed job.
      CASE WHEN row_number() OVER () = 1 THEN sc.locked_ids END AS locked_ids,
      CASE WHEN row_number() OVER () = 1
        THEN (SELECT coalesce(json_agg(json_build_object('id', f.id, 'dead', f.dead, 'run_at', f.run_at,
          'delay_ms', f.delay_ms)), '[]') FROM failed f) END
        AS failed_rows
    FROM (
      SELECT count(*)::int AS scanned,
        (SELECT coalesce(array_agg(l.id::text), '{}') FROM locked l) AS locked_ids
      FROM candidates
    ) sc
    LEFT JOIN claimed c ON true`;
}
