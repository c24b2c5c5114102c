import { claimedCte } from '../sql/claim.js';
import type { Names } from '../sql/names.js';

/**
 * The limited claim's CTEs (a queue with flow limits), with the plain claim's parameters ($p
 * queue, $p+1 tasks, $p+2 held ids, $p+3 scan, $p+4 want), $s the slot keys this session
 * holds already (advisory locks are re-entrant: flow_lock() must not take them again), and
 * $release / $announce the finished jobs' slots and their queues (see flow_lock()).
 *
 * - `lim` reads the queue's settings once: a queue with a per-key limit (or `fair`) is claimed
 *   round-robin across keys, else in the plain claim's order.
 * - `keys` walks the keys with live jobs by a skip scan of jobs_flow_idx (one index probe per
 *   key), at most `scan` of them, starting after $cursor (the last key the worker's previous
 *   claim of this queue walked) and wrapping around: each claim costs O(scan), not O(keys), and
 *   successive claims go round every key (1,000 keys at limit 1 drained at 46% of the plain
 *   drain walking every key per claim). Then `candidates` takes each key's next jobs in claim order (at most min(want, the
 *   per-key limit) per key, since no more could start), then orders them by their rank within
 *   their key first: every key's first job, then every key's second, and so on. A tenant with
 *   100,000 jobs queued ahead puts one job before a new tenant's first, not 100,000. Jobs without
 *   a key in such a queue are found in the first `scan` jobs of the queue's plain order.
 * - `locked` hands the candidates, in that order, to flow_lock() (migration 0012), which takes
 *   each job's lock and its slots lazily and stops at `want` jobs or at a full limit; the last
 *   row it returns (id NULL) says whether a limit stopped it and when the rate lets more start.
 */
export function flowClaimCtes(
  n: Names,
  p: number,
  s: number,
  release: number,
  announce: number,
  cursor: number,
): string {
  const [queue, tasks, held, scan, want] = [p, p + 1, p + 2, p + 3, p + 4].map((i) => `$${i}`);
  const due = `j.failed_at IS NULL AND j.run_at <= now() AND j.task = ANY(${tasks}::text[])
          AND j.id <> ALL(${held}::bigint[])`;
  return `lim AS MATERIALIZED (
      SELECT coalesce(bool_or(l.flow_fair OR l.flow_key_concurrency IS NOT NULL), false) AS keyed,
        coalesce(bool_or(l.paused_at IS NOT NULL), false) AS paused,
        least(${want}::int, coalesce(min(l.flow_key_concurrency), ${want}::int)) AS per_key
      FROM ${n.q}.queues l WHERE l.name = ${queue}::text
    ), keys_after AS MATERIALIZED (
      WITH RECURSIVE k(key, n) AS (
        (SELECT j.concurrency_key, 1 FROM ${n.q}.jobs j
         WHERE j.queue = ${queue}::text AND j.concurrency_key > coalesce($${cursor}::text, '') AND j.failed_at IS NULL
           AND (SELECT keyed AND NOT paused FROM lim)
         ORDER BY j.concurrency_key LIMIT 1)
        UNION ALL
        SELECT (SELECT j.concurrency_key FROM ${n.q}.jobs j
          WHERE j.queue = ${queue}::text AND j.concurrency_key > k.key AND j.failed_at IS NULL
          ORDER BY j.concurrency_key LIMIT 1), k.n + 1
        FROM k WHERE k.key IS NOT NULL AND k.n < ${scan}::int
      )
      SELECT key FROM k WHERE key IS NOT NULL
    ), keys_before AS MATERIALIZED (
      WITH RECURSIVE k(key, n) AS (
        (SELECT j.concurrency_key, 1 FROM ${n.q}.jobs j
         WHERE j.queue = ${queue}::text AND j.concurrency_key > '' AND j.failed_at IS NULL AND j.concurrency_key <= $${cursor}::text
           AND (SELECT keyed AND NOT paused FROM lim)
         ORDER BY j.concurrency_key LIMIT 1)
        UNION ALL
        SELECT (SELECT j.concurrency_key FROM ${n.q}.jobs j
          WHERE j.queue = ${queue}::text AND j.concurrency_key > k.key AND j.failed_at IS NULL AND j.concurrency_key <= $${cursor}::text
          ORDER BY j.concurrency_key LIMIT 1), k.n + 1
        FROM k WHERE k.key IS NOT NULL AND k.n < ${scan}::int - (SELECT count(*) FROM keys_after)
      )
      SELECT key FROM k WHERE key IS NOT NULL
    ), keys AS (
      SELECT key FROM keys_after UNION ALL SELECT key FROM keys_before WHERE (SELECT count(*) FROM keys_after) < ${scan}::int
    ), candidates AS MATERIALIZED (
      SELECT c.id, c.key, row_number() OVER (ORDER BY c.rn, c.priority, c.run_at, c.id) AS ord
      FROM (
        SELECT x.id, x.key, x.priority, x.run_at, x.rn FROM keys, LATERAL (
          SELECT y.*, row_number() OVER () AS rn FROM (
            SELECT j.id, j.concurrency_key AS key, j.priority, j.run_at FROM ${n.q}.jobs j
            WHERE j.queue = ${queue}::text AND j.concurrency_key = keys.key AND ${due}
            ORDER BY j.priority, j.run_at, j.id LIMIT (SELECT per_key FROM lim)) y
        ) x
        UNION ALL
        SELECT w.id, w.key, w.priority, w.run_at, 1 FROM (
          SELECT j.id, j.concurrency_key AS key, j.priority, j.run_at FROM ${n.q}.jobs j
          WHERE j.queue = ${queue}::text AND ${due} AND (SELECT NOT paused FROM lim)
          ORDER BY j.priority, j.run_at, j.id LIMIT ${scan}::int) w
        WHERE w.key IS NULL OR NOT (SELECT keyed FROM lim)
      ) c
      ORDER BY c.rn, c.priority, c.run_at, c.id
      LIMIT ${scan}::int
    ), locked AS MATERIALIZED (
      SELECT f.* FROM (
        SELECT array_agg(c.id ORDER BY c.ord) AS ids, array_agg(c.key ORDER BY c.ord) AS keys FROM candidates c
      ) a, ${n.q}.flow_lock(${queue}::text, coalesce(a.ids, '{}'), coalesce(a.keys, '{}'), ${want}::int,
        $${s}::bigint[], ${n.lockMask}, $${release}::bigint[], $${announce}::text[], ${n.channelLiteral}) f
      WHERE ${queue}::text IS NOT NULL
    ), ${claimedCte(
      n,
      'SELECT id FROM locked WHERE id IS NOT NULL',
      '(SELECT coalesce(max(at), now()) FROM locked)',
    )}`;
}
