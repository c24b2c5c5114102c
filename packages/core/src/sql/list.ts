import { JOB_STATE, lockedIdsSql } from './admin.js';
import type { Names } from './names.js';
import { JOB_COLUMNS } from './rows.js';

/** Epoch milliseconds, as JOB_COLUMNS gives times. */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * A history row with the columns of a live job (JOB_COLUMNS; no failed_at: a failed job stays
 * in jobs) and what only the history has. `finished_key` is finished_at to the microsecond in
 * UTC ISO form, for the keyset cursor: epoch milliseconds would round, and the session's
 * DateStyle must not change it.
 */
const HISTORY_COLUMNS = (a: string) =>
  `${a}.id::text AS id, ${a}.task, ${a}.queue, ${a}.payload, ${a}.priority, ${ms(`${a}.run_at`)} AS run_at,
   ${a}.attempts, ${a}.max_attempts, ${a}.errors, NULL::float8 AS failed_at,
   ${ms(`${a}.created_at`)} AS created_at, ${ms(`${a}.started_at`)} AS started_at, ${a}.tags, ${a}.meta,
   ${a}.outcome, ${a}.result, ${a}.progress, ${ms(`${a}.finished_at`)} AS finished_at, ${a}.worker,
   to_char(${a}.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS finished_key`;

/**
 * A finished job by id, for getJob() once the live table has no such job. The history may
 * hold several rows for one id (a job retried after it finished): the latest. OFFSET 0 keeps
 * the lookup on job_history_id_idx: with the ORDER BY and LIMIT in view, the planner preferred
 * walking each partition's finished_at index, ~40 ms over 600,000 rows instead of ~1.
 *
 * A statement of its own rather than a branch of the live lookup: the planner opens every
 * partition of the history to plan it, even when that branch would not run: looking up a live
 * job cost four times as much (0.8 -> 3.3 ms, medians, 51 partitions holding 600,000 rows; the
 * history lookup alone takes 2.1 ms).
 */
export function getFinishedJobSql(n: Names): string {
  return `SELECT ${HISTORY_COLUMNS('h')}
    FROM (SELECT * FROM ${n.q}.job_history WHERE id = $1::bigint OFFSET 0) h
    ORDER BY h.finished_at DESC LIMIT 1`;
}

/** The checked filters of one listJobs call; every part but `limit` and `desc` may be null. */
export interface ListQuery {
  /** A live state, or 'completed' / 'cancelled' (the history). */
  state: string | null;
  history: boolean;
  queue: string | null;
  task: string | null;
  /** Jobs having all of these. */
  tags: string[] | null;
  /** JSON text: contained in the payload or in meta. */
  search: string | null;
  /** JSON text: contained in meta. */
  meta: string | null;
  desc: boolean;
  /** Keyset: rows past this one in the listing's order (history: finished_at as ISO text, and id). */
  after: { id: string; finishedAt?: string } | null;
  /** Rows to fetch: one more than the page, to know whether another follows. */
  limit: number;
}

/**
 * The statement for one page. Only the filters given are in it, so that each one can use its
 * index: a partial index (the tag and meta GIN indexes) is only considered when the query
 * implies its predicate, hence the explicit `<> '{}'` next to each containment.
 *
 * Live jobs are ordered by id, as before: a page is a range scan of the primary key. History
 * rows by (finished_at, id), which job_history_finished_idx and job_history_queue_idx serve in
 * every partition; the hourly partitions are merged (Merge Append, or an ordered Append once
 * the DEFAULT partition is pruned), so a page reads about `limit` rows of the newest (or
 * oldest) partitions and never sorts the table. The redundant bound on finished_at alone lets
 * the planner prune the partitions past the cursor, which the row comparison does not.
 */
export function listJobsSql(n: Names, q: ListQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const a = q.history ? 'h' : 'j';
  const where: string[] = [];
  if (q.queue !== null) where.push(`${a}.queue = ${param(q.queue, 'text')}`);
  if (q.task !== null) where.push(`${a}.task = ${param(q.task, 'text')}`);
  if (q.tags !== null) where.push(`${a}.tags @> ${param(q.tags, 'text[]')} AND ${a}.tags <> '{}'`);
  if (q.meta !== null) where.push(`${a}.meta @> ${param(q.meta, 'jsonb')} AND ${a}.meta <> '{}'`);
  if (q.search !== null) {
    const s = param(q.search, 'jsonb');
    where.push(`(${a}.payload @> ${s} OR ${a}.meta @> ${s})`);
  }
  const dir = q.desc ? 'DESC' : 'ASC';
  const cmp = q.desc ? '<' : '>';
  if (q.history) {
    if (q.state !== null) where.push(`h.outcome = ${param(q.state, 'text')}`);
    if (q.after) {
      const f = param(q.after.finishedAt, 'timestamptz');
      where.push(`(h.finished_at, h.id) ${cmp} (${f}, ${param(q.after.id, 'bigint')})`);
      where.push(`h.finished_at ${cmp}= ${f}`);
    }
    return {
      text: `SELECT ${HISTORY_COLUMNS('h')}, h.outcome AS state FROM ${n.q}.job_history h
        ${whereClause(where)}
        ORDER BY h.finished_at ${dir}, h.id ${dir} LIMIT ${param(q.limit, 'int')}`,
      values,
    };
  }
  if (q.state !== null) where.push(LIVE_STATE[q.state] as string);
  if (q.after) where.push(`j.id ${cmp} ${param(q.after.id, 'bigint')}`);
  // The lock table is read once, before the scan: the state of every row needs it.
  return {
    text: `WITH r AS MATERIALIZED (${lockedIdsSql(n)})
      SELECT ${JOB_COLUMNS('j')}, ${JOB_STATE} AS state
      FROM ${n.q}.jobs j LEFT JOIN r ON r.id = j.id
      ${whereClause(where)}
      ORDER BY j.id ${dir} LIMIT ${param(q.limit, 'int')}`,
    values,
  };
}

/** Each live state as a condition on a job `j` and its lock holder `r` (see JOB_STATE). */
const LIVE_STATE: Record<string, string> = {
  failed: 'j.failed_at IS NOT NULL',
  scheduled: 'j.failed_at IS NULL AND j.run_at > now() AND r.id IS NULL',
  available: 'j.failed_at IS NULL AND j.run_at <= now() AND r.id IS NULL',
  running: 'j.failed_at IS NULL AND r.id IS NOT NULL',
};

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
