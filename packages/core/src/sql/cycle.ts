import { claimCtes } from './claim.js';
import { finishCtes, unlockAfter } from './finish.js';
import type { Names } from './names.js';

/**
 * One worker cycle, in one statement and so one transaction and one commit: record the
 * outcomes of finished jobs and release their locks ($1..$11, see finishCtes), and claim the
 * next jobs of one queue ($12..$16, see claimCtes; a NULL queue claims nothing). Halving the
 * round trips and commits per batch is most of the worker's throughput.
 *
 * Every row carries the finish's results; there is always at least one row, because
 * `scanned` (how many candidates the claim saw) is selected from an aggregate. When
 * `scanned` is below the scan limit, the claim saw every due job of the queue.
 */
export function cycleSql(n: Names): string {
  return `WITH ${finishCtes(n)}, ${claimCtes(n, 12)}
    SELECT sc.scanned, l.id::text AS locked_id, c.*, pg_backend_pid() AS backend_pid,
      ${unlockAfter(n, ['done', 'failed'])} AS unlocked,
      (SELECT coalesce(json_agg(failed), '[]') FROM failed) AS failed_rows
    FROM (SELECT count(*)::int AS scanned FROM candidates) sc
    LEFT JOIN (locked l LEFT JOIN claimed c ON c.id = l.id::text) ON true`;
}
