import { flowClaimCtes } from '../flow/claim-sql.js';
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
      ${unlockAfter(n, ['done', 'kept', 'failed', 'notified'])} AS unlocked,${cycleTail('')}`;
}

/**
 * The cycle of a worker with flow limits (flow/*): the same, plus $20 the slot keys of the
 * finished jobs, released with them; $21 the slot keys this session still holds (see
 * flowClaimCtes, whose claim replaces the plain one); $22 the limited queues whose jobs
 * finished, announced on the jobs channel (unless the claim took every freed slot back) so
 * that workers waiting on a full limit try again: a freed slot is not otherwise announced;
 * $23 the last key the worker's previous claim of the queue walked (see flowClaimCtes), and the
 * first row's `cursor` the last this one walked. The first row also carries what the
 * limited claim locked with each job's slots (`flow_locked`), whether a limit stopped it
 * (`flow_limited`) and when the rate limit lets more start (`flow_wait_ms`).
 */
export function flowCycleSql(n: Names): string {
  const gate = ['done', 'kept', 'failed', 'notified'].map((c) => `(SELECT count(*) FROM ${c})`).join(' + ');
  return `WITH ${finishCtes(n)}, ${flowClaimCtes(n, 12, 21, 20, 22, 23)}
    SELECT sc.scanned, c.*, pg_backend_pid() AS backend_pid,
      ${unlockAfter(n, ['done', 'kept', 'failed', 'notified'])} AS unlocked,
      -- Without a claim, the freed slots are unlocked and announced here; with one, flow_lock()
      -- does it first, so that the claim may take them again.
      (SELECT count(pg_advisory_unlock(s.key))::int FROM unnest($20::bigint[]) AS s(key)
        WHERE ${gate} >= 0 AND $12::text IS NULL) AS slots_unlocked,
      (SELECT count(pg_notify(${n.channelLiteral}, json_build_object('q', x.q, 'd', 0)::text))::int
        FROM unnest($22::text[]) AS x(q) WHERE $12::text IS NULL) AS announced,
      CASE WHEN row_number() OVER () = 1 THEN (SELECT json_build_object(
        'locked', coalesce(json_agg(json_build_object('id', l.id::text, 'slots', l.slots::text[]))
          FILTER (WHERE l.id IS NOT NULL), '[]'),
        'limited', coalesce(bool_or(l.limited), false),
        'wait_ms', min(l.wait_ms),
        'cursor', coalesce((SELECT max(b.key) FROM keys_before b WHERE (SELECT count(*) FROM keys_after) < $15::int),
          (SELECT max(a.key) FROM keys_after a))) FROM locked l) END AS flow,${cycleTail(' WHERE l.id IS NOT NULL')}`;
}

const cycleTail = (lockedFilter: string) => `
      -- The arrays go out on the first row only: repeated on every row, the client would
      -- parse them once per claimed job.
      CASE WHEN row_number() OVER () = 1 THEN sc.locked_ids END AS locked_ids,
      CASE WHEN row_number() OVER () = 1
        THEN (SELECT coalesce(json_agg(json_build_object('id', f.id, 'dead', f.dead, 'run_at', f.run_at,
          'delay_ms', f.delay_ms)), '[]') FROM failed f) END
        AS failed_rows
    FROM (
      SELECT count(*)::int AS scanned,
        (SELECT coalesce(array_agg(l.id::text), '{}') FROM locked l${lockedFilter}) AS locked_ids
      FROM candidates
    ) sc
    LEFT JOIN claimed c ON true`;
